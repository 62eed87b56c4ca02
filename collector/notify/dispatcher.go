package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/outflowhq/outflow/collector/alert"
)

// DefaultQueueSize is the number of alerts that may wait for one notifier.
const DefaultQueueSize = 256

// Options say how the Dispatcher delivers to one notifier.
type Options struct {
	QueueSize int          // alerts waiting for the notifier; 0 means DefaultQueueSize
	Retry     *RetryPolicy // nil: one attempt per alert (a local file)
}

// Dispatcher fans alerts out to notifiers. Each notifier has its own
// bounded queue and goroutine, so a slow or failing one delays nobody:
// Dispatch never blocks, and an alert that finds a queue full is dropped for
// that notifier, counted and logged.
type Dispatcher struct {
	set *metrics.Set
	log *slog.Logger

	mu     sync.RWMutex // guards queues and closed against Dispatch
	queues []*queue
	closed bool

	ctx    context.Context // cancelled when Close stops waiting
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type queue struct {
	n     Notifier
	ch    chan *alert.Alert
	gauge string // metric name, unregistered on Close

	sent, failed, dropped, retries *metrics.Counter
}

// NewDispatcher returns an empty Dispatcher; Add notifiers to it. Metrics
// are registered on set (one Dispatcher per set at a time), delivery
// failures logged on log (nil discards them).
func NewDispatcher(set *metrics.Set, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{set: set, log: log, ctx: ctx, cancel: cancel}
}

// Add starts delivering to n. Names must be unique: they label the metrics.
func (d *Dispatcher) Add(n Notifier, o Options) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("notify: add %s: dispatcher closed", n.Name())
	}
	if err := checkName(n.Name()); err != nil {
		return fmt.Errorf("notify: add: name %w", err)
	}
	for _, q := range d.queues {
		if q.n.Name() == n.Name() {
			return fmt.Errorf("notify: add %s: duplicate notifier name", n.Name())
		}
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	name := n.Name()
	label := fmt.Sprintf("{notifier=%q}", name)
	// The gauge reads this queue: a second live Dispatcher on the same set
	// would silently report the first one's.
	if slices.Contains(d.set.ListMetricNames(), "outflow_notify_queue_length"+label) {
		return fmt.Errorf("notify: add %s: its queue gauge is already registered (another Dispatcher on the same metrics set?)", name)
	}
	q := &queue{
		ch:      make(chan *alert.Alert, o.QueueSize),
		gauge:   "outflow_notify_queue_length" + label,
		sent:    d.set.GetOrCreateCounter("outflow_notify_sent_total" + label),
		failed:  d.set.GetOrCreateCounter("outflow_notify_failed_total" + label),
		dropped: d.set.GetOrCreateCounter("outflow_notify_dropped_total" + label),
		retries: d.set.GetOrCreateCounter("outflow_notify_retries_total" + label),
	}
	q.n = n
	if o.Retry != nil {
		q.n = Retry(n, *o.Retry, func(err error, wait time.Duration) {
			q.retries.Inc()
			d.log.Debug("notify retry", "notifier", name, "wait", wait, "err", err)
		})
	}
	d.set.GetOrCreateGauge(q.gauge, func() float64 { return float64(len(q.ch)) })
	d.queues = append(d.queues, q)
	d.wg.Add(1)
	go d.run(q)
	return nil
}

// Dispatch queues a for every notifier without blocking. The alert must not
// be modified afterwards: all notifiers share it.
func (d *Dispatcher) Dispatch(a *alert.Alert) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, q := range d.queues {
		if d.closed {
			q.dropped.Inc()
			continue
		}
		select {
		case q.ch <- a:
		default:
			q.dropped.Inc()
			d.log.Warn("notify queue full, alert dropped", "notifier", q.n.Name(), "alert", a.ID, "queue_size", cap(q.ch))
		}
	}
}

func (d *Dispatcher) run(q *queue) {
	defer d.wg.Done()
	for a := range q.ch {
		if d.ctx.Err() != nil {
			q.dropped.Inc() // Close gave up waiting: never attempted
			continue
		}
		if err := q.n.Notify(d.ctx, a); err != nil {
			q.failed.Inc()
			d.log.Warn("notify failed", "notifier", q.n.Name(), "alert", a.ID, "err", err)
			continue
		}
		q.sent.Inc()
	}
}

// Close stops accepting alerts, delivers what is queued until ctx is done,
// then cancels deliveries in flight, counts what is left as dropped and
// closes the notifiers. It returns ctx's error if the queues did not drain.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for _, q := range d.queues {
		close(q.ch)
	}
	d.mu.Unlock()

	drained := make(chan struct{})
	go func() { d.wg.Wait(); close(drained) }()
	var errs []error
	select {
	case <-drained:
	case <-ctx.Done():
		d.cancel()
		<-drained // drivers honour the cancelled context, so this is quick
		errs = append(errs, fmt.Errorf("notify: drain queues: %w", ctx.Err()))
	}
	d.cancel()
	for _, q := range d.queues {
		errs = append(errs, q.n.Close())
		d.set.UnregisterMetric(q.gauge)
	}
	return errors.Join(errs...)
}
