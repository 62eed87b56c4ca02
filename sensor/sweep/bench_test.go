//go:build linux

package sweep

import (
	"encoding/binary"
	"fmt"
	"github.com/outflowhq/outflow/bpf"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
)

// BenchmarkPass is the sweeper's CPU per pass over n active flows, each
// with new packets and due for export: batch read of the kernel map,
// deltas, records (emitted to a no-op). Reported per 1,000 flows.
func BenchmarkPass(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			o := load(b, uint32(n*2))
			frames := make([][]byte, n)
			for i := range frames {
				// 10.x.y.z:40000 → 192.0.2.1:443, one flow per source address.
				f := frame(b, "10.0.0.0", 40000, "192.0.2.1", 443, "A", 0)
				binary.BigEndian.PutUint32(f[14+12:], 10<<24|uint32(i+1))
				frames[i] = f
			}
			records := 0
			s := New(Config{}, o, nil, func(*flow.Record) { records++ })
			now := Monotonic() + uint64(5*time.Second) // past the injections
			// The first read measures the kernel's tick (a quarter second,
			// once per load): not part of a pass's cost.
			if _, err := o.ReadFlows(func(*bpf.Key, *bpf.Value) {}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				inject(b, o, frames...) // (checksums are not checked)
				now += uint64(10 * time.Second)
				b.StartTimer()
				if err := s.PassAt(now, 0, false); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if records != n*b.N {
				b.Fatalf("%d records, want %d", records, n*b.N)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)*1000, "ns/1000flows")
		})
	}
}
