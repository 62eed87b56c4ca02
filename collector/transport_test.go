package collector

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/transport"
	"github.com/outflowhq/outflow/wire"
)

func oneFlowBatch(seq uint64) *wire.Batch {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	return &wire.Batch{SensorID: "s1", Sequence: seq, RunID: 42, Clock: t0, Partitions: 1, Flows: []flow.Record{{
		Proto: 17, SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("198.51.100.1"), SrcPort: 5000, DstPort: 53,
		SrcBytes: 80, SrcPackets: 1, Start: t0, End: t0, FlowStart: t0, Direction: flow.Outbound}}}
}

// A sensor retrying a batch it already published (the ack was lost) does
// not make the collector count it twice: the stream drops the duplicate by
// its message id.
func TestRetriedBatchCountedOnce(t *testing.T) {
	col, set, stop := testCollector(t)
	defer stop()
	pub := transport.NewPublisher(col.JetStream(), metrics.NewSet())
	ctx := context.Background()
	for _, seq := range []uint64{1, 1, 2, 1} {
		if err := pub.Publish(ctx, oneFlowBatch(seq)); err != nil {
			t.Fatal(err)
		}
	}
	waitDrained(t, col)
	if got := set.GetOrCreateCounter("outflow_collector_batches_total").Get(); got != 2 {
		t.Fatalf("collector handled %d batches, want 2 (seq 1 and 2; the retries of 1 dropped)", got)
	}
}

// With collector.nats.url set, the collector uses that server (here a
// second NATS server started by the test on loopback) and starts none of
// its own.
func TestExternalNATS(t *testing.T) {
	ext, err := transport.StartServer(transport.ServerConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(t.TempDir(), "ext")})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Shutdown()
	f, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cc := f.Collector
	cc.NATS.URL, cc.DataDir = ext.ClientURL(), ""
	ctx := context.Background()
	col, err := New(ctx, cc, metrics.NewSet(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if col.Embedded() != nil || col.NATSURL() != ext.ClientURL() {
		t.Fatalf("collector runs its own server (%v) or points elsewhere (%s)", col.Embedded(), col.NATSURL())
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- col.Run(runCtx) }()
	// A sensor publishing to the external server reaches the collector.
	nc, err := transport.Dial(ext.ClientURL(), "sensor", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := transport.NewPublisher(js, metrics.NewSet()).Publish(ctx, oneFlowBatch(1)); err != nil {
		t.Fatal(err)
	}
	waitDrained(t, col)
	if s := col.Ingest().Sensors(); len(s) != 1 || s[0].Flows != 1 {
		t.Fatalf("sensors = %+v", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := col.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
