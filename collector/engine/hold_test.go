package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
)

// Whatever the batches, the queue releases records in (End, host, remote,
// arrival) order: the order of a stable sort of the whole sequence.
func TestHoldQueueOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	hosts := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}
	var recs []flow.Record
	for i := range 5000 {
		end := t0.Add(time.Duration(i) * time.Second / 4)
		// Up to 10 s behind the newest, many ties on End.
		end = end.Add(-time.Duration(rng.IntN(40)) * time.Second / 4)
		recs = append(recs, out(hosts[rng.IntN(len(hosts))], fmt.Sprintf("198.51.100.%d", 1+rng.IntN(3)),
			uint64(i+1), end.Add(-time.Second), end, ""))
	}
	want := make([]held, 0, len(recs))
	var q holdQueue
	for i := range recs {
		q.hold("gw1", &recs[i])
	}
	want = append(want, q.q...)
	slices.SortStableFunc(want, func(a, b held) int { return compareHeld(&a, &b) })

	for _, maxBatch := range []int{1, 3, 50, 700} {
		t.Run(fmt.Sprint("batches ≤ ", maxBatch), func(t *testing.T) {
			var q holdQueue
			var got []held
			newest := int64(0)
			for i := 0; i < len(recs); {
				j := min(len(recs), i+1+rng.IntN(maxBatch))
				n := len(q.q)
				for k := range recs[i:j] {
					q.hold("gw1", &recs[i+k])
					newest = max(newest, recs[i+k].End.UnixNano())
				}
				q.order(n)
				for r, ok := q.next(newest - int64(10*time.Second)); ok; r, ok = q.next(newest - int64(10*time.Second)) {
					got = append(got, *r)
				}
				q.compact()
				i = j
			}
			for r, ok := q.next(newest); ok; r, ok = q.next(newest) {
				got = append(got, *r)
			}
			if len(got) != len(want) {
				t.Fatalf("released %d of %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("record %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}

// Records waiting for the watermark survive a restart, also when they need
// more than one store value; pieces of an older save are removed.
func TestHeldPieces(t *testing.T) {
	const n = 12_000 // ≈ 40 B each: two pieces beyond engine.meta
	var recs []flow.Record
	for i := range n {
		end := at(74, 13, 0).Add(time.Duration(i) * time.Millisecond)
		recs = append(recs, out(fmt.Sprintf("10.9.%d.%d", i/200, i%200+1), "198.51.100.1", 1000, end.Add(-time.Second), end, "updates.example.com"))
	}
	spike := out("10.1.2.3", "203.0.113.9", 200_000_000, at(74, 13, 0), at(74, 13, 10), "files.example.net")
	run := func(split bool) (string, mapStore) {
		store := mapStore{}
		e, _ := newEngine(t, testConfig(), store)
		feed(t, e, background("10.1.2.3", 0, 74), t0, at(74, 0, 0))
		// Everything ends after the watermark: all of it waits.
		e.Ingest("gw1", at(74, 13, 15), append(slices.Clone(recs), spike))
		if got := e.Stats().HeldRecords; got != n+1 {
			t.Fatalf("held %d, want %d", got, n+1)
		}
		var pieces mapStore
		if split {
			if err := e.Save(); err != nil {
				t.Fatal(err)
			}
			pieces = mapStore{}
			for k, v := range store {
				if strings.HasPrefix(k, heldKeyPrefix) {
					pieces[k] = v
				}
			}
			e, _ = newEngine(t, testConfig(), store)
		}
		a := e.Ingest("gw1", at(74, 15, 0), nil)
		a = append(a, e.Flush()...)
		if len(a) != 1 || a[0].BytesOut != 200_000_000 {
			t.Fatalf("alerts %s", toJSON(t, a))
		}
		return toJSON(t, a), pieces
	}
	want, _ := run(false)
	got, pieces := run(true)
	if got != want {
		t.Fatalf("after restart:\n%s\nuninterrupted:\n%s", got, want)
	}
	if len(pieces) != 2 {
		t.Fatalf("held pieces %v, want 2", slices.Sorted(func(yield func(string) bool) {
			for k := range pieces {
				yield(k)
			}
		}))
	}
	for k, v := range pieces {
		if len(v) > maxPiece {
			t.Errorf("%s is %d bytes", k, len(v))
		}
	}

	// A later save with few held records drops the pieces; a missing piece
	// makes New fail naming it.
	store := mapStore{}
	e, _ := newEngine(t, testConfig(), store)
	e.Ingest("gw1", at(0, 0, 5), recs)
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	broken := mapStore{}
	var last string
	for k, v := range store {
		broken[k] = v
		if strings.HasPrefix(k, heldKeyPrefix) {
			last = max(last, k)
		}
	}
	delete(broken, last)
	if _, err := New(testConfig(), broken, nil); err == nil || last == "" || !strings.Contains(err.Error(), last) {
		t.Fatalf("err = %v, want one naming the missing piece %q", err, last)
	}
	e.Ingest("gw1", at(80, 0, 0), nil)
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.Keys()
	for _, k := range keys {
		if strings.HasPrefix(k, heldKeyPrefix) {
			t.Errorf("%s left behind", k)
		}
	}
}

// A group stays open while its host keeps sending to a remote its evidence
// names, at most GroupMax after the first evidence; evidence from a record
// that ends after the deadline opens a new group.
func TestGroupExtends(t *testing.T) {
	const host = "10.1.2.3"
	learned := background(host, 0, 74)
	tests := []struct {
		name  string
		extra []flow.Record
		want  []string // detectors, start–end and bytes of each alert
	}{
		{
			name: "transfer pauses: deadline 30 s after its last record",
			// 20 MB every 10 s for a minute, then nothing.
			extra: burst(host, "203.0.113.9", 120_000_000, 6, at(74, 13, 0), ""),
			want:  []string{"[new_destination volume] 02:13:00–02:14:00 120000000"},
		},
		{
			name: "transfer goes on: cut at GroupMax",
			// 5 MB every 10 s for 20 minutes: new_destination at 10 MB
			// (02:13:20), volume past the 113 MB limit at 02:17:00; the
			// group closes at 02:13:20 + 5 min with the 32 records so far.
			extra: burst(host, "203.0.113.9", 600_000_000, 120, at(74, 13, 0), ""),
			want:  []string{"[new_destination volume] 02:13:00–02:18:20 160000000"},
		},
		{
			name: "traffic to other servers does not hold it",
			extra: append(burst(host, "203.0.113.9", 12_000_000, 1, at(74, 13, 0), ""),
				burst(host, "198.51.100.1", 1_000_000, 12, at(74, 13, 0), "")...),
			want: []string{"[new_destination] 02:13:00–02:13:10 12000000"},
		},
		{
			name: "evidence after the deadline: a second alert",
			extra: append(burst(host, "203.0.113.9", 12_000_000, 1, at(74, 13, 0), ""),
				burst(host, "203.0.113.10", 12_000_000, 1, at(74, 13, 31), "")...),
			want: []string{
				"[new_destination] 02:13:00–02:13:10 12000000",
				"[new_destination] 02:13:31–02:13:41 12000000",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEngine(t, testConfig(), nil)
			alerts := feed(t, e, append(slices.Clone(learned), tt.extra...), t0, at(75, 0, 0))
			alerts = append(alerts, e.Flush()...)
			var got []string
			for _, a := range alerts {
				var ev []string
				for _, x := range a.Evidence {
					ev = append(ev, x.Start.Format("15:04:05")+"–"+x.End.Format("15:04:05")+fmt.Sprint(" ", x.BytesOut))
				}
				got = append(got, fmt.Sprintf("%v %s", a.Detectors, ev[0]))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q\nwant %q\n%s", got, tt.want, toJSON(t, alerts))
			}
			// Alerts never share an id and update number: the alert
			// stream de-duplicates on the pair. (Updates of one
			// incident share its id.)
			ids := map[string]bool{}
			for _, a := range alerts {
				k := fmt.Sprint(a.ID, "/", a.Update)
				if ids[k] {
					t.Fatalf("two alerts share id and update %s", k)
				}
				ids[k] = true
			}
		})
	}
}

// State written before held records were persisted (meta version 1)
// restores, with nothing held.
func TestRestoreMetaV1(t *testing.T) {
	var b enc
	b.uint(1)
	b.int(at(2, 0, 0).UnixNano())
	b.int(at(2, 10, 0).UnixNano())
	b.uint(1)
	b.str("gw1")
	b.int(at(2, 10, 30).UnixNano())
	e, err := New(testConfig(), mapStore{metaKey: b.b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); !s.Watermark.Equal(at(2, 10, 0)) || s.HeldRecords != 0 || e.closed != at(2, 0, 0).UnixNano() {
		t.Fatalf("restored %+v, closed %v", s, utc(e.closed))
	}
}

// Past its bound the queue processes its oldest records early, counted.
func TestHeldOverflow(t *testing.T) {
	e, set := newEngine(t, testConfig(), nil)
	e.held.limit = 100
	var recs []flow.Record
	for i := range 250 {
		end := at(1, 0, 0).Add(time.Duration(i) * 10 * time.Millisecond)
		recs = append(recs, out("10.1.2.3", "198.51.100.1", 1, end.Add(-time.Second), end, ""))
	}
	e.Ingest("gw1", at(1, 0, 5), recs)
	if got := e.Stats().HeldRecords; got != 100 {
		t.Fatalf("held %d, want 100", got)
	}
	if got := metric(set, "outflow_collector_held_overflow_total"); got != 150 {
		t.Fatalf("overflow %v, want 150", got)
	}
	if w := e.hosts[keyOf(recs[0].SrcAddr)].wins[0]; w.bytes != 150 || w.last != recs[149].End.UnixNano() {
		t.Fatalf("window %+v: want the 150 oldest records", w)
	}
}
