package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"net/netip"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/scenario"
)

// evalTestConfig is 9 hosts over 4 days from Monday: one incident of every
// kind on its own host on day 3 (after the engine's 48 h of learning),
// smaller than EvalConfig's, and one nightly backup on the ninth host.
func evalTestConfig() scenario.Config {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	day2 := func(h, m int) time.Time { // day 3, named as before
		return start.Add(48*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	cfg := scenario.Config{Hosts: 9, Days: 4, Start: start, Seed: 21, Snaplen: 192, Benign: scenario.Benign{Backups: 1}}
	backup := scenario.BenignRoles(cfg)[scenario.RoleBackup][0]
	var plain []netip.Addr
	for i := range cfg.Hosts {
		if h := scenario.HostAddr(i); h != backup {
			plain = append(plain, h)
		}
	}
	host := func(i int) netip.Addr { return plain[i] }
	cfg.Incidents = []scenario.Incident{
		{Kind: scenario.KindUpload, Host: host(0), At: day2(2, 10), Bytes: 200_000_000, Duration: 10 * time.Minute},
		{Kind: scenario.KindDocuments, Host: host(1), At: day2(10, 35)},
		{Kind: scenario.KindLowAndSlow, Host: host(2), At: day2(6, 0), Count: 60, Bytes: 40_000_000, Duration: 12 * time.Hour},
		{Kind: scenario.KindBeaconUpload, Host: host(3), At: day2(0, 30), Duration: 6 * time.Hour, Bytes: 20_000_000},
		{Kind: scenario.KindP2P, Host: host(4), At: day2(20, 0), Count: 40, Bytes: 40_000_000, Duration: time.Hour},
		{Kind: scenario.KindInboundPull, Host: host(5), At: day2(3, 15), Bytes: 60_000_000, Duration: 10 * time.Minute},
		{Kind: scenario.KindDNSTunnel, Host: host(6), At: day2(11, 0), Bytes: 200_000, Duration: 30 * time.Minute},
		{Kind: scenario.KindLongLived, Host: host(7), At: day2(13, 0), Bytes: 60_000_000, Duration: 2 * time.Hour},
	}
	return cfg
}

// `outflow eval -capture -truth` runs the analysis and prints one row per
// incident, a line per kind, and the false alerts. What it reports is what
// the engine does today: update want as detectors land.
func TestEval(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and analyses 4 days of 9 hosts")
	}
	want := map[string]string{ // kind → result with today's engine
		scenario.KindUpload:       "detected",
		scenario.KindDocuments:    "detected",
		scenario.KindLowAndSlow:   "missed",
		scenario.KindBeaconUpload: "detected",
		scenario.KindP2P:          "detected",
		scenario.KindInboundPull:  "detected",
		scenario.KindDNSTunnel:    "detected",
		scenario.KindLongLived:    "detected",
	}
	dir := t.TempDir()
	capture, truthPath := filepath.Join(dir, "c.pcap"), filepath.Join(dir, "truth.json")
	truth, err := writeCapture(evalTestConfig(), capture, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeTruth(truthPath, truth); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := outflow(t, "eval", "-capture", capture, "-truth", truthPath)
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	t.Logf("\n%s", stdout)
	if !strings.Contains(stdout, "9 hosts × 4 days = 36 host-days") {
		t.Errorf("no header with the host-days")
	}
	row := regexp.MustCompile(`(?m)^(\d+)\s+(\S+)\s+(10\.20\.\S+)\s+\w{3} \d\d-\d\d \d\d:\d\d\s+\S+\s+(\S+)\s+(detected|missed)\s+(\S+)\s+(\S+)\s+(.+?)\s*$`)
	rows := row.FindAllStringSubmatch(stdout, -1)
	if len(rows) != len(truth.Incidents) {
		t.Fatalf("%d incident rows, want %d", len(rows), len(truth.Incidents))
	}
	for i, r := range rows {
		inc := truth.Incidents[i]
		kind, host, expected, result, fired := r[2], r[3], r[4], r[5], r[6]
		if kind != inc.Kind || host != inc.Host.String() || expected != strings.Join(inc.Detectors, "|") {
			t.Errorf("row %d: %s %s expecting %s; want %s %s %v", i+1, kind, host, expected, inc.Kind, inc.Host, inc.Detectors)
		}
		if result != want[kind] {
			t.Errorf("%s: %s (fired %s), want %s", kind, result, fired, want[kind])
		}
		if result == "detected" && (r[7] == "-" || r[8] == "-") {
			t.Errorf("%s: detected without a delay: %q", kind, r[0])
		}
	}
	byKind, detected := "by kind:", 0
	for _, kind := range scenario.Kinds() {
		d := 0
		if want[kind] == "detected" {
			d = 1
		}
		detected += d
		byKind += fmt.Sprintf(" %s %d/1", kind, d)
	}
	for _, line := range []string{byKind, fmt.Sprintf("detected %d of 8 incidents (matching grace 10m0s)", detected), "false alerts: "} {
		if !strings.Contains(stdout, line) {
			t.Errorf("output lacks %q", line)
		}
	}

	// -strict turns misses into exit status 1.
	_, stderr, err = outflow(t, "eval", "-strict", "-capture", capture, "-truth", truthPath)
	if err == nil || !strings.Contains(stderr, fmt.Sprintf("strict: %d incidents missed", 8-detected)) {
		t.Errorf("-strict: %v\n%s", err, stderr)
	}
}

// The matching rule, on hand-made alerts.
func TestEvaluate(t *testing.T) {
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	host := scenario.HostAddr(1)
	mb := make([]time.Time, 20)
	for i := range mb {
		mb[i] = at.Add(time.Duration(i+1) * time.Second)
	}
	truth := scenario.Truth{
		Start: at.Add(-24 * time.Hour), End: at.Add(24 * time.Hour), Hosts: []netip.Addr{host, scenario.HostAddr(2)},
		Incidents: []scenario.IncidentTruth{
			{Incident: scenario.Incident{Kind: scenario.KindDocuments, Host: host}, Detectors: []string{"new_destination"},
				Start: at, End: at.Add(10 * time.Minute), OutMB: mb},
			{Incident: scenario.Incident{Kind: scenario.KindDNSTunnel, Host: scenario.HostAddr(2)}, Detectors: []string{"dns_tunnel"},
				Start: at, End: at.Add(time.Hour)},
		},
	}
	a := func(h string, start, end time.Time, det ...string) alert.Alert {
		return alert.Alert{Host: h, Start: start, End: end, Detectors: det}
	}
	alerts := []alert.Alert{
		a(host.String(), at.Add(5*time.Second), at.Add(40*time.Second), "new_destination"),         // detects 0, 30 s after 10 MB
		a(host.String(), at.Add(19*time.Minute), at.Add(20*time.Minute), "volume"),                 // within grace: explained
		a(host.String(), at.Add(21*time.Minute), at.Add(22*time.Minute), "volume"),                 // after grace: false
		a(scenario.HostAddr(2).String(), at.Add(-2*time.Hour), at.Add(-time.Hour), "volume"),       // before: false
		a(scenario.HostAddr(2).String(), at.Add(30*time.Minute), at.Add(31*time.Minute), "volume"), // matches, wrong detector
	}
	rep := evaluate(truth, alerts, 10*time.Minute, 10_000_000)
	if r := rep.incidents[0]; !r.detected || r.delay != 30*time.Second || r.from != "10 MB sent" {
		t.Errorf("documents: detected %v after %s from %q; want 30s from 10 MB sent", r.detected, r.delay, r.from)
	}
	if r := rep.incidents[1]; r.detected || strings.Join(r.fired, ",") != "volume" {
		t.Errorf("dns_tunnel: detected %v, fired %v; want missed, volume", r.detected, r.fired)
	}
	if len(rep.falseAlerts) != 2 || rep.missed != 1 || rep.hostDays != 4 || rep.falsePer100 != 50 {
		t.Errorf("%d false alerts, %d missed, %.0f host-days, %.1f per 100", len(rep.falseAlerts), rep.missed, rep.hostDays, rep.falsePer100)
	}
}
