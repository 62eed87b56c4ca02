package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/allow"
	"github.com/outflowhq/outflow/collector/engine"
	"github.com/outflowhq/outflow/collector/ingest"
	"github.com/outflowhq/outflow/collector/notify"
	"github.com/outflowhq/outflow/collector/state"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/transport"
	"github.com/outflowhq/outflow/wire"
)

// Collector is a running collector.
type Collector struct {
	cfg    config.Collector
	log    *slog.Logger
	set    *metrics.Set
	emb    *transport.Embedded
	nc     *nats.Conn
	js     jetstream.JetStream
	cons   *transport.Consumer
	engMu  sync.Mutex // the engine is used from the consumer goroutine and the API
	eng    *engine.Engine
	disp   *notify.Dispatcher
	in     *ingest.Ingest
	recent *recent

	alertsPublished, alertPublishFailed *metrics.Counter
	lag                                 *metrics.Gauge
}

// New starts NATS (embedded unless cfg.NATS.URL is set), declares the
// streams, restores state and builds the notifiers. Nothing is consumed
// until Run.
func New(ctx context.Context, cfg config.Collector, set *metrics.Set, log *slog.Logger) (*Collector, error) {
	c := &Collector{cfg: cfg, log: log, set: set, recent: &recent{max: cfg.RecentAlerts},
		alertsPublished:    set.NewCounter("outflow_collector_alerts_published_total"),
		alertPublishFailed: set.NewCounter("outflow_collector_alert_publish_failed_total"),
		lag:                set.NewGauge("outflow_collector_consumer_lag_messages", nil),
	}
	ok := false
	defer func() {
		if !ok {
			c.closeNATS()
		}
	}()
	var err error
	if cfg.NATS.URL == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("collector data_dir: %w", err)
		}
		c.emb, err = transport.StartServer(transport.ServerConfig{Listen: cfg.NATS.Listen, StoreDir: filepath.Join(cfg.DataDir, "nats")})
		if err != nil {
			return nil, err
		}
		c.nc, err = c.emb.Connect("outflow-collector")
	} else {
		c.nc, err = transport.Dial(cfg.NATS.URL, "outflow-collector", log)
	}
	if err != nil {
		return nil, err
	}
	if c.js, err = jetstream.New(c.nc); err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := transport.EnsureStreams(ctx, c.js, cfg.Streams.StreamConfig()); err != nil {
		return nil, err
	}
	if err := c.restoreRecent(ctx); err != nil {
		return nil, err
	}
	kv, err := transport.StateKV(ctx, c.js, 1)
	if err != nil {
		return nil, err
	}
	if c.eng, err = engine.New(cfg.Detect, state.NewKV(kv), set); err != nil {
		return nil, fmt.Errorf("restore detection state: %w", err)
	}
	if c.disp, err = notify.Build(cfg.Notify, set, log); err != nil {
		return nil, err
	}
	if err := c.disp.Start(ctx, c.js); err != nil {
		_ = c.disp.Close(context.Background())
		return nil, err
	}
	if c.cons, err = transport.NewConsumer(ctx, c.js, cfg.Durable, cfg.Filter); err != nil {
		return nil, err
	}
	c.in = ingest.New(func(sensor string, clock time.Time, b *wire.Batch) []alert.Alert {
		c.engMu.Lock()
		defer c.engMu.Unlock()
		return c.eng.Ingest(sensor, clock, b.Flows)
	}, c.deliver, set)
	ok = true
	return c, nil
}

// restoreRecent fills the recent list from the alert stream's tail, so the
// API and UI show the same alerts after a restart. An incident's updates
// replace each other, so more messages than the list holds are read.
func (c *Collector) restoreRecent(ctx context.Context) error {
	msgs, err := transport.LastAlerts(ctx, c.js, 4*c.cfg.RecentAlerts)
	if err != nil {
		return err
	}
	as := make([]alert.Alert, 0, len(msgs))
	for _, data := range msgs {
		var a alert.Alert
		if err := json.Unmarshal(data, &a); err != nil {
			c.log.Warn("unreadable alert in the alert stream", "err", err)
			continue
		}
		as = append(as, a)
	}
	c.recent.add(as)
	return nil
}

// NATSURL is where sensors connect: the embedded server's client URL, or
// the configured external URL.
func (c *Collector) NATSURL() string {
	if c.emb != nil {
		return c.emb.ClientURL()
	}
	return c.cfg.NATS.URL
}

// JetStream exposes the collector's JetStream context (analyze publishes
// through it in-process).
func (c *Collector) JetStream() jetstream.JetStream { return c.js }

// Embedded is the in-process NATS server, nil when external.
func (c *Collector) Embedded() *transport.Embedded { return c.emb }

// Ingest exposes sensor health and the last handled sequence.
func (c *Collector) Ingest() *ingest.Ingest { return c.in }

// Health is nil while the collector is connected to NATS.
func (c *Collector) Health() error {
	if !c.nc.IsConnected() {
		return fmt.Errorf("nats: %s", c.nc.Status())
	}
	return nil
}

// HostReport is the engine's report on one internal host (the web UI's
// host page): windows from since on and its top maxRemotes remotes.
func (c *Collector) HostReport(host netip.Addr, since time.Time, maxRemotes int) (engine.HostReport, bool) {
	c.engMu.Lock()
	defer c.engMu.Unlock()
	r, ok := c.eng.Host(host, since, maxRemotes)
	return r, ok
}

// HostName is the configured name of an internal host, "" when none.
func (c *Collector) HostName(host string) string { return c.cfg.HostNames[host] }

// SetRuntimeAllow replaces the allowlist rules and maintenance windows
// added by triage actions (suppressions, allowlisted destinations); the
// configured ones stay.
func (c *Collector) SetRuntimeAllow(rt allow.Config) error {
	c.engMu.Lock()
	defer c.engMu.Unlock()
	return c.eng.SetRuntimeAllow(rt)
}

// Alerts returns the recent alerts, newest first.
func (c *Collector) Alerts() []alert.Alert { return c.recent.Alerts() }

// Run consumes flow batches until ctx ends.
func (c *Collector) Run(ctx context.Context) error {
	go c.watchLag(ctx)
	err := c.cons.Run(ctx, func(d *transport.Delivery) error {
		err := c.in.Handle(d)
		if err != nil {
			c.log.Warn("batch rejected", "subject", d.Subject, "seq", d.Seq, "err", err)
		}
		return err
	})
	return err
}

// Drained reports whether every message in the flow stream up to its
// current end has been handled: used by analyze to know it is done.
func (c *Collector) Drained(ctx context.Context) (bool, error) {
	last, err := transport.LastSeq(ctx, c.js)
	if err != nil {
		return false, err
	}
	pending, err := c.cons.Pending(ctx)
	if err != nil {
		return false, err
	}
	return pending == 0 && c.in.LastSeq() >= last, nil
}

func (c *Collector) watchLag(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if n, err := c.cons.Pending(ctx); err == nil {
			c.lag.Set(float64(n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliver sends new alerts to the alert stream, the notifiers and the
// recent list. It runs on the consumer goroutine; notifiers queue.
func (c *Collector) deliver(as []alert.Alert) {
	for i := range as {
		a := &as[i]
		a.HostName = c.cfg.HostNames[a.Host]
		if c.cfg.ExternalURL != "" {
			a.URL = strings.TrimSuffix(c.cfg.ExternalURL, "/") + "/ui/alerts/" + url.PathEscape(a.ID)
		}
	}
	c.recent.add(as)
	for i := range as {
		a := &as[i]
		c.log.Info("alert", "id", a.ID, "status", a.Status, "update", a.Update, "host", a.Host, "severity", a.Severity, "detectors", a.Detectors, "summary", a.Summary)
		c.publishAlert(a) // the notifiers deliver it from the stream
	}
}

func (c *Collector) publishAlert(a *alert.Alert) {
	data, err := json.Marshal(a)
	if err == nil {
		for attempt := range 3 {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * time.Second)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = transport.PublishAlert(ctx, c.js, string(a.Severity), a.Host, a.ID, a.Update, data)
			cancel()
			if err == nil {
				break
			}
		}
	}
	if err != nil {
		c.alertPublishFailed.Inc()
		c.log.Warn("publish alert to stream", "id", a.ID, "err", err)
		return
	}
	c.alertsPublished.Inc()
}

// Finish ends the input (analyze): closes every window and group and
// delivers what they hold.
func (c *Collector) Finish() {
	c.engMu.Lock()
	as := c.eng.Flush()
	c.engMu.Unlock()
	if len(as) > 0 {
		c.deliver(as)
	}
}

// Close saves state, drains notifier queues (bounded by ctx) and stops NATS.
// Call it after Run has returned.
func (c *Collector) Close(ctx context.Context) error {
	var errs []error
	c.engMu.Lock()
	err := c.eng.Save()
	c.engMu.Unlock()
	if err != nil {
		errs = append(errs, fmt.Errorf("save detection state: %w", err))
	}
	if err := c.disp.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	c.closeNATS()
	return errors.Join(errs...)
}

func (c *Collector) closeNATS() {
	if c.nc != nil {
		_ = c.nc.Drain()
		c.nc.Close()
	}
	if c.emb != nil {
		c.emb.Shutdown()
	}
}
