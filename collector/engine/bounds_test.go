package engine

import (
	"fmt"
	"testing"

	"github.com/outflowhq/outflow/flow"
)

func TestBounds(t *testing.T) {
	tests := []struct {
		name    string
		cfg     func(*Config)
		recs    func() []flow.Record
		metrics map[string]float64
	}{
		{
			name: "hosts",
			cfg:  func(c *Config) { c.MaxHosts = 3 },
			recs: func() (recs []flow.Record) {
				for i := range 5 {
					recs = append(recs, out(fmt.Sprintf("10.0.0.%d", i+1), "198.51.100.1", 10, at(0, i, 0), at(0, i, 1), ""))
				}
				return recs
			},
			metrics: map[string]float64{
				"outflow_collector_hosts":               3,
				"outflow_collector_hosts_evicted_total": 2,
				"outflow_collector_fleet_remotes":       1,
			},
		},
		{
			name: "remotes per host",
			cfg:  func(c *Config) { c.MaxRemotesPerHost = 4 },
			recs: func() (recs []flow.Record) {
				for i := range 6 {
					recs = append(recs, out("10.0.0.1", fmt.Sprintf("198.51.100.%d", i+1), 10, at(0, i, 0), at(0, i, 1), ""))
				}
				return recs
			},
			metrics: map[string]float64{
				"outflow_collector_destinations_evicted_total":   2,
				"outflow_collector_window_remotes_dropped_total": 2,
				"outflow_collector_fleet_remotes":                4,
			},
		},
		{
			name: "fleet remotes",
			cfg:  func(c *Config) { c.MaxFleetRemotes = 4 },
			recs: func() (recs []flow.Record) {
				for i := range 6 {
					recs = append(recs, out("10.0.0.1", fmt.Sprintf("198.51.100.%d", i+1), 10, at(0, i, 0), at(0, i, 1), ""))
				}
				return recs
			},
			metrics: map[string]float64{
				"outflow_collector_fleet_remotes":               4,
				"outflow_collector_fleet_remotes_evicted_total": 2,
				"outflow_collector_destinations_evicted_total":  0,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.cfg(&cfg)
			store := mapStore{}
			e, set := newEngine(t, cfg, store)
			feed(t, e, tt.recs(), t0, at(0, 10, 0))
			if err := e.Save(); err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.metrics {
				if got := metric(set, name); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			keys, _ := store.Keys()
			if hosts := len(keys) - 1; hosts != len(e.hosts) {
				t.Errorf("store holds %d hosts, engine %d: %v", hosts, len(e.hosts), keys)
			}
		})
	}
}

// The least recently active host goes first, and its state leaves the store.
func TestEvictOldestHost(t *testing.T) {
	cfg := testConfig()
	cfg.MaxHosts = 2
	store := mapStore{}
	e, _ := newEngine(t, cfg, store)
	// Each batch's clock is AllowedLateness past its record, so the
	// watermark reaches the record and it is processed in that batch.
	e.Ingest("gw1", at(0, 1, 30), []flow.Record{out("10.0.0.1", "198.51.100.1", 1, at(0, 0, 0), at(0, 1, 0), "")})
	e.Ingest("gw1", at(0, 2, 30), []flow.Record{out("10.0.0.2", "198.51.100.1", 1, at(0, 1, 0), at(0, 2, 0), "")})
	e.Ingest("gw1", at(0, 3, 30), []flow.Record{out("10.0.0.1", "198.51.100.1", 1, at(0, 2, 0), at(0, 3, 0), "")})
	_ = e.Save()
	e.Ingest("gw1", at(0, 4, 30), []flow.Record{out("10.0.0.3", "198.51.100.1", 1, at(0, 3, 0), at(0, 4, 0), "")})
	_ = e.Save()
	if _, ok := store["host.10-0-0-2"]; ok {
		t.Fatal("evicted host still in the store")
	}
	for _, k := range []string{"host.10-0-0-1", "host.10-0-0-3"} {
		if _, ok := store[k]; !ok {
			t.Fatalf("%s missing", k)
		}
	}
	if got := e.fleet.count(keyOf(mustAddr("198.51.100.1"))); got != 2 {
		t.Fatalf("prevalence %d, want 2 after eviction", got)
	}
}

// TestWindowSlots: a remote whose destination entry was evicted while the
// window is open keeps its one entry in the window (found by scanning, not
// added twice), and slots survive a save and restore in the middle of a
// window.
func TestWindowSlots(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRemotesPerHost = 4
	store := mapStore{}
	e, set := newEngine(t, cfg, store)
	var recs []flow.Record
	for i := range 5 { // the fifth evicts the first's destination entry, and finds the window full
		recs = append(recs, out("10.0.0.1", fmt.Sprintf("198.51.100.%d", i+1), 100, at(0, i, 0), at(0, i, 1), ""))
	}
	recs = append(recs, out("10.0.0.1", "198.51.100.1", 7, at(0, 10, 0), at(0, 10, 1), "")) // back (evicting the second's entry), same window
	feed(t, e, recs, at(0, 0, 0), at(0, 12, 0))
	if got := metric(set, "outflow_collector_destinations_evicted_total"); got != 2 {
		t.Fatalf("destinations evicted = %v, want 2", got)
	}
	h := e.hosts[keyOf(mustAddr("10.0.0.1"))]
	w := h.wins[0]
	if len(w.rems) != 4 || !w.lostSlots {
		t.Fatalf("window has %d remotes (lostSlots %v), want 4 and true", len(w.rems), w.lostSlots)
	}
	if r := w.remote(keyOf(mustAddr("198.51.100.1"))); r == nil || r.bytes != 107 {
		t.Fatalf("first remote's entry %+v, want one entry of 107 bytes", r)
	}

	// Restore in the middle of the window: the slots are linked again and
	// the next record adds to the same entries.
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	e2, _ := newEngine(t, cfg, store)
	feed(t, e2, []flow.Record{out("10.0.0.1", "198.51.100.3", 5, at(0, 20, 0), at(0, 20, 1), "")}, at(0, 19, 0), at(0, 22, 0))
	w2 := e2.hosts[keyOf(mustAddr("10.0.0.1"))].wins[0]
	want := map[string]uint64{"198.51.100.1": 107, "198.51.100.2": 100, "198.51.100.3": 105, "198.51.100.4": 100}
	if len(w2.rems) != len(want) {
		t.Fatalf("restored window has %d remotes, want %d", len(w2.rems), len(want))
	}
	for _, r := range w2.rems {
		if r.bytes != want[r.key.String()] {
			t.Errorf("%s: %d bytes, want %d", r.key, r.bytes, want[r.key.String()])
		}
	}
}
