package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector"
	"github.com/outflowhq/outflow/collector/api"
	"github.com/outflowhq/outflow/collector/engine"
	"github.com/outflowhq/outflow/collector/notify"
	"github.com/outflowhq/outflow/collector/state"
	"github.com/outflowhq/outflow/collector/triage"
	"github.com/outflowhq/outflow/collector/web"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/httpserver"
	"github.com/outflowhq/outflow/transport"
)

// collectorFlags are the collector's command-line overrides; demo reuses them.
type collectorFlags struct {
	dataDir, listen, natsListen, natsURL, alerts, webhook, slack *string
}

func (cf *collectorFlags) register(fs *flag.FlagSet) {
	cf.dataDir = fs.String("data-dir", "", "where the embedded NATS server keeps streams and state")
	cf.listen = fs.String("listen", "", "HTTP address for /metrics, /healthz and /api")
	cf.natsListen = fs.String("nats-listen", "", "address the embedded NATS server listens on for sensors")
	cf.natsURL = fs.String("nats", "", "external NATS URL (default: run the embedded server)")
	cf.alerts = fs.String("alerts", "", "append alerts as JSON lines to FILE ('-': stdout)")
	cf.webhook = fs.String("webhook", "", "POST each alert to URL as Alertmanager's webhook payload (version 4)")
	cf.slack = fs.String("slack", "", "Slack incoming webhook URL")
}

func (cf *collectorFlags) apply(f *config.File, name string) {
	c := &f.Collector
	switch name {
	case "data-dir":
		c.DataDir = *cf.dataDir
	case "listen":
		c.Listen = *cf.listen
	case "nats-listen":
		c.NATS.Listen = *cf.natsListen
	case "nats":
		c.NATS.URL = *cf.natsURL
	case "alerts":
		c.Notify.JSONL = append(c.Notify.JSONL, notify.JSONLConfig{Name: "alerts-file", Path: *cf.alerts})
	case "webhook":
		c.Notify.Webhooks = append(c.Notify.Webhooks, notify.WebhookConfig{Name: "webhook-flag", URL: *cf.webhook})
	case "slack":
		c.Notify.Slack = append(c.Notify.Slack, notify.SlackConfig{Name: "slack-flag", URL: *cf.slack})
	}
}

func runCollector(args []string) error {
	fs := flag.NewFlagSet("collector", flag.ContinueOnError)
	var c common
	c.register(fs)
	var cf collectorFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := c.load(fs, cf.apply)
	if err != nil {
		return err
	}
	log, err := c.logger()
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	col, srv, err := startCollector(ctx, &f.Collector, log)
	if err != nil {
		return err
	}
	log.Info("collector running", "nats", col.NATSURL(), "metrics", "http://"+srv.Addr()+"/metrics", "api", "http://"+srv.Addr()+"/api/v1/alerts")
	err = col.Run(ctx)
	return errors.Join(err, stopCollector(col, srv))
}

// startCollector starts the collector and its HTTP endpoint.
func startCollector(ctx context.Context, cfg *config.Collector, log *slog.Logger) (*collector.Collector, *httpserver.Server, error) {
	auth, err := api.NewAuth(cfg.API)
	if err != nil {
		return nil, nil, err
	}
	set := metrics.NewSet()
	col, err := collector.New(ctx, *cfg, set, log)
	if err != nil {
		return nil, nil, err
	}
	tr, err := openTriage(ctx, col)
	if err != nil {
		_ = col.Close(context.Background())
		return nil, nil, err
	}
	go tr.Run(ctx)
	mux := http.NewServeMux()
	api.Register(mux, api.Options{Alerts: col, Sensors: col.Ingest(), Hosts: col, Triage: tr, Auth: auth, Detectors: engine.DetectorNames()})
	web.Register(mux)
	srv, err := httpserver.Start(cfg.Listen, set, col.Health, mux, log)
	if err != nil {
		_ = col.Close(context.Background())
		return nil, nil, err
	}
	return col, srv, nil
}

// openTriage loads the triage state and action log from the collector's
// JetStream and applies the run-time rules.
func openTriage(ctx context.Context, col *collector.Collector) (*triage.Triage, error) {
	kv, err := transport.TriageKV(ctx, col.JetStream(), transport.TriageConfig{})
	if err != nil {
		return nil, err
	}
	lg, err := transport.EnsureTriageLog(ctx, col.JetStream(), transport.TriageConfig{})
	if err != nil {
		return nil, err
	}
	return triage.Open(ctx, triage.Options{Store: state.NewKV(kv), Log: lg, Allow: col, Detectors: engine.DetectorNames()})
}

// stopCollector stops in reverse order of start: HTTP, then the collector
// (state saved, notifier queues drained for up to 30 s, NATS stopped).
func stopCollector(col *collector.Collector, srv *httpserver.Server) error {
	shutdownHTTP(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return col.Close(ctx)
}
