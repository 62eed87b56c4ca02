package engine

import (
	"encoding/json"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/flow"
)

// t0 is midnight UTC on a Monday; the scenarios count hours from it.
var t0 = time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)

func at(h int, m, s int) time.Time {
	return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// out builds an outbound record: host sent bytes to remote between start
// and end.
func out(host, remote string, bytes uint64, start, end time.Time, name string) flow.Record {
	return flow.Record{
		Proto: 6, SrcAddr: netip.MustParseAddr(host), DstAddr: netip.MustParseAddr(remote),
		SrcPort: 50000, DstPort: 443, SrcBytes: bytes, DstBytes: bytes / 20,
		Start: start, End: end, FlowStart: start, Direction: flow.Outbound, DstName: name,
	}
}

// background is a host's normal week: every hour 24, 30 or 37.5 MB (a
// median of 30 MB, MAD 0.223 in log bytes), half at :30 and half at :50, to
// two servers only it uses.
func background(host string, fromHour, hours int) []flow.Record {
	volumes := []uint64{24_000_000, 30_000_000, 37_500_000}
	var recs []flow.Record
	for i := fromHour; i < fromHour+hours; i++ {
		v := volumes[i%3] / 2
		recs = append(recs,
			out(host, "198.51.100.1", v, at(i, 29, 0), at(i, 30, 0), "updates.example.com"),
			out(host, "198.51.100.2", v, at(i, 49, 0), at(i, 50, 0), "mail.example.com"))
	}
	return recs
}

// burst is bytes sent in `parts` equal deltas, one every 10 s from start.
func burst(host, remote string, bytes uint64, parts int, start time.Time, name string) []flow.Record {
	var recs []flow.Record
	for i := range parts {
		s := start.Add(time.Duration(i) * 10 * time.Second)
		recs = append(recs, out(host, remote, bytes/uint64(parts), s, s.Add(10*time.Second), name))
	}
	return recs
}

// feed plays recs as one sensor would: a batch every minute of event time
// from `from` to `to`, holding the records that ended in (m, m+1min], with
// m+1min as the sensor clock.
func feed(t testing.TB, e *Engine, recs []flow.Record, from, to time.Time) []alert.Alert {
	t.Helper()
	recs = slices.Clone(recs)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].End.Before(recs[j].End) })
	var alerts []alert.Alert
	i := 0
	for i < len(recs) && !recs[i].End.After(from) { // fed by the batch whose clock was from
		i++
	}
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		clock := m.Add(time.Minute)
		j := i
		for j < len(recs) && !recs[j].End.After(clock) {
			j++
		}
		alerts = append(alerts, e.Ingest("gw1", clock, recs[i:j])...)
		i = j
	}
	return alerts
}

func newEngine(t testing.TB, cfg Config, store Store) (*Engine, *metrics.Set) {
	t.Helper()
	set := metrics.NewSet()
	e, err := New(cfg, store, set)
	if err != nil {
		t.Fatal(err)
	}
	return e, set
}

// metric returns the value of one series in set, 0 when absent.
func metric(set *metrics.Set, name string) float64 {
	var b strings.Builder
	set.WritePrometheus(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			_ = json.Unmarshal([]byte(v), &f)
			return f
		}
	}
	return 0
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mapStore is an in-memory Store.
type mapStore map[string][]byte

func (m mapStore) Put(k string, v []byte) error { m[k] = slices.Clone(v); return nil }
func (m mapStore) Get(k string) ([]byte, bool, error) {
	v, ok := m[k]
	return v, ok, nil
}
func (m mapStore) Delete(k string) error { delete(m, k); return nil }
func (m mapStore) Keys() ([]string, error) {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks, nil
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// testConfig is DefaultConfig for tests that look at which alerts an
// incident opens with: its incidents never resolve and a group waits
// GroupMax 5m (the extension tests count on it). Lifecycle tests
// (incident_test.go) use DefaultConfig.
func testConfig() Config {
	c := DefaultConfig()
	c.ResolveAfter = 100_000 * time.Hour
	c.GroupMax = 5 * time.Minute
	return c
}
