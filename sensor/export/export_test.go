package export

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/wire"
)

// stuck blocks every Publish until released, like a NATS server that is
// down; it records what it finally got.
type stuck struct {
	release chan struct{}
	got     chan *wire.Batch
}

func (s *stuck) Publish(ctx context.Context, b *wire.Batch) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.got <- b
	return nil
}

func rec(host byte) *flow.Record {
	return &flow.Record{Proto: 17, SrcAddr: netip.AddrFrom4([4]byte{10, 0, 0, host}), DstAddr: netip.MustParseAddr("192.0.2.1"),
		SrcPackets: 1, SrcBytes: 100, Direction: flow.Outbound}
}

// A live sensor's queue drops the oldest batch when full and counts it; the
// capture loop never blocks on NATS.
func TestDropOldestWhenFull(t *testing.T) {
	set := metrics.NewSet()
	pub := &stuck{release: make(chan struct{}), got: make(chan *wire.Batch, 100)}
	e := New(Config{SensorID: "s", RunID: 1, BatchSize: 1, QueueLen: 2, DropWhenFull: true}, pub, nil, set, nil)
	clock := time.Unix(1700000000, 0)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			e.Add(rec(byte(i)), clock, wire.Health{})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Add blocked with DropWhenFull")
	}
	close(pub.release)
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(pub.got)
	var seqs []uint64
	for b := range pub.got {
		seqs = append(seqs, b.Sequence)
	}
	dropped := set.GetOrCreateCounter("outflow_sensor_batches_dropped_total").Get()
	// 10 batches cut; the publisher held one, the queue kept the newest 2.
	if int(dropped)+len(seqs) != 10 || len(seqs) < 2 || seqs[len(seqs)-1] != 10 {
		t.Fatalf("published %v, dropped %d: want the newest kept and the rest counted", seqs, dropped)
	}
}

// A replay blocks instead: nothing is dropped.
func TestBlockWhenReplaying(t *testing.T) {
	set := metrics.NewSet()
	pub := &stuck{release: make(chan struct{}), got: make(chan *wire.Batch, 100)}
	e := New(Config{SensorID: "s", RunID: 1, BatchSize: 1, QueueLen: 2}, pub, nil, set, nil)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			e.Add(rec(byte(i)), time.Unix(1700000000, 0), wire.Health{})
		}
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("Add did not block on a full queue while replaying")
	case <-time.After(100 * time.Millisecond):
	}
	close(pub.release)
	<-done
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(pub.got); n != 10 || set.GetOrCreateCounter("outflow_sensor_batches_dropped_total").Get() != 0 {
		t.Fatalf("published %d of 10", n)
	}
}

// Partitioning is by internal host and the same on every sensor.
func TestPartition(t *testing.T) {
	out := rec(7)
	in := &flow.Record{SrcAddr: netip.MustParseAddr("192.0.2.1"), DstAddr: netip.AddrFrom4([4]byte{10, 0, 0, 7}), Direction: flow.Inbound}
	if Partition(out, 16) != Partition(in, 16) {
		t.Fatal("one host's outbound and inbound flows went to different partitions")
	}
	seen := map[uint32]bool{}
	for h := 0; h < 200; h++ {
		seen[Partition(rec(byte(h)), 8)] = true
	}
	if len(seen) != 8 {
		t.Fatalf("200 hosts used %d of 8 partitions", len(seen))
	}
	if got := Partition(rec(7), 8); got != 4 {
		t.Fatalf("Partition(10.0.0.7, 8) = %d; the hash must not change between versions", got)
	}
}
