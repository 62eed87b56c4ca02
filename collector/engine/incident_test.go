package engine

import (
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/flow"
)

// TestIncidentLifecycle: a 15-minute upload of 1.2 GB to a new server.
// The first alert leaves within GroupMax (1m) of the first evidence, with
// new_destination; the volume limit crossed later makes update 1 of the
// same alert; more of the same adds nothing and is not sent; 30 minutes
// after the last byte, the incident resolves (update 2).
func TestIncidentLifecycle(t *testing.T) {
	const host = "10.1.2.3"
	recs := background(host, 0, 76)
	for i := range 90 { // 13.3 MB every 10 s from 02:13:00 to 02:28:00
		s := at(74, 13, 10*i)
		recs = append(recs, out(host, "203.0.113.9", 13_333_333, s, s.Add(10*time.Second), "files.example.net"))
	}
	e, set := newEngine(t, DefaultConfig(), nil)
	alerts := feed(t, e, recs, t0, at(76, 0, 0))
	if len(alerts) != 3 {
		t.Fatalf("alerts %s, want first, update, resolved", toJSON(t, alerts))
	}
	first, upd, res := alerts[0], alerts[1], alerts[2]
	if first.ID != upd.ID || upd.ID != res.ID {
		t.Errorf("ids %s %s %s: one incident, one id", first.ID, upd.ID, res.ID)
	}
	// new_destination at 02:13:10 (13 MB); the group waits 30 s after each
	// record to the server, capped at 1m: out at 02:14:10.
	if first.Status != alert.StatusFiring || first.Update != 0 || toJSON(t, first.Detectors) != "[\n  \"new_destination\"\n]" ||
		!first.End.Equal(at(74, 14, 10)) {
		t.Errorf("first alert %s", toJSON(t, first))
	}
	if upd.Status != alert.StatusFiring || upd.Update != 1 || !upd.Opened.Equal(at(74, 13, 10)) ||
		toJSON(t, upd.Detectors) != "[\n  \"volume\"\n]" {
		t.Errorf("update %s", toJSON(t, upd))
	}
	if res.Status != alert.StatusResolved || res.Update != 2 || !res.Resolved.Equal(at(74, 58, 0)) ||
		toJSON(t, res.Detectors) != "[\n  \"new_destination\",\n  \"volume\"\n]" || res.Summary != upd.Summary {
		t.Errorf("resolution %s", toJSON(t, res))
	}
	if got := metric(set, "outflow_collector_alerts_resolved_total"); got != 1 {
		t.Errorf("resolved %v", got)
	}
}

// TestIncidentReminder: a host that keeps sending to a new server window
// after window raises the same evidence every hour; it is sent once, then
// again as a reminder after RepeatInterval (4h).
func TestIncidentReminder(t *testing.T) {
	const host = "10.1.2.3"
	recs := background(host, 0, 82)
	for h := 74; h < 81; h++ {
		for i := range 6 { // 20 MB every 10 minutes, hour after hour
			s := at(h, 10*i, 0)
			recs = append(recs, out(host, "203.0.113.9", 20_000_000, s, s.Add(10*time.Second), ""))
		}
	}
	e, set := newEngine(t, DefaultConfig(), nil)
	alerts := feed(t, e, recs, t0, at(82, 0, 0))
	var got []string
	for _, a := range alerts {
		t := a.End
		if a.Status == alert.StatusResolved {
			t = a.Resolved
		}
		got = append(got, a.Status+" "+t.Format("15:04:05"))
	}
	// 02:00 new_destination; 02:50 volume (new: an update); every later
	// hour the same again (duplicates) until 06:50, 4h after the last
	// alert: a reminder; resolved 30 minutes after the last record to the
	// server (08:50:10).
	want := []string{"firing 02:00:10", "firing 02:50:10", "firing 06:50:10", "resolved 09:20:10"}
	if toJSON(t, got) != toJSON(t, want) {
		t.Fatalf("alerts %q, want %q\n%s", got, want, toJSON(t, alerts))
	}
	if d := metric(set, "outflow_collector_alerts_deduplicated_total"); d < 3 {
		t.Errorf("deduplicated %v", d)
	}
}

// TestIncidentSurvivesRestart: an incident open when the collector stops
// is the same incident after it starts from the store: its update keeps
// the id.
func TestIncidentSurvivesRestart(t *testing.T) {
	const host = "10.1.2.3"
	store := mapStore{}
	recs := background(host, 0, 76)
	spike := burst(host, "203.0.113.9", 30_000_000, 3, at(74, 13, 0), "")
	more := burst(host, "198.51.100.77", 900_000_000, 6, at(74, 20, 0), "")
	e, _ := newEngine(t, DefaultConfig(), store)
	a1 := feed(t, e, append(recs[:0:0], append(recs, spike...)...), t0, at(74, 19, 0))
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	e2, _ := newEngine(t, DefaultConfig(), store)
	a2 := feed(t, e2, append(recs, append(spike, more...)...), at(74, 19, 0), at(74, 30, 0))
	if len(a1) != 1 || len(a2) != 1 || a2[0].ID != a1[0].ID || a2[0].Update != 1 {
		t.Fatalf("before %s\nafter %s", toJSON(t, a1), toJSON(t, a2))
	}
	_ = flow.Record{}
}
