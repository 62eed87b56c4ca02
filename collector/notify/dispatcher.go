package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/transport"
)

// Options say how the Dispatcher delivers to one notifier.
type Options struct {
	Retry *RetryPolicy // nil: one attempt per alert (a local file)
}

// ErrSkipped is returned by a Notifier that chose not to send an alert (a
// route that does not match it): the alert is done with, but not counted
// as sent.
var ErrSkipped = errors.New("notify: skipped by route")

// Dispatcher delivers the alerts of the alert stream to notifiers. Each
// notifier reads the stream through its own durable JetStream consumer (its
// queue, bounded by the stream's limits), one alert at a time and in order,
// and acknowledges an alert only once it was delivered or given up on. So
// a slow or failing notifier delays nobody else, an alert in the middle of
// its retries when the collector stops is delivered after the restart, and
// an alert already delivered is not sent again.
//
// The one gap: a collector killed between a receiver's 2xx and the
// acknowledgement (a few milliseconds) sends that alert again.
type Dispatcher struct {
	set *metrics.Set
	log *slog.Logger

	mu      sync.Mutex
	targets []*target
	js      jetstream.JetStream
	started bool
	closed  bool

	// AckWait overrides transport.AlertAckWait (tests); set before Start.
	AckWait time.Duration

	ctx    context.Context // cancelled when Close stops waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type target struct {
	n     Notifier
	name  string
	cons  jetstream.Consumer
	gauge string // metric name, unregistered on Close

	pending                                              atomic.Uint64 // alerts in the stream the notifier has not finished
	lastSeq                                              atomic.Uint64 // stream sequence of the last alert finished
	sent, failed, dropped, retries, redelivered, skipped *metrics.Counter
}

// NewDispatcher returns an empty Dispatcher; Add notifiers to it, then
// Start it. Metrics are registered on set (one Dispatcher per set at a
// time), delivery failures logged on log (nil discards them).
func NewDispatcher(set *metrics.Set, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{set: set, log: log, ctx: ctx, cancel: cancel}
}

// Add registers n; it receives alerts once the Dispatcher is started.
// Names must be unique: they name the consumers and label the metrics.
func (d *Dispatcher) Add(n Notifier, o Options) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	name := n.Name()
	switch {
	case d.closed:
		return fmt.Errorf("notify: add %s: dispatcher closed", name)
	case d.started:
		return fmt.Errorf("notify: add %s: dispatcher already started", name)
	}
	if err := checkName(name); err != nil {
		return fmt.Errorf("notify: add: name %w", err)
	}
	for _, t := range d.targets {
		if transport.AlertDurable(t.name) == transport.AlertDurable(name) {
			return fmt.Errorf("notify: add %s: duplicate notifier name (or same as %s with '.' for '_')", name, t.name)
		}
	}
	label := fmt.Sprintf("{notifier=%q}", name)
	// The gauge reads this target: a second live Dispatcher on the same set
	// would silently report the first one's.
	if slices.Contains(d.set.ListMetricNames(), "outflow_notify_queue_length"+label) {
		return fmt.Errorf("notify: add %s: its queue gauge is already registered (another Dispatcher on the same metrics set?)", name)
	}
	t := &target{
		name:        name,
		gauge:       "outflow_notify_queue_length" + label,
		sent:        d.set.GetOrCreateCounter("outflow_notify_sent_total" + label),
		failed:      d.set.GetOrCreateCounter("outflow_notify_failed_total" + label),
		dropped:     d.set.GetOrCreateCounter("outflow_notify_dropped_total" + label),
		retries:     d.set.GetOrCreateCounter("outflow_notify_retries_total" + label),
		redelivered: d.set.GetOrCreateCounter("outflow_notify_redelivered_total" + label),
		skipped:     d.set.GetOrCreateCounter("outflow_notify_skipped_total" + label),
	}
	t.n = n
	if o.Retry != nil {
		t.n = Retry(n, *o.Retry, func(err error, wait time.Duration) {
			t.retries.Inc()
			d.log.Debug("notify retry", "notifier", name, "wait", wait, "err", err)
		})
	}
	d.set.GetOrCreateGauge(t.gauge, func() float64 { return float64(t.pending.Load()) })
	d.targets = append(d.targets, t)
	return nil
}

// Start opens every notifier's consumer on the alert stream and starts
// delivering.
func (d *Dispatcher) Start(ctx context.Context, js jetstream.JetStream) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.started {
		return errors.New("notify: start: dispatcher closed or already started")
	}
	for _, t := range d.targets {
		cons, err := transport.AlertConsumer(ctx, js, t.name, d.AckWait)
		if err != nil {
			return fmt.Errorf("notify %s: %w", t.name, err)
		}
		t.cons = cons
	}
	d.started, d.js = true, js
	for _, t := range d.targets {
		d.wg.Add(1)
		go d.run(t)
	}
	return nil
}

func (d *Dispatcher) run(t *target) {
	defer d.wg.Done()
	for d.ctx.Err() == nil {
		msg, err := t.cons.Next(jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if errors.Is(err, nats.ErrTimeout) {
				t.pending.Store(0)
				continue
			}
			if d.ctx.Err() == nil {
				d.log.Warn("notify: fetch alert", "notifier", t.name, "err", err)
				sleep(d.ctx, time.Second)
			}
			continue
		}
		d.handle(t, msg)
	}
}

// handle delivers one alert message and settles it with the server.
func (d *Dispatcher) handle(t *target, msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		d.log.Warn("notify: alert message without metadata", "notifier", t.name, "err", err)
		_ = msg.Term()
		return
	}
	seq := md.Sequence.Stream
	t.pending.Store(md.NumPending + 1)
	// The consumer takes every subject of the stream, so a gap in stream
	// sequences is alerts the stream discarded (age or size limits) before
	// this notifier got to them.
	if last := t.lastSeq.Load(); last > 0 && seq > last+1 {
		t.dropped.Add(int(seq - last - 1))
		d.log.Warn("notify: alerts discarded by the stream before delivery", "notifier", t.name, "count", seq-last-1)
	}
	if md.NumDelivered > 1 {
		t.redelivered.Inc() // e.g. a restart in the middle of its retries
	}
	var a alert.Alert
	if err := json.Unmarshal(msg.Data(), &a); err != nil {
		t.failed.Inc()
		d.log.Warn("notify: unreadable alert message", "notifier", t.name, "seq", seq, "err", err)
		d.settle(t, msg, seq, msg.Term)
		return
	}
	err = d.notify(t, msg, &a)
	switch {
	case err == nil:
		t.sent.Inc()
	case errors.Is(err, ErrSkipped):
		t.skipped.Inc()
	case d.ctx.Err() != nil:
		// Close gave up waiting: leave it for the next start (or another
		// collector) instead of counting it as failed.
		_ = msg.Nak()
		return
	default:
		t.failed.Inc()
		d.log.Warn("notify failed", "notifier", t.name, "alert", a.ID, "err", err)
	}
	d.settle(t, msg, seq, func() error {
		// Not d.ctx: a delivered alert must be acknowledged even when Close
		// is giving up, or it would be sent again after the restart.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return msg.DoubleAck(ctx)
	})
}

// notify runs one delivery (with its retries), telling the server that the
// alert is still being worked on so it is not handed out again meanwhile.
func (d *Dispatcher) notify(t *target, msg jetstream.Msg, a *alert.Alert) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(cmp.Or(d.AckWait, transport.AlertAckWait) / 4)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				_ = msg.InProgress()
				// Keep the queue gauge true while one alert holds it up.
				if info, err := t.cons.Info(d.ctx); err == nil {
					t.pending.Store(info.NumPending + uint64(info.NumAckPending))
				}
			}
		}
	}()
	return t.n.Notify(d.ctx, a)
}

func (d *Dispatcher) settle(t *target, msg jetstream.Msg, seq uint64, ack func() error) {
	if err := ack(); err != nil {
		d.log.Warn("notify: acknowledge alert", "notifier", t.name, "seq", seq, "err", err)
	}
	t.lastSeq.Store(seq)
	if p := t.pending.Load(); p > 0 {
		t.pending.Store(p - 1)
	}
}

// Close delivers what the alert stream holds for every notifier until ctx
// is done, then cancels deliveries in flight (they are delivered after the
// next start) and closes the notifiers. It returns ctx's error if the
// notifiers did not catch up.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	started := d.started
	d.mu.Unlock()

	var errs []error
	if started {
		if err := d.drain(ctx); err != nil {
			errs = append(errs, fmt.Errorf("notify: drain: %w", err))
		}
	}
	d.cancel()
	d.wg.Wait()
	if started {
		// Acks and naks are sent without waiting: make sure the server has
		// them, so an interrupted alert is handed out again at once rather
		// than after the ack wait.
		if err := d.js.Conn().Flush(); err != nil {
			errs = append(errs, fmt.Errorf("notify: flush acknowledgements: %w", err))
		}
	}
	for _, t := range d.targets {
		errs = append(errs, t.n.Close())
		d.set.UnregisterMetric(t.gauge)
	}
	return errors.Join(errs...)
}

// drain waits until no consumer has an alert pending or unacknowledged.
func (d *Dispatcher) drain(ctx context.Context) error {
	for {
		caught := true
		for _, t := range d.targets {
			info, err := t.cons.Info(ctx)
			if err != nil {
				return err
			}
			if info.NumPending+uint64(info.NumAckPending) > 0 {
				caught = false
				break
			}
		}
		if caught {
			return nil
		}
		if !sleep(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// sleep waits for d or until ctx is done; it reports whether it slept.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
