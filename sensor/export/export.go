package export

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/wire"
)

// Publisher delivers a batch (transport.Publisher over JetStream).
type Publisher interface {
	Publish(ctx context.Context, b *wire.Batch) error
}

// Config of an exporter.
type Config struct {
	SensorID string
	// RunID distinguishes this exporter instance's message ids from any
	// other run or worker of the same sensor (sensor start time + worker).
	RunID int64
	// Partitions splits records by internal host so several collectors can
	// share the work (default 1).
	Partitions uint32
	// BatchSize is the most records per batch (default 2048).
	BatchSize int
	// QueueLen is how many batches may wait for the publisher (default 64).
	QueueLen int
	// DropWhenFull drops the oldest queued batch instead of blocking when
	// the queue is full (live capture).
	DropWhenFull bool
}

// Exporter is used by one goroutine (the sensor loop); its publisher runs in
// another.
type Exporter struct {
	cfg     Config
	pending [][]flow.Record
	seq     []uint64
	queue   chan *wire.Batch
	done    chan struct{}
	pub     Publisher
	flows   *JSONLines
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc

	records, batches, dropped, queueLen *metrics.Counter
}

// New starts an exporter. pub may be nil (only JSON lines), flows may be
// nil (only publishing); the caller flushes flows after Close.
func New(cfg Config, pub Publisher, flows *JSONLines, set *metrics.Set, log *slog.Logger) *Exporter {
	if cfg.Partitions == 0 {
		cfg.Partitions = 1
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2048
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 64
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{
		cfg: cfg, pending: make([][]flow.Record, cfg.Partitions), seq: make([]uint64, cfg.Partitions),
		queue: make(chan *wire.Batch, cfg.QueueLen), done: make(chan struct{}),
		pub: pub, flows: flows, log: log, ctx: ctx, cancel: cancel,
		records:  set.GetOrCreateCounter("outflow_sensor_records_exported_total"),
		batches:  set.GetOrCreateCounter("outflow_sensor_batches_cut_total"),
		dropped:  set.GetOrCreateCounter("outflow_sensor_batches_dropped_total"),
		queueLen: set.GetOrCreateCounter("outflow_sensor_publish_queue_length"),
	}
	go e.publishLoop()
	return e
}

// Add queues one record; a full partition is cut at once with clock.
func (e *Exporter) Add(r *flow.Record, clock time.Time, h wire.Health) {
	e.records.Inc()
	if e.flows != nil {
		e.flows.Write(r)
	}
	if e.pub == nil {
		return
	}
	p := e.partition(r)
	e.pending[p] = append(e.pending[p], *r)
	if len(e.pending[p]) >= e.cfg.BatchSize {
		e.cut(uint32(p), clock, h)
	}
}

// Cut sends every partition's pending records, and an empty batch for a
// partition with none, so the collectors' watermarks follow the sensor's
// clock even when it has nothing to say.
func (e *Exporter) Cut(clock time.Time, h wire.Health) {
	if e.pub == nil {
		return
	}
	for p := range e.pending {
		e.cut(uint32(p), clock, h)
	}
}

func (e *Exporter) cut(p uint32, clock time.Time, h wire.Health) {
	e.seq[p]++
	b := &wire.Batch{
		SensorID: e.cfg.SensorID, RunID: e.cfg.RunID, Sequence: e.seq[p], Clock: clock,
		Partition: p, Partitions: e.cfg.Partitions, Health: h, Flows: e.pending[p],
	}
	e.pending[p] = make([]flow.Record, 0, min(len(b.Flows)+16, e.cfg.BatchSize))
	e.batches.Inc()
	if e.cfg.DropWhenFull {
		for {
			select {
			case e.queue <- b:
				e.queueLen.Set(uint64(len(e.queue)))
				return
			default:
			}
			select {
			case <-e.queue:
				e.dropped.Inc()
			default:
			}
		}
	}
	e.queue <- b
	e.queueLen.Set(uint64(len(e.queue)))
}

func (e *Exporter) partition(r *flow.Record) int {
	if e.cfg.Partitions == 1 {
		return 0
	}
	return int(Partition(r, e.cfg.Partitions))
}

// Partition picks the partition of a record: by its internal host, so one
// collector sees all of a host's flows. Every sensor must agree, so the
// hash is fixed (FNV-1a over the 16-byte address), not seeded.
func Partition(r *flow.Record, n uint32) uint32 {
	host := r.SrcAddr
	if r.Direction == flow.Inbound {
		host = r.DstAddr
	}
	b := host.As16()
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h % n
}

func (e *Exporter) publishLoop() {
	defer close(e.done)
	for b := range e.queue {
		e.queueLen.Set(uint64(len(e.queue)))
		if err := e.pub.Publish(e.ctx, b); err != nil && e.log != nil {
			e.log.Error("batch lost", "partition", b.Partition, "seq", b.Sequence, "flows", len(b.Flows), "err", err)
		}
	}
}

// Close waits for queued batches to be published, giving up when ctx ends
// (what is left is counted as failed by the publisher).
func (e *Exporter) Close(ctx context.Context) error {
	close(e.queue)
	var err error
	select {
	case <-e.done:
	case <-ctx.Done():
		e.cancel()
		<-e.done
		err = fmt.Errorf("export: %d batches not published before shutdown", len(e.queue))
	}
	e.cancel()
	return err
}
