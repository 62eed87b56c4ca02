package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/collector/alert"
)

const realCaptures = "../../../shared/testdata/real/"

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
		out = append(out, a)
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
