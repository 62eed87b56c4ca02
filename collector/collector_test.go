package collector

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/transport"
	"github.com/outflowhq/outflow/wire"
)

func testCollector(t *testing.T) (*Collector, *metrics.Set, func()) {
	t.Helper()
	f, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cc := f.Collector
	cc.DataDir, cc.NATS.Listen = t.TempDir(), ""
	col, set, stopRun := runTestCollector(t, cc)
	return col, set, func() {
		stopRun()
		if err := col.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}
}

// runTestCollector starts a collector on cc and runs it until stopRun;
// closing it is the caller's.
func runTestCollector(t *testing.T, cc config.Collector) (col *Collector, set *metrics.Set, stopRun func()) {
	t.Helper()
	set = metrics.NewSet()
	col, err := New(context.Background(), cc, set, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- col.Run(runCtx) }()
	return col, set, func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func waitDrained(t *testing.T, col *Collector) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := col.Drained(context.Background()); err == nil && ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("collector did not drain the flow stream within 10s")
}

// Bad input on the flow subject is rejected with a counted reason, and the
// consumer goes on to the next message.
func TestRejectsBadBatches(t *testing.T) {
	col, set, stop := testCollector(t)
	defer stop()
	nc, err := col.Embedded().Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pub := func(subject string, data []byte, schema string) {
		t.Helper()
		m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
		if schema != "" {
			m.Header.Set(wire.HeaderSchema, schema)
		}
		if _, err := col.JetStream().PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	good := &wire.Batch{SensorID: "s1", Sequence: 1, RunID: 1, Clock: t0, Partitions: 1, Flows: []flow.Record{{
		Proto: 6, SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("198.51.100.1"), SrcPort: 40000, DstPort: 443,
		SrcBytes: 5000, SrcPackets: 5, DstBytes: 300, DstPackets: 4, Start: t0, End: t0, FlowStart: t0, Direction: flow.Outbound}}}
	goodData, err := wire.Encode(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub("outflow.flows.0.s1", []byte("\x00\xffnot a batch"), "1")              // garbage
	pub("outflow.flows.0.s1", goodData, "2")                                   // unknown schema header
	pub("outflow.flows.0.other", goodData, "1")                                // subject names another sensor
	pub("outflow.flows.0.s1", append([]byte{0x08, 0x09}, goodData[2:]...), "") // schema_version 9 in the body, no header
	pub(transport.FlowSubject(0, "s1"), goodData, "1")
	waitDrained(t, col)

	want := map[string]uint64{
		`outflow_collector_batches_rejected_total{reason="decode"}`:  1,
		`outflow_collector_batches_rejected_total{reason="schema"}`:  2,
		`outflow_collector_batches_rejected_total{reason="subject"}`: 1,
		`outflow_collector_batches_total`:                            1,
		`outflow_collector_flow_records_total`:                       1,
	}
	for name, n := range want {
		if got := set.GetOrCreateCounter(name).Get(); got != n {
			t.Errorf("%s = %d, want %d", name, got, n)
		}
	}
	s := col.Ingest().Sensors()
	if len(s) != 1 || s[0].ID != "s1" || s[0].Batches != 1 || s[0].Flows != 1 {
		t.Fatalf("sensors = %+v", s)
	}
}
