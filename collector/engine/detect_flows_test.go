package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/flow"
)

// conn is a record of one connection: the host's side first. inbound: the
// remote opened it (the record's Src is the remote).
func conn(host string, hostPort uint16, remote string, remotePort uint16, up, down uint64, flowStart, start, end time.Time, inbound bool) flow.Record {
	r := flow.Record{Proto: 6, Start: start, End: end, FlowStart: flowStart}
	if inbound {
		r.Direction = flow.Inbound
		r.SrcAddr, r.SrcPort, r.SrcBytes = mustAddr(remote), remotePort, down
		r.DstAddr, r.DstPort, r.DstBytes = mustAddr(host), hostPort, up
	} else {
		r.Direction = flow.Outbound
		r.SrcAddr, r.SrcPort, r.SrcBytes = mustAddr(host), hostPort, up
		r.DstAddr, r.DstPort, r.DstBytes = mustAddr(remote), remotePort, down
	}
	return r
}

func evidenceOf(alerts []alert.Alert, detector string) []alert.Evidence {
	var out []alert.Evidence
	for _, a := range alerts {
		for _, x := range a.Evidence {
			if x.Detector == detector {
				out = append(out, x)
			}
		}
	}
	return out
}

func run(t *testing.T, recs []flow.Record, hours int) []alert.Alert {
	t.Helper()
	e, _ := newEngine(t, testConfig(), nil)
	alerts := feed(t, e, recs, t0, at(hours, 0, 0))
	return append(alerts, e.Flush()...)
}

// TestInboundPull: an outside client connects to a workstation and takes
// 80 MB; a server that has served the outside in three earlier windows
// does the same without an alert.
func TestInboundPull(t *testing.T) {
	recs := background("10.1.2.3", 0, 76)
	recs = append(recs, background("10.1.2.4", 0, 76)...)
	for h := 30; h < 33; h++ { // 10.1.2.4 serves the outside: three windows of 60 clients taking 1 MB each
		for c := range 60 {
			client := fmt.Sprintf("198.51.100.%d", 100+c)
			recs = append(recs, conn("10.1.2.4", 443, client, 40000, 1_000_000, 10_000, at(h, 10, c), at(h, 10, c), at(h, 10, c+1), true))
		}
	}
	for _, host := range []string{"10.1.2.3", "10.1.2.4"} {
		for i := range 8 { // 8 deltas of 10 MB
			s := at(74, 13, 10*i)
			recs = append(recs, conn(host, 22, "203.0.113.66", 51000, 10_000_000, 100_000, at(74, 13, 0), s, s.Add(10*time.Second), true))
		}
	}
	alerts := run(t, recs, 76)
	var evs []alert.Evidence
	for _, a := range alerts {
		if x := evidenceOf([]alert.Alert{a}, "inbound_pull"); len(x) > 0 {
			if a.Host != "10.1.2.3" {
				t.Errorf("inbound_pull for %s: %s", a.Host, a.Summary)
			}
			evs = append(evs, x...)
		}
	}
	if len(evs) != 1 {
		t.Fatalf("inbound_pull evidence %s, want one", toJSON(t, evs))
	}
	x := evs[0]
	if x.Remote != "203.0.113.66" || x.BytesOut != 80_000_000 || x.Threshold != 50_000_000 ||
		!x.Start.Equal(at(74, 13, 0)) || !strings.Contains(x.Reason, "has not served the outside before") {
		t.Errorf("evidence %s", toJSON(t, x))
	}
}

// TestLongLived: one TCP connection to a known remote, opened at 74:00,
// sends 5 MB every 10 minutes; once it is an hour old, 20 MB over it in
// one window is evidence (hour 75, again in hour 76: the same open
// incident, nothing new, not sent again). The same pattern to a remote
// half the fleet uses is not.
func TestLongLived(t *testing.T) {
	var recs []flow.Record
	for i, host := range []string{"10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"} {
		recs = append(recs, background(host, 0, 78)...)
		// Everyone uses 198.51.100.9; only 10.1.2.3 uses 203.0.113.30.
		remote := "198.51.100.9"
		if i == 0 {
			remote = "203.0.113.30"
		}
		for h := 0; h < 70; h += 10 {
			recs = append(recs, out(host, remote, 1000, at(h, 1, 0), at(h, 1, 1), ""))
		}
		for m := 0; m < 180; m += 10 {
			s := at(74, m, 0)
			recs = append(recs, conn(host, 50123, remote, 443, 5_000_000, 50_000, at(74, 0, 0), s, s.Add(time.Minute), false))
		}
	}
	alerts := run(t, recs, 78)
	evs := evidenceOf(alerts, "long_lived")
	if len(evs) != 1 {
		t.Fatalf("long_lived evidence %s, want one (hour 75) for 10.1.2.3 only", toJSON(t, alerts))
	}
	for i, x := range evs {
		if x.Remote != "203.0.113.30" || !x.FirstSeen.Equal(at(74, 0, 0)) || x.BytesOut != 20_000_000 || x.Prevalence != 1 ||
			!strings.Contains(x.Reason, "over a connection open since 2024-03-07 02:00 UTC") {
			t.Errorf("evidence %d: %s", i, toJSON(t, x))
		}
	}
	for _, a := range alerts {
		if a.Host != "10.1.2.3" {
			t.Errorf("alert for %s: %s", a.Host, a.Summary)
		}
	}
}

// TestP2P: in one hour a workstation exchanges data with 25 peers on high
// ports, 5 of which connected to it, sending 4× what it receives.
func TestP2P(t *testing.T) {
	recs := background("10.1.2.3", 0, 76)
	for i := range 25 {
		peer := fmt.Sprintf("203.0.113.%d", 100+i)
		s := at(74, 20, i)
		recs = append(recs, conn("10.1.2.3", 6881, peer, uint16(20000+i), 2_000_000, 500_000, s, s, s.Add(time.Second), i < 5))
	}
	alerts := run(t, recs, 76)
	evs := evidenceOf(alerts, "p2p")
	if len(alerts) != 1 || len(evs) != 1 {
		t.Fatalf("alerts %s, want one p2p", toJSON(t, alerts))
	}
	x := evs[0]
	if x.Peers != 25 || x.PeersIn != 5 || x.BytesOut != 50_000_000 || x.BytesIn != 12_500_000 || x.Threshold != 12 ||
		!strings.Contains(alerts[0].Summary, "p2p: exchanged data with 25 external peers on high ports, 5 of which connected in") {
		t.Errorf("evidence %s\nsummary %s", toJSON(t, x), alerts[0].Summary)
	}
}

// TestBeaconing: a host opens a connection to a rare remote every 60 s
// (± 2 s) with ~1.5 KB each; after 12 connections that is beaconing.
// When it later sends 3 MB there, the beacon has turned into an upload.
// Another host polling a remote every 60 s with sizes all over the place
// is not beaconing.
func TestBeaconing(t *testing.T) {
	recs := background("10.1.2.3", 0, 76)
	recs = append(recs, background("10.1.2.4", 0, 76)...)
	jitter := []int{0, 2, -1, 1, -2, 0, 1}
	for i := range 20 {
		s := at(74, 0, 0).Add(time.Duration(i)*time.Minute + time.Duration(jitter[i%7])*time.Second)
		recs = append(recs, conn("10.1.2.3", uint16(40000+i), "203.0.113.80", 443, 1500+uint64(i%3)*20, 4000, s, s, s.Add(time.Second), false))
		recs = append(recs, conn("10.1.2.4", uint16(40000+i), "203.0.113.81", 443, 500+uint64(i*i*97%5000), 4000, s, s, s.Add(time.Second), false))
	}
	s := at(74, 30, 0)
	recs = append(recs, conn("10.1.2.3", 41000, "203.0.113.80", 443, 3_000_000, 10_000, s, s, s.Add(10*time.Second), false))
	alerts := run(t, recs, 76)
	evs := evidenceOf(alerts, "beaconing")
	for _, a := range alerts {
		if a.Host != "10.1.2.3" {
			t.Errorf("alert for %s: %s", a.Host, a.Summary)
		}
	}
	if len(evs) != 2 {
		t.Fatalf("beaconing evidence %s, want the beacon and the upload", toJSON(t, evs))
	}
	b, up := evs[0], evs[1]
	if b.Connections != 12 || b.Interval != 61 || b.Remote != "203.0.113.80" || !b.FirstSeen.Equal(at(74, 0, 0)) ||
		!strings.Contains(b.Reason, "12 connections to 203.0.113.80 every 61.0 s (±1.00 s)") {
		t.Errorf("beacon evidence %s", toJSON(t, b))
	}
	if up.BytesOut < 3_000_000 || up.Connections != 20 || !strings.Contains(up.Reason, "the beacon turned into an upload") {
		t.Errorf("upload evidence %s", toJSON(t, up))
	}
}

// TestLowAndSlow: from hour 72 a host drips 600 KB every 10 minutes to a
// server nobody else uses: never 10 MB in an hour, but the decayed sum
// passes 50 MB after about 17 hours. Another host's nightly 150 MB backup
// to its own server is what that host usually accumulates: no evidence.
func TestLowAndSlow(t *testing.T) {
	var recs []flow.Record
	for _, h := range []string{"10.1.2.3", "10.1.2.4", "10.1.2.5"} { // common servers: not rare
		recs = append(recs, background(h, 0, 120)...)
	}
	for i := 0; i < 48*6; i++ {
		s := at(72, 10*i, 0)
		recs = append(recs, conn("10.1.2.3", uint16(40000+i%1000), "203.0.113.90", 443, 600_000, 6_000, s, s, s.Add(30*time.Second), false))
	}
	for d := 0; d < 5; d++ {
		s := at(24*d+1, 0, 0)
		recs = append(recs, conn("10.1.2.4", 50000, "203.0.113.91", 443, 150_000_000, 1_000_000, s, s, s.Add(20*time.Minute), false))
	}
	alerts := run(t, recs, 120)
	var evs []alert.Evidence
	for _, a := range alerts {
		for _, x := range a.Evidence {
			if x.Detector == "low_and_slow" {
				if a.Host != "10.1.2.3" {
					t.Errorf("low_and_slow for %s: %s", a.Host, a.Summary)
				}
				evs = append(evs, x)
			}
		}
	}
	if len(evs) != 2 {
		t.Fatalf("low_and_slow evidence %s, want one per day of the drip", toJSON(t, evs))
	}
	x := evs[0]
	// 594 KB net every 10 minutes, half-life 24 h: 123.7 MB·(1-0.9952^n)
	// passes 50 MB at the 108th drip, 17 h 50 min in.
	if x.Remote != "203.0.113.90" || x.Threshold != 50_000_000 || x.Baseline != 0 || x.BytesOut != 50_147_384 ||
		!x.Start.Equal(at(72, 0, 30)) || !x.End.Equal(at(72, 1070, 30)) ||
		!strings.Contains(x.Reason, "has sent 65 MB to 203.0.113.90 since 2024-03-07 00:00 UTC, a steady drip: 50 MB counted with a 24h half-life") ||
		!strings.Contains(x.Reason, "no other internal host talks to it") {
		t.Errorf("evidence %s", toJSON(t, x))
	}
}
