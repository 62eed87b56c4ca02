package flowtable

import (
	"encoding/binary"
	"testing"

	"github.com/outflowhq/outflow/flow"
)

func BenchmarkAdd(b *testing.B) {
	discard := func(*flow.Record) {}
	b.Run("established", func(b *testing.B) {
		tb := New(Config{}, nil, nil, discard)
		p := pk(0, C, S, protoTCP, pa, 1500)
		tb.Add(p)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p.Timestamp = int64(i) * 1000
			tb.Add(p)
			tb.Tick(p.Timestamp)
		}
	})
	// New flows into a full table: every Add evicts the oldest flow.
	b.Run("new-flows-full", func(b *testing.B) {
		const size = 1 << 16
		tb := New(Config{MaxFlows: size}, nil, nil, discard)
		p := pk(0, C, S, protoUDP, 0, 100)
		add := func(i int) {
			binary.BigEndian.PutUint32(p.Src[:4], 0x0a000000|uint32(i)&0xffffff)
			p.SrcPort = uint16(i >> 8)
			p.Timestamp = int64(i) * 1000
			tb.Add(p)
			tb.Tick(p.Timestamp)
		}
		for i := range 2 * size { // warm: slab, map and free list at size
			add(i)
		}
		b.ReportAllocs()
		for i := 2 * size; b.Loop(); i++ {
			add(i)
		}
		b.ReportMetric(float64(tb.Stats().Evictions)/float64(b.N), "evictions/op")
	})
	// New flows that expire by idle timeout: steady state of ~100k flows.
	b.Run("new-flows-expiring", func(b *testing.B) {
		tb := New(Config{}, nil, nil, discard)
		p := pk(0, C, S, protoUDP, 0, 100)
		add := func(i int) {
			binary.BigEndian.PutUint32(p.Src[:4], 0x0a000000|uint32(i)&0xffffff)
			p.SrcPort = uint16(i >> 8)
			p.Timestamp = int64(i) * 600_000 // 100k new flows per 60s
			tb.Add(p)
			tb.Tick(p.Timestamp)
		}
		for i := range 300_000 {
			add(i)
		}
		b.ReportAllocs()
		for i := 300_000; b.Loop(); i++ {
			add(i)
		}
		b.ReportMetric(float64(tb.Stats().Entries), "entries")
	})
}

// BenchmarkTick measures one Tick of work (one per granule, 1s) on a table
// of 200k flows, 1% of which get a packet per second: the cost follows the
// flows that are due, not the table's size.
func BenchmarkTick(b *testing.B) {
	const flows = 200_000
	tb := New(Config{}, nil, nil, func(*flow.Record) {})
	p := pk(0, C, S, protoUDP, 0, 100)
	flowAt := func(i int) {
		binary.BigEndian.PutUint32(p.Src[:4], 0x0a000000|uint32(i))
		tb.Add(p)
	}
	for i := range flows {
		flowAt(i)
	}
	now := int64(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		now += 1e9
		p.Timestamp = now
		for j := range flows / 100 {
			flowAt((i*flows/100 + j) % flows)
		}
		b.StartTimer()
		tb.Tick(now)
	}
	b.ReportMetric(float64(tb.Stats().Records)/float64(b.N), "records/tick")
}
