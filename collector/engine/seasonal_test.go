package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/flow"
)

// officeHost sends 96, 120 or 150 MB in each office hour (08–18 UTC,
// Monday to Friday) and 1 MB in every other hour, for `days` days from t0.
func officeHost(host string, days int) []flow.Record {
	var recs []flow.Record
	for i := 0; i < days*24; i++ {
		h, wd := i%24, (i/24)%7 // t0 is a Monday: wd 0..4 are weekdays
		v := uint64(1_000_000)
		if wd < 5 && h >= 8 && h < 18 {
			v = []uint64{96_000_000, 120_000_000, 150_000_000}[i%3]
		}
		recs = append(recs, out(host, "198.51.100.1", v, at(i, 29, 0), at(i, 30, 0), "sync.example.com"))
	}
	return recs
}

func volumeEvidence(alerts []alert.Alert) []alert.Evidence {
	var evs []alert.Evidence
	for _, a := range alerts {
		for _, x := range a.Evidence {
			if x.Detector == "volume" {
				evs = append(evs, x)
			}
		}
	}
	return evs
}

// TestSeasonalBaseline: a host busy in office hours and quiet at night.
// After three weeks, 130 MB at Thursday 10:00 is its normal; the same
// 130 MB at Thursday 02:00 is not, and neither is 600 MB at 11:00. An
// all-hours baseline, half quiet and half busy, would let both through.
func TestSeasonalBaseline(t *testing.T) {
	const host = "10.1.2.3"
	recs := officeHost(host, 21)
	thu := 21*24 + 3*24 // Thursday of the fourth week, hour 0
	recs = append(recs,
		out(host, "198.51.100.1", 130_000_000, at(thu+10, 5, 0), at(thu+10, 6, 0), "sync.example.com"),
		out(host, "198.51.100.1", 130_000_000, at(thu+2, 5, 0), at(thu+2, 6, 0), "sync.example.com"),
		out(host, "198.51.100.1", 600_000_000, at(thu+11, 5, 0), at(thu+11, 6, 0), "sync.example.com"))
	e, set := newEngine(t, testConfig(), nil)
	alerts := feed(t, e, recs, t0, at(thu+12, 0, 0))
	alerts = append(alerts, e.Flush()...)
	evs := volumeEvidence(alerts)
	if len(evs) != 2 {
		t.Fatalf("volume evidence %s, want 02:00 and 11:00", toJSON(t, evs))
	}
	night, day := evs[0], evs[1]
	// Thursdays 01:00–03:00 of three weeks: 1 MB each (950 KB net of the
	// 50 KB received), so the limit is the 50 MB floor.
	if !night.Start.Equal(at(thu+2, 5, 0)) || night.Baseline != 950_000 || night.Threshold != 50_000_000 ||
		!strings.Contains(night.Reason, "usual 950 KB per hour on Thursdays at 02:00 UTC") {
		t.Errorf("night evidence: %s", toJSON(t, night))
	}
	// Each past Thursday's busiest of 10:00–12:00 is 150 MB, 95% of it not
	// matched by received bytes: 142.5 MB (float32); three weeks allow 3.2×.
	if !day.Start.Equal(at(thu+11, 5, 0)) || day.Baseline != 142_500_027 || day.Threshold != 452_162_998 ||
		!strings.Contains(day.Reason, "on Thursdays at 11:00 UTC") {
		t.Errorf("office-hours evidence: %s", toJSON(t, day))
	}
	if got := metric(set, `outflow_collector_volume_limits_total{basis="seasonal"}`); got < 3 {
		t.Errorf("seasonal limits: %v", got)
	}
}

// TestPeerBaseline: a host seen for the first time is compared with the
// grown-up hosts of its /24 rather than only with the 1 GiB backstop; a
// new host in a /24 without enough peers has only the backstop.
func TestPeerBaseline(t *testing.T) {
	var recs []flow.Record
	for i := 1; i <= 4; i++ {
		recs = append(recs, background(fmt.Sprintf("10.1.2.%d", i), 0, 14*24)...)
	}
	recs = append(recs, background("10.9.9.1", 0, 14*24)...) // alone in its /24
	first := 14 * 24
	recs = append(recs,
		out("10.1.2.99", "198.51.100.7", 300_000_000, at(first, 10, 0), at(first, 11, 0), "video.example.com"),
		out("10.9.9.99", "198.51.100.7", 300_000_000, at(first, 10, 0), at(first, 11, 0), "video.example.com"))
	e, set := newEngine(t, testConfig(), nil)
	alerts := feed(t, e, recs, t0, at(first+1, 0, 0))
	alerts = append(alerts, e.Flush()...)
	if len(alerts) != 1 || alerts[0].Host != "10.1.2.99" {
		t.Fatalf("alerts %s, want one for 10.1.2.99", toJSON(t, alerts))
	}
	v := volumeEvidence(alerts)
	// The peers' estimates for Monday 00:00 from the two past Mondays: the
	// busiest of 23:00–01:00 was 37.5 MB one week and (no Sunday before
	// the first) 30 MB the other, 95% of it net: a median of 31.9 MB in
	// log bytes, and with two values a wide spread.
	if len(v) != 1 || v[0].Baseline != 31_863_928 || v[0].Threshold != 131_064_316 || !strings.Contains(v[0].Reason, "for its peer group") {
		t.Errorf("volume evidence %s", toJSON(t, v))
	}
	if got := metric(set, `outflow_collector_volume_limits_total{basis="peers"}`); got != 1 {
		t.Errorf("peer limits %v, want 1", got)
	}
	if got := metric(set, `outflow_collector_volume_limits_total{basis="backstop"}`); got < 6 {
		t.Errorf("backstop limits %v, want the five first windows and 10.9.9.99's", got)
	}

}
