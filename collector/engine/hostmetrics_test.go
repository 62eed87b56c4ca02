package engine

import (
	"strconv"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector/allow"
	"github.com/outflowhq/outflow/flow"
)

// hostSeriesOf returns set's per-host series: host → metric (without the
// outflow_collector_ prefix) → value.
func hostSeriesOf(t *testing.T, set *metrics.Set) map[string]map[string]float64 {
	t.Helper()
	var b strings.Builder
	set.WritePrometheus(&b)
	got := map[string]map[string]float64{}
	for _, line := range strings.Split(b.String(), "\n") {
		name, rest, ok := strings.Cut(line, `{host="`)
		if !ok {
			continue
		}
		host, val, _ := strings.Cut(rest, `"} `)
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got[host] == nil {
			got[host] = map[string]float64{}
		}
		got[host][strings.TrimPrefix(name, "outflow_collector_")] = v
	}
	return got
}

func TestHostSeriesValues(t *testing.T) {
	e, set := newEngine(t, DefaultConfig(), nil)
	recs := []flow.Record{
		out("10.0.0.1", "198.51.100.1", 1_000_000, at(0, 10, 0), at(0, 11, 0), ""),
		out("10.0.0.2", "198.51.100.1", 2_000_000, at(0, 20, 0), at(0, 21, 0), ""),
		out("10.0.0.1", "198.51.100.1", 3_000_000, at(1, 10, 0), at(1, 11, 0), ""),
	}
	feed(t, e, recs, t0, at(2, 1, 0)) // the watermark passes 2:00: both hours closed
	const backstop = 1 << 30          // both hosts are learning: their limit is the backstop
	want := map[string]map[string]float64{
		"10.0.0.1": {"host_upload_bytes_total": 950_000 + 2_850_000, "host_window_upload_bytes": 2_850_000,
			"host_window_typical_bytes": 0, "host_window_limit_bytes": backstop},
		"10.0.0.2": {"host_upload_bytes_total": 1_900_000, "host_window_upload_bytes": 0, // silent in hour 1
			"host_window_typical_bytes": 0, "host_window_limit_bytes": backstop},
	}
	if got := hostSeriesOf(t, set); toJSON(t, got) != toJSON(t, want) {
		t.Errorf("series:\n%s\nwant:\n%s", toJSON(t, got), toJSON(t, want))
	}
	for name, v := range map[string]float64{"upload_bytes_total": 950_000 + 1_900_000 + 2_850_000,
		"host_series": 2, "host_series_untracked": 0, "host_series_evicted_total": 0} {
		if got := metric(set, "outflow_collector_"+name); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
}

// A host with a baseline shows its usual bytes and limit for the hour.
func TestHostSeriesBand(t *testing.T) {
	e, set := newEngine(t, DefaultConfig(), nil)
	feed(t, e, background("10.0.0.1", 0, 60), t0, at(60, 1, 0))
	s := hostSeriesOf(t, set)["10.0.0.1"]
	// hour 59 is the third of the cycle 24, 30, 37.5 MB (19/20 of it net).
	if s["host_window_upload_bytes"] != 37_500_000*19/20 {
		t.Errorf("window upload %v", s["host_window_upload_bytes"])
	}
	if typ, lim := s["host_window_typical_bytes"], s["host_window_limit_bytes"]; typ < 20e6 || typ > 40e6 || lim <= typ {
		t.Errorf("band typical %v limit %v", typ, lim)
	}
}

// With two slots and four hosts in hour 0, the host with an open incident
// and the biggest uploader get series; in hour 1 a bigger uploader takes
// the slot of the host whose incident has resolved, whose series go.
func TestHostSeriesCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxHostSeries = 2
	cfg.Backstop, cfg.VolumeMinBytes = 10_000_000, 10_000_000
	cfg.Allow = allow.Config{Rules: []allow.Rule{{Remotes: []string{"198.51.100.0/24"}}}}
	e, set := newEngine(t, cfg, nil)
	recs := []flow.Record{
		out("10.0.0.1", "203.0.113.9", 20_000_000, at(0, 10, 0), at(0, 11, 0), ""), // volume: an alert
		out("10.0.0.1", "203.0.113.9", 1_000_000, at(0, 35, 0), at(0, 36, 0), ""),  // its incident open until 1:06
		out("10.0.0.2", "198.51.100.1", 100_000_000, at(0, 20, 0), at(0, 21, 0), ""),
		out("10.0.0.3", "198.51.100.1", 200_000_000, at(0, 20, 0), at(0, 21, 0), ""),
		out("10.0.0.4", "198.51.100.1", 300_000_000, at(0, 20, 0), at(0, 21, 0), ""),
	}
	if alerts := feed(t, e, recs, t0, at(1, 0, 40)); len(alerts) != 1 || alerts[0].Host != "10.0.0.1" || alerts[0].Status == "resolved" {
		t.Fatalf("alerts %s", toJSON(t, alerts))
	}
	check := func(hosts []string, untracked, evicted float64) {
		t.Helper()
		got := hostSeriesOf(t, set)
		for _, h := range hosts {
			if len(got[h]) != len(hostSeriesNames) {
				t.Errorf("%s: series %v", h, got[h])
			}
		}
		if len(got) != len(hosts) {
			t.Errorf("hosts with series %v, want %v", toJSON(t, got), hosts)
		}
		for name, v := range map[string]float64{"host_series": float64(len(hosts)), "host_series_untracked": untracked, "host_series_evicted_total": evicted} {
			if got := metric(set, "outflow_collector_"+name); got != v {
				t.Errorf("%s = %v, want %v", name, got, v)
			}
		}
	}
	check([]string{"10.0.0.1", "10.0.0.4"}, 2, 0)

	recs = []flow.Record{out("10.0.0.5", "198.51.100.1", 1_000_000_000, at(1, 10, 0), at(1, 11, 0), "")}
	feed(t, e, recs, at(1, 1, 0), at(2, 1, 0))
	check([]string{"10.0.0.4", "10.0.0.5"}, 0, 1)
	if v := hostSeriesOf(t, set)["10.0.0.4"]["host_window_upload_bytes"]; v != 0 {
		t.Errorf("10.0.0.4 silent in hour 1: window %v", v)
	}
}

// A host the engine evicts loses its series at the next window close.
func TestHostSeriesEngineEviction(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxHosts = 2
	e, set := newEngine(t, cfg, nil)
	recs := []flow.Record{
		out("10.0.0.1", "198.51.100.1", 1_000_000, at(0, 10, 0), at(0, 11, 0), ""),
		out("10.0.0.2", "198.51.100.1", 1_000_000, at(0, 20, 0), at(0, 21, 0), ""),
		out("10.0.0.3", "198.51.100.1", 1_000_000, at(1, 20, 0), at(1, 21, 0), ""), // evicts 10.0.0.1
	}
	feed(t, e, recs, t0, at(2, 1, 0))
	got := hostSeriesOf(t, set)
	if _, ok := got["10.0.0.1"]; ok || len(got) != 2 {
		t.Errorf("series %s", toJSON(t, got))
	}
	if v := metric(set, "outflow_collector_host_series_evicted_total"); v != 1 {
		t.Errorf("evicted %v", v)
	}
}

func TestHostSeriesDisabled(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxHostSeries = 0
	e, set := newEngine(t, cfg, nil)
	feed(t, e, []flow.Record{out("10.0.0.1", "198.51.100.1", 1_000_000, at(0, 10, 0), at(0, 11, 0), "")}, t0, at(1, 1, 0))
	if got := hostSeriesOf(t, set); len(got) != 0 {
		t.Errorf("series %s", toJSON(t, got))
	}
	if v := metric(set, "outflow_collector_upload_bytes_total"); v != 950_000 {
		t.Errorf("upload %v", v)
	}
	if v := metric(set, "outflow_collector_host_series_untracked"); v != 1 {
		t.Errorf("untracked %v", v)
	}
}
