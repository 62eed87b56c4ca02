package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/outflowhq/outflow/collector"
	"github.com/outflowhq/outflow/collector/notify"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/sensor"
	"github.com/outflowhq/outflow/transport"
)

const analyzeUsage = `Usage: outflow analyze [flags] CAPTURE...

Runs a sensor and a collector in one process over an in-process NATS
server, in event time, over pcap/pcapng files (replayed in the order given,
as one capture). Writes flow records and alerts as JSON lines.

`

func runAnalyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), analyzeUsage); fs.PrintDefaults() }
	var c common
	c.register(fs)
	internal := fs.String("internal", "", "internal networks, comma-separated CIDRs (default RFC 1918, RFC 6598, fc00::/7)")
	flows := fs.String("flows", "", "write flow records as JSON lines to FILE ('-': stdout)")
	alerts := fs.String("alerts", "-", "write alerts as JSON lines to FILE ('-': stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no capture files given")
	}
	f, err := c.load(fs, func(f *config.File, name string) {
		if name == "internal" {
			f.Sensor.Internal = splitList(*internal)
		}
	})
	if err != nil {
		return err
	}
	log, err := c.logger()
	if err != nil {
		return err
	}
	for _, p := range fs.Args() {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("capture: %w", err)
		}
	}
	ctx, stop := signalContext()
	defer stop()
	var flowsOut io.Writer
	if *flows != "" {
		w, closeFn, err := openOutput(*flows)
		if err != nil {
			return err
		}
		defer closeFn()
		flowsOut = w
	}
	return analyze(ctx, f, fs.Args(), *alerts, flowsOut, log)
}

// analyze runs sensor and collector in one process; alerts go to the
// JSON-lines file alertsPath (and nowhere else unless the config names
// notifiers).
func analyze(ctx context.Context, f *config.File, captures []string, alertsPath string, flowsOut io.Writer, log *slog.Logger) error {
	dir, err := os.MkdirTemp("", "outflow-analyze-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cc := f.Collector
	cc.DataDir, cc.NATS.URL, cc.NATS.Listen = dir, "", ""
	if alertsPath != "" {
		cc.Notify.JSONL = append(cc.Notify.JSONL, notify.JSONLConfig{Name: "analyze-alerts", Path: alertsPath})
	}
	sc := f.Sensor
	sc.Pcap, sc.Interfaces = captures, nil
	if sc.ID == "" {
		sc.ID = "analyze"
	}

	set := metrics.NewSet()
	col, err := collector.New(ctx, cc, set, log)
	if err != nil {
		return err
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- col.Run(runCtx) }()
	// stopRun stops the consumer once and returns how it ended.
	var runErr error
	var stopped bool
	stopRun := func() error {
		if !stopped {
			cancelRun()
			runErr, stopped = <-runDone, true
		}
		return runErr
	}
	closeAll := func() error {
		rerr := stopRun()
		drain, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return errors.Join(rerr, col.Close(drain))
	}

	nc, err := col.Embedded().Connect("outflow-analyze-sensor")
	if err != nil {
		return errors.Join(err, closeAll())
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return errors.Join(err, closeAll())
	}
	serr := sensor.Run(ctx, &sc, sensor.Options{Publisher: transport.NewPublisher(js, set), Flows: flowsOut, Metrics: set, Log: log})
	if serr != nil {
		return errors.Join(serr, closeAll())
	}
	// Wait until the collector has handled every batch, then end the input.
	for {
		done, err := col.Drained(ctx)
		if err != nil {
			return errors.Join(fmt.Errorf("wait for collector: %w", err), closeAll())
		}
		if done {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), closeAll())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := stopRun(); err != nil {
		return errors.Join(err, closeAll())
	}
	col.Finish()
	log.Debug("analyze done", "packets", set.GetOrCreateCounter("outflow_sensor_packets_total").Get(),
		"batches", set.GetOrCreateCounter("outflow_collector_batches_total").Get())
	return closeAll()
}
