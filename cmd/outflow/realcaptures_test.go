package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

const realCaptures = "../../../shared/testdata/real/"

// parseAlerts returns the alerts sent while incidents were open; each
// incident's resolution at the end of the capture is left out.
func parseAlerts(t *testing.T, jsonl string) []alert.Alert {
	t.Helper()
	var out []alert.Alert
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line == "" {
			continue
		}
		var a alert.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("alert line %q: %v", line, err)
		}
		if a.Status != alert.StatusResolved {
			out = append(out, a)
		}
	}
	return out
}

// TestRealCaptureP2P: bittorrent.pcap (nDPI's test capture) is one host
// talking to 15 BitTorrent peers on high ports within 15 seconds: a
// peer-to-peer client, alerted as a warning (it connects out and
// downloads; it is not seen serving).
func TestRealCaptureP2P(t *testing.T) {
	stdout, stderr, err := outflow(t, "analyze", realCaptures+"bittorrent.pcap")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	alerts := parseAlerts(t, stdout)
	if len(alerts) != 1 {
		t.Fatalf("alerts: %s", stdout)
	}
	a := alerts[0]
	if a.Host != "192.168.1.3" || strings.Join(a.Detectors, ",") != "p2p" || a.Severity != alert.SeverityWarning || len(a.Evidence) != 1 {
		t.Fatalf("alert: %s", stdout)
	}
	x := a.Evidence[0]
	if x.Peers != 15 || x.PeersIn != 0 || x.BytesOut != 9_993 || x.BytesIn != 291_549 || !strings.HasSuffix(x.Reason, "a peer-to-peer client") {
		t.Errorf("evidence: %+v", x)
	}
}

// TestRealCaptureFTPActiveUpload: in ftp-uploadfailed.pcap (Chris
// Sanders' packets) the FTP server opens the data connection from port 20
// to the client, which then uploads 1.47 MB over it. With the client as
// the internal host, the bytes are its outbound bytes although it did not
// open the connection, and inbound_pull (its threshold lowered to 1 MB to
// fit the capture) names the server.
func TestRealCaptureFTPActiveUpload(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "outflow.yaml")
	if err := os.WriteFile(conf, []byte("collector:\n  detect:\n    inbound_min_bytes: 1000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := outflow(t, "analyze", "-config", conf, "-internal", "67.169.189.180/32", realCaptures+"ftp-uploadfailed.pcap")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	alerts := parseAlerts(t, stdout)
	if len(alerts) != 1 || alerts[0].Host != "67.169.189.180" {
		t.Fatalf("alerts: %s", stdout)
	}
	a := alerts[0]
	if strings.Join(a.Detectors, ",") != "inbound_pull" || a.BytesOut != 1_468_584 || len(a.Evidence) != 1 ||
		a.Evidence[0].Remote != "128.121.136.217" || a.Evidence[0].BytesOut != 1_468_584 {
		t.Errorf("alert: %s", stdout)
	}
}

// TestRealCaptureBeacon: test-cc-capture-1.pcap (Stratosphere) is one host
// connecting to 141.193.213.21:443 every ~2.2 s with ~1.6 KB requests:
// beaconing once 12 connections show the rhythm.
func TestRealCaptureBeacon(t *testing.T) {
	stdout, stderr, err := outflow(t, "analyze", "-internal", "147.32.80.0/24", realCaptures+"test-cc-capture-1.pcap")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	alerts := parseAlerts(t, stdout)
	if len(alerts) != 1 || alerts[0].Host != "147.32.80.37" || strings.Join(alerts[0].Detectors, ",") != "beaconing" {
		t.Fatalf("alerts: %s", stdout)
	}
	x := alerts[0].Evidence[0]
	if x.Remote != "141.193.213.21" || x.Connections != 12 || x.Interval != 2.2 || x.Prevalence != 1 {
		t.Errorf("evidence: %+v", x)
	}
}

// TestRealCaptureDNSTunnel: dnscat sends 150 queries in one minute from one
// socket straight to its server, with names under no registered domain
// (dnscat.<hex>.<hex>); the flow table cuts one delta per name, and the
// alert counts all of them, by name bytes.
func TestRealCaptureDNSTunnel(t *testing.T) {
	stdout, stderr, err := outflow(t, "analyze", "-internal", "192.168.0.0/16", realCaptures+"dns_exfiltration.pcap")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	alerts := parseAlerts(t, stdout)
	if len(alerts) != 1 || alerts[0].Host != "192.168.220.56" || strings.Join(alerts[0].Detectors, ",") != "dns_tunnel" {
		t.Fatalf("alerts: %s", stdout)
	}
	a := alerts[0]
	const reason = "asked 150 DNS queries with at least 100 unique names under no registered domain, straight to " +
		"192.168.203.167, 23 KB of query names (thresholds 100 unique, 10 KB) between 08:35:46 and 08:36:46 UTC: " +
		"data hidden in DNS names; no other internal host asks that server"
	x := a.Evidence[0]
	if len(a.Evidence) != 1 || x.Remote != "192.168.203.167" || x.Domain != "" || x.Queries != 150 || x.UniqueNames != 100 ||
		x.BytesOut != 23419 || x.Prevalence != 1 || x.Score != 67.4 || x.Reason != reason ||
		x.Start.Format(time.RFC3339Nano) != "2020-02-06T08:35:46.717893Z" || x.End.Format(time.RFC3339Nano) != "2020-02-06T08:36:46.707432Z" {
		t.Errorf("evidence: %+v", x)
	}
	if a.BytesOut != 23419 || a.Severity != alert.SeverityWarning || a.Score != 67.4 || strings.Join(a.Remotes, ",") != "192.168.203.167" ||
		a.Summary != "192.168.220.56 sent 23 KB to 192.168.203.167 between 08:35 and 08:36 UTC. dns_tunnel: "+reason+"." {
		t.Errorf("alert: %s", stdout)
	}
}
