package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/notify"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/scenario"
)

func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var c common
	c.register(fs)
	dir := fs.String("dir", "", "working directory for the capture, NATS data and alert log (default: a new temporary one)")
	listen := fs.String("listen", "127.0.0.1:9100", "collector HTTP address (metrics, API)")
	exit := fs.Bool("exit", false, "stop once the alert has reached the webhook instead of running until Ctrl-C")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up when no alert arrived by then")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := c.load(fs, func(*config.File, string) {})
	if err != nil {
		return err
	}
	log, err := c.logger()
	if err != nil {
		return err
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "outflow-demo-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(*dir, 0o750); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	say := func(format string, a ...any) { fmt.Printf("demo: "+format+"\n", a...) }

	// 1. A capture with a leak in it.
	sc := scenario.DemoConfig()
	capture := filepath.Join(*dir, "demo.pcap")
	truth, err := writeCapture(sc, capture, true)
	if err != nil {
		return err
	}
	inc := truth.Incidents[0]
	say("generated %s: %d hosts, %s to %s, %d packets", capture, len(truth.Hosts),
		truth.Start.Format("Mon 2006-01-02"), truth.End.Add(-time.Second).Format("Mon 2006-01-02"), truth.Packets)
	say("hidden in it: %s uploads %s to %s (%s) at %s UTC", inc.Host, alert.HumanBytes(inc.OutIPBytes), inc.RemoteName, inc.Remote,
		inc.First.Format("Mon 15:04"))

	// 2. A local webhook receiver standing in for the SOC's chat.
	received := make(chan alert.Alert, 16)
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hook := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a alert.Alert
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&a); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case received <- a:
		default:
		}
	})}
	go func() { _ = hook.Serve(hookLn) }()
	defer hook.Close()
	hookURL := "http://" + hookLn.Addr().String() + "/outflow"

	// 3. The collector, with embedded NATS on a free loopback port.
	cc := f.Collector
	cc.DataDir, cc.Listen, cc.NATS.URL, cc.NATS.Listen = filepath.Join(*dir, "data"), *listen, "", "127.0.0.1:0"
	if cc.ExternalURL == "" && !strings.HasSuffix(*listen, ":0") {
		cc.ExternalURL = "http://" + *listen // alerts link to their page in the UI
	}
	alertsPath := filepath.Join(*dir, "alerts.jsonl")
	cc.Notify.JSONL = append(cc.Notify.JSONL, notify.JSONLConfig{Name: "demo-alerts", Path: alertsPath})
	cc.Notify.Webhooks = append(cc.Notify.Webhooks, notify.WebhookConfig{Name: "demo-webhook", URL: hookURL, Format: notify.FormatOutflow})
	col, srv, err := startCollector(ctx, &cc, log)
	if err != nil {
		return err
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- col.Run(runCtx) }()
	defer func() {
		stopRun()
		<-runDone
		_ = stopCollector(col, srv)
	}()
	say("collector running: NATS %s, metrics http://%s/metrics, API http://%s/api/v1/alerts", col.NATSURL(), srv.Addr(), srv.Addr())

	// 4. A sensor process replaying the capture into it.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	say("starting sensor process: outflow sensor -id demo-gw -pcap %s -nats %s", capture, col.NATSURL())
	sensorCmd := exec.CommandContext(ctx, self, "sensor", "-id", "demo-gw", "-pcap", capture, "-nats", col.NATSURL(), "-listen", "127.0.0.1:0", "-log-level", "warn")
	sensorCmd.Stdout, sensorCmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := sensorCmd.Run(); err != nil {
		return fmt.Errorf("sensor process: %w", err)
	}
	say("sensor replayed %d packets in %s", truth.Packets, time.Since(start).Round(time.Millisecond))

	// 5. The alert, as the webhook received it.
	select {
	case a := <-received:
		say("webhook %s received alert %s:", hookURL, a.ID)
		fmt.Printf("\n  %s\n  %s\n\n", a.Title(), a.Summary)
		pretty, _ := json.MarshalIndent(a, "  ", "  ")
		fmt.Printf("  %s\n\n", pretty)
	case <-time.After(*timeout):
		return fmt.Errorf("no alert reached the webhook within %s; see %s and http://%s/metrics", *timeout, alertsPath, srv.Addr())
	case <-ctx.Done():
		return nil
	}
	say("alerts are also in %s and at http://%s/api/v1/alerts", alertsPath, srv.Addr())
	say("web UI: http://%s/ui/ (read-only: set collector.api.tokens to triage)", srv.Addr())
	say("metrics: http://%s/metrics   sensors: http://%s/api/v1/sensors", srv.Addr(), srv.Addr())
	if *exit {
		return nil
	}
	say("running until Ctrl-C (data in %s)", *dir)
	<-ctx.Done()
	return nil
}

// writeCapture generates cfg into path; wantIncident fails when the
// scenario has no incident (the demo needs one).
func writeCapture(cfg scenario.Config, path string, wantIncident bool) (scenario.Truth, error) {
	fh, err := os.Create(path)
	if err != nil {
		return scenario.Truth{}, err
	}
	bw := bufio.NewWriterSize(fh, 1<<20)
	truth, err := scenario.Generate(cfg, bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return truth, fmt.Errorf("write capture %s: %w", path, err)
	}
	if wantIncident && len(truth.Incidents) == 0 {
		return truth, errors.New("demo scenario has no incident")
	}
	return truth, nil
}
