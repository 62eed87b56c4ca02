package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
)

// fleetScenario is four days of a small fleet: the spike host, a host that
// later sends 40 MB to a new server, ten hosts sharing a SaaS server, and a
// late record.
func fleetScenario() []flow.Record {
	recs := background("10.1.2.3", 0, 76)
	recs = append(recs, burst("10.1.2.3", "203.0.113.9", 1_200_000_000, 6, at(74, 13, 0), "files.example.net")...)
	recs = append(recs, background("10.1.2.4", 0, 76)...)
	recs = append(recs, burst("10.1.2.4", "203.0.113.50", 40_000_000, 4, at(75, 40, 0), "")...)
	recs = append(recs, popular(10, "198.51.100.7")...)
	recs = append(recs, burst("10.1.2.4", "198.51.100.7", 30_000_000, 3, at(74, 13, 0), "saas.example.com")...)
	return recs
}

// Saving, stopping and starting a new engine on the same store at any
// point gives the same alerts as one uninterrupted run.
func TestRestartEquivalence(t *testing.T) {
	recs := fleetScenario()
	end := at(76, 0, 0)
	whole, _ := newEngine(t, testConfig(), nil)
	want := feed(t, whole, recs, t0, end)
	want = append(want, whole.Flush()...)
	if len(want) != 2 {
		t.Fatalf("scenario gives %d alerts, want 2: %s", len(want), toJSON(t, want))
	}
	for _, split := range []time.Time{
		at(1, 0, 0),    // learning
		at(30, 17, 0),  // mid-window
		at(74, 0, 0),   // on a window boundary
		at(74, 14, 0),  // evidence pending in the group
		at(75, 41, 0),  // second host's evidence pending
		at(75, 59, 30), // after both
	} {
		t.Run(split.Format("Jan 2 15:04"), func(t *testing.T) {
			store := mapStore{}
			first, _ := newEngine(t, testConfig(), store)
			got := feed(t, first, recs, t0, split)
			if err := first.Save(); err != nil {
				t.Fatal(err)
			}
			second, _ := newEngine(t, testConfig(), store)
			got = append(got, feed(t, second, recs, split, end)...)
			got = append(got, second.Flush()...)
			if g, w := toJSON(t, got), toJSON(t, want); g != w {
				t.Fatalf("after restart:\n%s\nuninterrupted:\n%s", g, w)
			}
		})
	}
}

func TestStoreKeys(t *testing.T) {
	store := mapStore{}
	e, _ := newEngine(t, testConfig(), store)
	e.Ingest("gw1", at(0, 1, 30), []flow.Record{ // the watermark reaches them: processed
		out("10.1.2.3", "198.51.100.1", 10, at(0, 0, 0), at(0, 1, 0), ""),
		out("fd00::1", "2001:db8::1", 10, at(0, 0, 0), at(0, 1, 0), ""),
	})
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.Keys()
	if got, want := strings.Join(keys, " "), "engine.meta host.10-1-2-3 host.fd00--1"; got != want {
		t.Fatalf("keys %q, want %q", got, want)
	}
	for _, k := range keys {
		if len(store[k]) > 256 { // a host that sent once: its baseline, one destination, one beacon track
			t.Errorf("%s is %d bytes", k, len(store[k]))
		}
	}
}

func TestRestoreCorrupt(t *testing.T) {
	store := mapStore{"host.10-1-2-3": []byte{1, 4, 10}, "other.key": []byte("not ours")}
	_, err := New(testConfig(), store, nil)
	if err == nil || !strings.Contains(err.Error(), "host.10-1-2-3") {
		t.Fatalf("err = %v, want one naming the key", err)
	}
	store = mapStore{"host.10-1-2-3": []byte{9}}
	if _, err := New(testConfig(), store, nil); err == nil || !strings.Contains(err.Error(), "unknown version 9") {
		t.Fatalf("err = %v", err)
	}
}
