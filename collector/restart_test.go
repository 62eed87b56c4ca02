package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go"
	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/transport"
	"github.com/outflowhq/outflow/wire"
)

// officeBatches is 34 hours of 6 hosts, a batch per 10 minutes: background
// uploads to a server they all use, then at hour 32 host 10.9.0.3 sends
// 60 MB to a server nobody has used.
func officeBatches() []*wire.Batch {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	shared := netip.MustParseAddr("198.51.100.20")
	leak := netip.MustParseAddr("203.0.113.66")
	var out []*wire.Batch
	for step := 0; step < 34*6; step++ {
		from := t0.Add(time.Duration(step) * 10 * time.Minute)
		b := &wire.Batch{SensorID: "gw", RunID: 1, Sequence: uint64(step + 1), Partitions: 1, Clock: from.Add(10 * time.Minute)}
		for h := 0; h < 6; h++ {
			at := from.Add(time.Duration(h+1) * time.Minute)
			b.Flows = append(b.Flows, flow.Record{Proto: 6, Direction: flow.Outbound,
				SrcAddr: netip.AddrFrom4([4]byte{10, 9, 0, byte(h)}), DstAddr: shared, SrcPort: uint16(40000 + step), DstPort: 443,
				SrcBytes: uint64(1_000_000 + 50_000*((step+h)%7)), DstBytes: 4_000_000, SrcPackets: 900, DstPackets: 3000,
				Start: at.Add(-30 * time.Second), End: at, FlowStart: at.Add(-30 * time.Second), DstName: "sync.example.com"})
		}
		if step >= 32*6 && step < 32*6+3 {
			at := from.Add(8 * time.Minute)
			b.Flows = append(b.Flows, flow.Record{Proto: 6, Direction: flow.Outbound,
				SrcAddr: netip.AddrFrom4([4]byte{10, 9, 0, 3}), DstAddr: leak, SrcPort: 51000, DstPort: 443,
				SrcBytes: 20_000_000, DstBytes: 100_000, SrcPackets: 14000, DstPackets: 2000,
				Start: at.Add(-time.Minute), End: at, FlowStart: t0.Add(32 * time.Hour), DstName: "paste.example.net"})
		}
		out = append(out, b)
	}
	return out
}

// runCollector starts a collector on dir, publishes batches into its
// embedded NATS, waits until it handled them, stops it (saving state), and
// returns its alerts in order.
func runCollector(t *testing.T, dir string, batches []*wire.Batch) []alert.Alert {
	t.Helper()
	f, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cc := f.Collector
	cc.DataDir, cc.NATS.Listen = dir, ""
	cc.Detect.LearningWindows = 24 // the leak comes on the second day
	ctx := context.Background()
	col, err := New(ctx, cc, metrics.NewSet(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- col.Run(runCtx) }()
	publishBatches(t, col, batches)
	waitDrained(t, col)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	alerts := col.Alerts()
	slices.Reverse(alerts) // oldest first
	if err := col.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return alerts
}

// Baselines and destination history survive a collector restart: a
// collector stopped in the middle and started again on the same data
// directory raises exactly the alerts of one that ran through.
func TestRestartResumesState(t *testing.T) {
	batches := officeBatches()
	whole := runCollector(t, t.TempDir(), batches)
	if len(whole) == 0 || whole[0].Host != "10.9.0.3" || !slices.Contains(whole[0].Detectors, "new_destination") || whole[0].Remotes[0] != "203.0.113.66" {
		t.Fatalf("uninterrupted run: %s", js(t, whole))
	}
	for _, cut := range []int{20 * 6, 32*6 + 1} { // during learning; in the middle of the upload
		t.Run(fmt.Sprintf("restart after batch %d", cut), func(t *testing.T) {
			dir := t.TempDir()
			first := runCollector(t, dir, batches[:cut])
			second := runCollector(t, dir, batches[cut:])
			// The recent list keeps each incident's latest state: after
			// both runs, the second's replaces the first's.
			if got, want := js(t, latest(append(first, second...))), js(t, whole); got != want {
				t.Fatalf("with a restart:\n%s\nwithout:\n%s", got, want)
			}
		})
	}
}

// publishBatches publishes batches to col's flow stream as a sensor does.
func publishBatches(t *testing.T, col *Collector, batches []*wire.Batch) {
	t.Helper()
	for _, b := range batches {
		data, err := wire.Encode(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := &nats.Msg{Subject: transport.FlowSubject(0, b.SensorID), Data: data, Header: nats.Header{wire.HeaderSchema: []string{"1"}}}
		if _, err := col.JetStream().PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// latest keeps the last alert of each id, in the order of those last ones.
func latest(as []alert.Alert) []alert.Alert {
	var out []alert.Alert
	for i, a := range as {
		if !slices.ContainsFunc(as[i+1:], func(b alert.Alert) bool { return b.ID == a.ID }) {
			out = append(out, a)
		}
	}
	return out
}
