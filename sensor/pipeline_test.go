package sensor

import (
	"context"
	"sync"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/export"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/source"
	"github.com/outflowhq/outflow/wire"
)

// batches records what the exporter publishes (the NATS path itself is
// covered by the collector and end-to-end tests).
type batches struct {
	mu  sync.Mutex
	all []*wire.Batch
}

func (b *batches) Publish(_ context.Context, bt *wire.Batch) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all = append(b.all, bt)
	return nil
}

// A flow table far too small for the traffic evicts, says so in its
// metrics and in the health every batch carries, and loses nothing: the
// evicted flows' deltas still add up to every packet and byte.
func TestPipelineFullTableCountedNotLost(t *testing.T) {
	src, err := source.OpenFile("../../shared/testdata/zeek-conn/ssh_ssh.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	set := metrics.NewSet()
	pub := &batches{}
	exp := export.New(export.Config{SensorID: "t", RunID: 1, BatchSize: 16}, pub, nil, set, nil)
	p := NewPipeline(PipelineConfig{Internal: flow.MustParseNetworks(flow.DefaultInternal), FlowTable: flowtable.Config{MaxFlows: 2}}, src, exp, set)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := exp.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	var pkts, bytes uint64
	var records int
	for _, b := range pub.all {
		for _, r := range b.Flows {
			pkts += r.SrcPackets + r.DstPackets
			bytes += r.SrcBytes + r.DstBytes
			records++
		}
	}
	// ssh_ssh.pcap: 1797 IP packets, 1,266,271 IP bytes (sensor/decode tests).
	if pkts != 1797 || bytes != 1266271 {
		t.Fatalf("records hold %d packets / %d bytes, the capture %d / %d", pkts, bytes, 1797, 1266271)
	}
	ev := set.GetOrCreateCounter("outflow_sensor_flowtable_evictions_total").Get()
	last := pub.all[len(pub.all)-1].Health
	if ev == 0 || last.Evictions != ev {
		t.Fatalf("evictions: metric %d, last batch health %d; want equal and > 0", ev, last.Evictions)
	}
	if last.TableCapacity != 2 || last.Packets != 1797 || last.Bytes != 1266271 || last.Source != "pcap" {
		t.Fatalf("health = %+v", last)
	}
	want := map[string]uint64{
		"outflow_sensor_packets_total":          1797,
		"outflow_sensor_ip_bytes_total":         1266271,
		"outflow_sensor_records_exported_total": uint64(records),
	}
	for name, n := range want {
		if got := set.GetOrCreateCounter(name).Get(); got != n {
			t.Errorf("%s = %d, want %d", name, got, n)
		}
	}
	if got := set.GetOrCreateGauge("outflow_sensor_flowtable_capacity", nil).Get(); got != 2 {
		t.Errorf("capacity gauge = %v", got)
	}
	// Sequence numbers are gap-free: the collector can tell a lost batch.
	for i, b := range pub.all {
		if b.Sequence != uint64(i+1) || b.SensorID != "t" {
			t.Fatalf("batch %d: sensor %s seq %d", i, b.SensorID, b.Sequence)
		}
	}
}
