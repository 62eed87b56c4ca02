package engine

import (
	"fmt"
	"testing"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/flow"
)

// The motivating incident: a workstation with three days of 24–37.5 MB per
// hour sends 1.2 GB in a minute to a server nobody has talked to.
func TestSpikeToNewServer(t *testing.T) {
	recs := background("10.1.2.3", 0, 76)
	recs = append(recs, burst("10.1.2.3", "203.0.113.9", 1_200_000_000, 6, at(74, 13, 0), "files.example.net")...)
	e, set := newEngine(t, testConfig(), nil)
	alerts := feed(t, e, recs, t0, at(76, 0, 0))
	alerts = append(alerts, e.Flush()...)
	if len(alerts) != 1 {
		t.Fatalf("got %d alerts, want 1: %s", len(alerts), toJSON(t, alerts))
	}
	a := alerts[0]
	want := alert.Alert{
		ID:          alertID(keyOf(recs[0].SrcAddr), at(74, 13, 10).UnixNano(), []string{"new_destination", "volume"}), // the first upload record ends 02:13:10
		Host:        "10.1.2.3",
		Remotes:     []string{"203.0.113.9"},
		RemoteNames: []string{"files.example.net"},
		Detectors:   []string{"new_destination", "volume"},
		Start:       at(74, 13, 0),
		End:         at(74, 14, 0),
		BytesOut:    1_200_000_000,
		Score:       100,
		Severity:    alert.SeverityCritical,
		Summary: "10.1.2.3 sent 1.2 GB to 203.0.113.9 (files.example.net, first seen 02:13) between 02:13 and 02:14 UTC, " +
			"32× its usual 36 MB per hour (threshold 113 MB); no other internal host talks to that server.",
		Sensors: []string{"gw1"},
		Status:  alert.StatusFiring,
	}
	got := a
	got.Evidence = nil
	if toJSON(t, got) != toJSON(t, want) {
		t.Errorf("alert:\n%s\nwant:\n%s", toJSON(t, got), toJSON(t, want))
	}
	if len(a.Evidence) != 2 {
		t.Fatalf("evidence: %s", toJSON(t, a.Evidence))
	}
	nd, vol := a.Evidence[0], a.Evidence[1]
	if nd.Detector != "new_destination" || nd.BytesOut != 1_200_000_000 || !nd.FirstSeen.Equal(at(74, 13, 10)) ||
		nd.Prevalence != 1 || nd.Threshold != 10_000_000 || nd.Remote != "203.0.113.9" {
		t.Errorf("new_destination evidence: %s", toJSON(t, nd))
	}
	if vol.Detector != "volume" || vol.BytesOut != 1_200_000_000 || vol.Baseline != 35_624_972 ||
		vol.Threshold != 113_040_641 || vol.Score != 100 {
		t.Errorf("volume evidence: %s", toJSON(t, vol))
	}
	for name, want := range map[string]float64{
		`outflow_collector_evidence_total{detector="volume"}`:                            1,
		`outflow_collector_evidence_total{detector="new_destination"}`:                   1,
		`outflow_collector_alerts_total{detector="volume",severity="critical"}`:          1,
		`outflow_collector_alerts_total{detector="new_destination",severity="critical"}`: 1,
		`outflow_collector_alerts_total{detector="new_destination",severity="warning"}`:  0,
		`outflow_collector_hosts`:            1,
		`outflow_collector_late_flows_total`: 0,
		`outflow_collector_flows_total`:      float64(len(recs)),
	} {
		if got := metric(set, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// The spike entered the baseline clipped to its limit, not as 1.2 GB.
	h := e.hosts[keyOf(recs[0].SrcAddr)]
	vals, _ := h.base.Values()
	if got := vals[74]; got > 18.6 { // log(113 MB) = 18.54, log(1.2 GB) = 20.9
		t.Errorf("spike entered the baseline as %v", got)
	}
}

func TestNoAlert(t *testing.T) {
	const host = "10.1.2.3"
	learned := background(host, 0, 74)
	tests := []struct {
		name string
		recs []flow.Record
	}{
		{"steady host", nil},
		{"tiny host, 2 MB to a new server", burst(host, "203.0.113.9", 2_000_000, 2, at(74, 13, 0), "")},
		{"60 MB, under the 113 MB limit", burst(host, "198.51.100.1", 60_000_000, 6, at(74, 13, 0), "")},
		{"new server used by 10 hosts", append(popular(10, "198.51.100.7"),
			burst(host, "198.51.100.7", 50_000_000, 5, at(74, 13, 0), "saas.example.com")...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEngine(t, testConfig(), nil)
			recs := append(append(background(host, 74, 2), learned...), tt.recs...)
			alerts := feed(t, e, recs, t0, at(76, 0, 0))
			alerts = append(alerts, e.Flush()...)
			if len(alerts) != 0 {
				t.Fatalf("got %s", toJSON(t, alerts))
			}
		})
	}
}

// popular has n other hosts send 1 MB a day to remote over the first days.
func popular(n int, remote string) []flow.Record {
	var recs []flow.Record
	for i := range n {
		host := fmt.Sprintf("10.2.0.%d", i+1)
		for d := range 3 {
			recs = append(recs, out(host, remote, 1_000_000, at(24*d+i, 1, 0), at(24*d+i, 2, 0), "saas.example.com"))
		}
	}
	return recs
}

func TestNewDestination(t *testing.T) {
	const host = "10.1.2.3"
	tests := []struct {
		name      string
		extra     []flow.Record
		wantDet   []string
		wantBytes uint64
		wantSev   alert.Severity
		wantScore float64
		wantSumm  string
	}{
		{
			name:      "12 MB to an unnamed new server",
			extra:     burst(host, "203.0.113.50", 12_000_000, 2, at(74, 13, 0), ""),
			wantDet:   []string{"new_destination"},
			wantBytes: 12_000_000, wantSev: alert.SeverityWarning, wantScore: 52,
			wantSumm: "10.1.2.3 sent 12 MB to 203.0.113.50 (first seen 02:13) at 02:13 UTC; " +
				"no other internal host talks to that server.",
		},
		{
			name: "40 MB to a server one other host uses",
			extra: append(burst("10.1.9.9", "203.0.113.50", 1_000, 1, at(50, 0, 0), "drop.example.org"),
				burst(host, "203.0.113.50", 40_000_000, 4, at(74, 13, 0), "drop.example.org")...),
			wantDet:   []string{"new_destination"},
			wantBytes: 40_000_000, wantSev: alert.SeverityWarning, wantScore: 65.1,
			wantSumm: "10.1.2.3 sent 40 MB to 203.0.113.50 (drop.example.org, first seen 02:13) at 02:13 UTC; " +
				"only 1 other internal host talks to that server.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEngine(t, testConfig(), nil)
			recs := append(background(host, 0, 76), tt.extra...)
			alerts := feed(t, e, recs, t0, at(76, 0, 0))
			alerts = append(alerts, e.Flush()...)
			if len(alerts) != 1 {
				t.Fatalf("got %d alerts: %s", len(alerts), toJSON(t, alerts))
			}
			a := alerts[0]
			if toJSON(t, a.Detectors) != toJSON(t, tt.wantDet) || a.BytesOut != tt.wantBytes ||
				a.Severity != tt.wantSev || a.Score != tt.wantScore || a.Summary != tt.wantSumm {
				t.Errorf("got %s", toJSON(t, a))
			}
		})
	}
}

func TestLearning(t *testing.T) {
	const host = "10.9.9.9"
	tests := []struct {
		name     string
		extra    []flow.Record
		wantSumm string // "" for no alert
	}{
		{"12 MB to a new server while learning", burst(host, "203.0.113.9", 12_000_000, 2, at(5, 13, 0), ""), ""},
		{"500 MB while learning, under the backstop", burst(host, "203.0.113.9", 500_000_000, 5, at(5, 13, 0), ""), ""},
		{"2 GB while learning", burst(host, "203.0.113.9", 2_000_000_000, 5, at(5, 13, 0), "big.example.com"),
			"10.9.9.9 sent 2.0 GB to 203.0.113.9 (big.example.com) at 05:13 UTC, " +
				"over the 1.1 GB backstop for a host still being learned."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEngine(t, testConfig(), nil)
			recs := append(background(host, 0, 7), tt.extra...)
			alerts := feed(t, e, recs, t0, at(7, 0, 0))
			alerts = append(alerts, e.Flush()...)
			switch {
			case tt.wantSumm == "" && len(alerts) != 0:
				t.Fatalf("got %s", toJSON(t, alerts))
			case tt.wantSumm != "" && (len(alerts) != 1 || alerts[0].Summary != tt.wantSumm || alerts[0].Severity != alert.SeverityCritical):
				t.Fatalf("got %s", toJSON(t, alerts))
			}
		})
	}
}

// Evidence is held for GroupWait after the record that raised it and the
// watermark trails the clock by AllowedLateness: the alert comes out with
// the batch whose clock is 60 s past the evidence, not at window close.
func TestAlertIsStreamed(t *testing.T) {
	const host = "10.1.2.3"
	e, set := newEngine(t, testConfig(), nil)
	feed(t, e, background(host, 0, 74), t0, at(74, 0, 0))
	spike := out(host, "203.0.113.9", 200_000_000, at(74, 13, 0), at(74, 13, 10), "")
	if a := e.Ingest("gw1", at(74, 13, 10), []flow.Record{spike}); len(a) != 0 {
		t.Fatalf("alert before group wait: %s", toJSON(t, a))
	}
	if a := e.Ingest("gw1", at(74, 14, 9), nil); len(a) != 0 {
		t.Fatalf("alert before group wait: %s", toJSON(t, a))
	}
	a := e.Ingest("gw1", at(74, 14, 10), nil)
	if len(a) != 1 || a[0].BytesOut != 200_000_000 {
		t.Fatalf("want the alert at 02:14:10, got %s", toJSON(t, a))
	}
	// Dedup: more bytes in the same window raise nothing new.
	more := out(host, "203.0.113.9", 500_000_000, at(74, 20, 0), at(74, 20, 10), "")
	if a := append(e.Ingest("gw1", at(74, 30, 0), []flow.Record{more}), e.Ingest("gw1", at(74, 59, 0), nil)...); len(a) != 0 {
		t.Fatalf("same window raised again: %s", toJSON(t, a))
	}
	// The next window raises the same evidence again (the server, first
	// seen 52 minutes ago, is still new), but the incident is open and it
	// adds nothing: counted as a duplicate, not sent.
	next := out(host, "203.0.113.9", 500_000_000, at(75, 5, 0), at(75, 5, 10), "")
	a = append(e.Ingest("gw1", at(75, 6, 0), []flow.Record{next}), e.Flush()...)
	if len(a) != 0 {
		t.Fatalf("next window: %s", toJSON(t, a))
	}
	if got := metric(set, "outflow_collector_alerts_deduplicated_total"); got != 1 {
		t.Errorf("deduplicated %v, want 1", got)
	}
}

func TestLateRecords(t *testing.T) {
	e, set := newEngine(t, testConfig(), nil)
	const host = "10.1.2.3"
	e.Ingest("gw1", at(0, 40, 0), []flow.Record{out(host, "198.51.100.1", 1000, at(0, 39, 0), at(0, 40, 0), "")})
	e.Ingest("gw1", at(1, 10, 0), []flow.Record{out(host, "198.51.100.1", 2000, at(1, 9, 0), at(1, 10, 0), "")})
	// 00:59:50 is for the 00:00 window, closed since the watermark passed 01:00.
	late := out(host, "198.51.100.1", 4000, at(0, 59, 0), at(0, 59, 50), "")
	e.Ingest("gw1", at(1, 11, 0), []flow.Record{late})
	if got := metric(set, "outflow_collector_late_flows_total"); got != 1 {
		t.Fatalf("late flows = %v, want 1", got)
	}
	h := e.hosts[keyOf(late.SrcAddr)]
	if len(h.wins) != 1 || h.wins[0].start != at(1, 0, 0).UnixNano() || h.wins[0].bytes != 6000 {
		t.Fatalf("late bytes not in the current window: %+v", h.wins[0])
	}
	if h.base.Len() != 1 {
		t.Fatalf("baseline has %d windows, want 1", h.base.Len())
	}
	// Within the allowed lateness a record for the previous window is not late.
	e.Ingest("gw1", at(2, 0, 20), []flow.Record{out(host, "198.51.100.1", 1, at(2, 0, 0), at(2, 0, 10), "")})
	e.Ingest("gw1", at(2, 0, 25), []flow.Record{out(host, "198.51.100.1", 1, at(1, 59, 0), at(1, 59, 55), "")})
	if got := metric(set, "outflow_collector_late_flows_total"); got != 1 {
		t.Fatalf("late flows = %v, want 1", got)
	}
}

func TestWatermark(t *testing.T) {
	e, set := newEngine(t, testConfig(), nil)
	e.Ingest("a", at(1, 0, 0), nil)
	e.Ingest("b", at(1, 2, 0), nil)
	if got, want := e.Stats().Watermark, at(0, 59, 30); !got.Equal(want) {
		t.Fatalf("watermark %v, want %v (slowest sensor minus lateness)", got, want)
	}
	// b runs on; a stops and, 5 minutes behind, no longer holds it back.
	e.Ingest("b", at(1, 5, 0), nil)
	if got, want := e.Stats().Watermark, at(0, 59, 30); !got.Equal(want) {
		t.Fatalf("watermark %v, want %v", got, want)
	}
	e.Ingest("b", at(1, 5, 1), nil)
	if got, want := e.Stats().Watermark, at(1, 4, 31); !got.Equal(want) {
		t.Fatalf("watermark %v, want %v", got, want)
	}
	// A sensor coming back with an old clock does not move it back.
	e.Ingest("a", at(1, 1, 0), nil)
	if got, want := e.Stats().Watermark, at(1, 4, 31); !got.Equal(want) {
		t.Fatalf("watermark %v, want %v", got, want)
	}
	if got := metric(set, "outflow_collector_watermark_seconds"); got != float64(at(1, 4, 31).Unix()) {
		t.Fatalf("watermark gauge %v", got)
	}
}
