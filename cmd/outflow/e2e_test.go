package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/notify"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/scenario"
)

// A sensor process replays the demo capture into a collector over a real
// NATS connection; the alert for the injected upload reaches a webhook
// receiver and the JSON-lines file, and agrees exactly with the sensor's own
// flow records.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "demo.pcap")
	truth, err := writeCapture(scenario.DemoConfig(), capture, true)
	if err != nil {
		t.Fatal(err)
	}
	inc := truth.Incidents[0]

	got := make(chan alert.Alert, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("webhook Content-Type = %q", ct)
		}
		var a alert.Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		got <- a
	}))
	defer hook.Close()

	f, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cc := f.Collector
	alertsPath := filepath.Join(dir, "alerts.jsonl")
	cc.DataDir, cc.Listen, cc.NATS.Listen = filepath.Join(dir, "data"), "127.0.0.1:0", "127.0.0.1:0"
	cc.Notify.JSONL = []notify.JSONLConfig{{Path: alertsPath}}
	cc.Notify.Webhooks = []notify.WebhookConfig{{URL: hook.URL + "/alerts", Format: notify.FormatOutflow}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	col, srv, err := startCollector(ctx, &cc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- col.Run(ctx) }()

	flowsPath := filepath.Join(dir, "flows.jsonl")
	cmd := exec.Command(os.Args[0], "sensor", "-id", "e2e", "-pcap", capture, "-nats", col.NATSURL(), "-flows", flowsPath, "-listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "OUTFLOW_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sensor process: %v\n%s", err, out)
	}

	var a alert.Alert
	select {
	case a = <-got:
	case <-time.After(60 * time.Second):
		t.Fatal("no alert at the webhook within 60s")
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if err := stopCollector(col, srv); err != nil {
		t.Fatal(err)
	}
	// After the alert, only its own resolution may come (the replay ends
	// and the upload with it).
	select {
	case extra := <-got:
		if extra.ID != a.ID || extra.Status != alert.StatusResolved {
			t.Fatalf("a second alert: %+v", extra)
		}
	default:
	}

	// The alert names the leak.
	if a.Host != inc.Host.String() || len(a.Remotes) == 0 || a.Remotes[0] != inc.Remote.String() ||
		len(a.RemoteNames) == 0 || a.RemoteNames[0] != inc.RemoteName {
		t.Fatalf("alert is about the wrong thing: host %s remotes %v names %v", a.Host, a.Remotes, a.RemoteNames)
	}
	if !slices.Contains(a.Detectors, "new_destination") || !slices.Contains(a.Detectors, "volume") {
		t.Errorf("detectors = %v, want new_destination and volume", a.Detectors)
	}
	if a.Severity != alert.SeverityCritical {
		t.Errorf("severity = %s", a.Severity)
	}
	// Its bytes are exactly what the sensor reported for that host in the
	// alert's window, and include every byte of the upload.
	var hostOut, toRemote, upToEnd uint64
	forEachFlow(t, flowsPath, func(r *flow.Record) {
		host, remote, bytesOut, _, _, ok := r.Local()
		if !ok || host != inc.Host {
			return
		}
		if remote == inc.Remote {
			toRemote += bytesOut
		}
		if !r.End.Before(a.Start.Truncate(time.Hour)) && r.End.Before(a.Start.Truncate(time.Hour).Add(time.Hour)) {
			hostOut += bytesOut
			if !r.End.After(a.End) {
				upToEnd += bytesOut
			}
		}
	})
	if toRemote != inc.OutIPBytes {
		t.Errorf("sensor counted %d bytes from %s to %s, the capture holds %d", toRemote, inc.Host, inc.Remote, inc.OutIPBytes)
	}
	// The alert is raised while the upload is under way (within a minute
	// of the evidence, not after the upload ends), so it reports exactly
	// what the host had sent in that hour up to the alert's end, by the
	// sensor's own records: the engine's result does not depend on how
	// batches were cut. It is past the night's 50 MB volume floor.
	if a.BytesOut != upToEnd || a.BytesOut < 50_000_000 || a.BytesOut > hostOut {
		t.Errorf("alert bytes_out %d, want the host's %d bytes in records ending by %s (window total %d)", a.BytesOut, upToEnd, a.End, hostOut)
	}
	if a.Start.Before(inc.First) || a.Start.After(inc.Last) {
		t.Errorf("alert start %s outside the upload [%s, %s]", a.Start, inc.First, inc.Last)
	}

	// The JSON-lines file holds the same alert first (then, maybe, its
	// resolution).
	data, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	var fromFile alert.Alert
	if err := json.Unmarshal(first, &fromFile); err != nil {
		t.Fatalf("alerts file: %v\n%s", err, data)
	}
	if fromFile.ID != a.ID || fromFile.BytesOut != a.BytesOut || fromFile.Summary != a.Summary {
		t.Fatalf("file alert %+v differs from webhook alert %+v", fromFile, a)
	}
	t.Logf("alert: %s (bytes_out %d, host's bytes up to its end %d)", a.Summary, a.BytesOut, upToEnd)
}

func forEachFlow(t *testing.T, path string, fn func(*flow.Record)) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r flow.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fn(&r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
