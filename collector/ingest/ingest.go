package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/transport"
	"github.com/outflowhq/outflow/wire"
)

// MaxSensors bounds the per-sensor health table (and its metric series).
const MaxSensors = 256

// SensorHealth is the last health a sensor reported.
type SensorHealth struct {
	ID        string      `json:"id"`
	Source    string      `json:"source"`
	LastBatch time.Time   `json:"last_batch"` // wall clock at the collector
	Clock     time.Time   `json:"clock"`      // the sensor's event time
	Health    wire.Health `json:"health"`
	Batches   uint64      `json:"batches"`
	Flows     uint64      `json:"flows"`
}

// Ingest is used by the consumer goroutine; Sensors may be called from any.
type Ingest struct {
	ingest  func(sensor string, clock time.Time, b *wire.Batch) []alert.Alert
	onAlert func([]alert.Alert)
	set     *metrics.Set

	mu      sync.Mutex
	sensors map[string]*SensorHealth

	// batch is reused by every Handle (one goroutine): decoding allocates
	// nothing per record. Whoever process hands records to must copy what it
	// keeps.
	batch wire.Batch

	batches, flows, sensorsDropped *metrics.Counter
	lastSeq                        atomic.Uint64
}

// New builds an Ingest that calls process for each valid batch and onAlert
// with what it returns. The batch is reused after process returns.
func New(process func(sensor string, clock time.Time, b *wire.Batch) []alert.Alert, onAlert func([]alert.Alert), set *metrics.Set) *Ingest {
	for _, reason := range []string{RejectSchema, RejectDecode, RejectSubject} { // exported from the start, at 0
		set.GetOrCreateCounter(`outflow_collector_batches_rejected_total{reason="` + reason + `"}`)
	}
	return &Ingest{
		ingest: process, onAlert: onAlert, set: set, sensors: map[string]*SensorHealth{},
		batches:        set.NewCounter("outflow_collector_batches_total"),
		flows:          set.NewCounter("outflow_collector_flow_records_total"),
		sensorsDropped: set.NewCounter("outflow_collector_sensors_untracked_total"),
	}
}

// Rejection reasons, the label values of outflow_collector_batches_rejected_total.
const (
	RejectSchema  = "schema"
	RejectDecode  = "decode"
	RejectSubject = "subject"
)

func (in *Ingest) reject(reason string, err error) error {
	in.set.GetOrCreateCounter(`outflow_collector_batches_rejected_total{reason="` + reason + `"}`).Inc()
	return fmt.Errorf("reject batch (%s): %w", reason, err)
}

// Handle processes one delivery. An error means the batch was rejected (and
// counted); the consumer terminates such a message.
func (in *Ingest) Handle(d *transport.Delivery) error {
	defer in.lastSeq.Store(d.Seq) // handled, accepted or not
	if d.Schema != "" && d.Schema != strconv.Itoa(wire.SchemaVersion) {
		return in.reject(RejectSchema, fmt.Errorf("%s: schema header %q, this collector reads %d", d.Subject, d.Schema, wire.SchemaVersion))
	}
	b := &in.batch
	if err := wire.DecodeInto(d.Data, b); err != nil {
		if errors.Is(err, wire.ErrSchema) {
			return in.reject(RejectSchema, fmt.Errorf("%s: %w", d.Subject, err))
		}
		return in.reject(RejectDecode, fmt.Errorf("%s: %w", d.Subject, err))
	}
	if want := transport.FlowSubject(b.Partition, b.SensorID); d.Subject != want {
		return in.reject(RejectSubject, fmt.Errorf("batch from sensor %s partition %d arrived on %s, want %s", b.SensorID, b.Partition, d.Subject, want))
	}
	in.batches.Inc()
	in.flows.Add(len(b.Flows))
	in.track(b)
	if alerts := in.ingest(b.SensorID, b.Clock, b); len(alerts) > 0 && in.onAlert != nil {
		in.onAlert(alerts)
	}
	return nil
}

// LastSeq is the stream sequence of the last batch handled.
func (in *Ingest) LastSeq() uint64 { return in.lastSeq.Load() }

func (in *Ingest) track(b *wire.Batch) {
	in.mu.Lock()
	defer in.mu.Unlock()
	s, ok := in.sensors[b.SensorID]
	if !ok {
		if len(in.sensors) >= MaxSensors {
			in.sensorsDropped.Inc()
			return
		}
		s = &SensorHealth{ID: b.SensorID}
		in.sensors[b.SensorID] = s
		in.registerSensorMetrics(b.SensorID)
	}
	s.Source, s.LastBatch, s.Clock = b.Health.Source, time.Now().UTC(), b.Clock
	s.Batches++
	s.Flows += uint64(len(b.Flows))
	// A batch per partition carries the same cumulative health; keep the max
	// so partitions arriving out of order never make a counter go back.
	h := &s.Health
	h.Packets, h.Bytes, h.Drops = max(h.Packets, b.Health.Packets), max(h.Bytes, b.Health.Bytes), max(h.Drops, b.Health.Drops)
	h.DecodeErrors, h.Evictions, h.NonIP = max(h.DecodeErrors, b.Health.DecodeErrors), max(h.Evictions, b.Health.Evictions), max(h.NonIP, b.Health.NonIP)
	h.TableEntries, h.TableCapacity, h.Source = b.Health.TableEntries, b.Health.TableCapacity, b.Health.Source
}

func (in *Ingest) registerSensorMetrics(id string) {
	get := func(f func(*SensorHealth) float64) func() float64 {
		return func() float64 {
			in.mu.Lock()
			defer in.mu.Unlock()
			return f(in.sensors[id])
		}
	}
	l := `{sensor="` + id + `"}`
	in.set.NewGauge("outflow_collector_sensor_packets"+l, get(func(s *SensorHealth) float64 { return float64(s.Health.Packets) }))
	in.set.NewGauge("outflow_collector_sensor_drops"+l, get(func(s *SensorHealth) float64 { return float64(s.Health.Drops) }))
	in.set.NewGauge("outflow_collector_sensor_decode_errors"+l, get(func(s *SensorHealth) float64 { return float64(s.Health.DecodeErrors) }))
	in.set.NewGauge("outflow_collector_sensor_table_entries"+l, get(func(s *SensorHealth) float64 { return float64(s.Health.TableEntries) }))
	in.set.NewGauge("outflow_collector_sensor_table_capacity"+l, get(func(s *SensorHealth) float64 { return float64(s.Health.TableCapacity) }))
	in.set.NewGauge("outflow_collector_sensor_evictions"+l, get(func(s *SensorHealth) float64 { return float64(s.Health.Evictions) }))
	in.set.NewGauge("outflow_collector_sensor_last_batch_timestamp_seconds"+l, get(func(s *SensorHealth) float64 { return float64(s.LastBatch.UnixNano()) / 1e9 }))
	in.set.NewGauge("outflow_collector_sensor_clock_timestamp_seconds"+l, get(func(s *SensorHealth) float64 { return float64(s.Clock.UnixNano()) / 1e9 }))
}

// Sensors returns a copy of every tracked sensor's health, sorted by id.
func (in *Ingest) Sensors() []SensorHealth {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]SensorHealth, 0, len(in.sensors))
	for _, s := range in.sensors {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b SensorHealth) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}
