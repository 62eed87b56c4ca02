package engine

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/engine/baseline"
	"github.com/outflowhq/outflow/flow"
)

// BenchmarkIngest feeds batches of 1,000 records from 10,000 hosts, each
// talking to 32 remotes out of a pool of 2,000, through several hours of
// event time (so windows close and baselines update inside the loop).
func BenchmarkIngest(b *testing.B) {
	const hosts, remotes, batch, perHost = 10_000, 2_000, 1_000, 32
	recs := make([]flow.Record, 200_000)
	step := time.Hour / time.Duration(len(recs)) // the slice spans one hour
	for i := range recs {
		h := i % hosts
		r := (h*7 + (i/hosts)%perHost) % remotes
		end := t0.Add(time.Duration(i) * step)
		recs[i] = flow.Record{
			Proto: 6, Direction: flow.Outbound,
			SrcAddr:  netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)}),
			DstAddr:  netip.AddrFrom4([4]byte{198, 18, byte(r >> 8), byte(r)}),
			SrcBytes: uint64(1000 + i%50_000), DstBytes: 5000,
			Start: end.Add(-5 * time.Second), End: end, DstName: "cdn.example.com",
		}
	}
	e, _ := newEngine(b, DefaultConfig(), nil)
	buf := make([]flow.Record, batch)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		lap := time.Duration(n/len(recs)) * time.Hour
		off := n % len(recs)
		k := copy(buf, recs[off:min(off+batch, len(recs))])
		for i := range buf[:k] {
			buf[i].Start = buf[i].Start.Add(lap)
			buf[i].End = buf[i].End.Add(lap)
		}
		e.Ingest("gw1", buf[k-1].End, buf[:k])
		n += k
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// TestMemoryPerHost measures a host with a full week of baseline and no
// destinations (the ≤ 4 KB target), then the cost of each destination.
func TestMemoryPerHost(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates")
	}
	const n = 10_000
	cfg := DefaultConfig()
	measure := func(dests int) float64 {
		e, _ := newEngine(t, cfg, nil)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range n {
			k := keyOf(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
			h := e.hostFor(k, 0)
			for j := range cfg.BaselineWindows {
				h.base.Observe(int64(j), 17)
			}
			_, e.scratch = h.base.Estimate(0, e.scratch)
			for j := range dests {
				h.dests.touch(keyOf(netip.AddrFrom4([4]byte{198, 18, byte(j >> 8), byte(j)})), 1e9, 1, 1, 86400, cfg.MaxRemotesPerHost, nil)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(e)
		return float64(after.HeapAlloc-before.HeapAlloc) / n
	}
	bare := measure(0)
	with := measure(100)
	b := baseline.New(cfg.BaselineWindows, int64(cfg.Window.Seconds()))
	for i := range cfg.BaselineWindows {
		b.Observe(int64(i)*int64(cfg.Window.Seconds()), 17)
	}
	t.Logf("host with a full %d-window baseline: %.0f B (ring %d B); per destination: %.0f B",
		cfg.BaselineWindows, bare, b.SizeBytes(), (with-bare)/100)
	if bare > 4096 {
		t.Errorf("host with baseline uses %.0f B, target 4096", bare)
	}
}

// TestMemoryFleet measures one prevalence table entry.
func TestMemoryFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates")
	}
	const n = 1 << 20
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f := fleet{m: make(map[addrKey]fleetEntry), limit: n}
	for i := range n {
		f.add(keyOf(netip.AddrFrom4([4]byte{198, byte(i >> 16), byte(i >> 8), byte(i)})), 1)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(f)
	t.Logf("fleet entry: %.0f B", float64(after.HeapAlloc-before.HeapAlloc)/n)
}
