package scenario

import (
	"io"
	"testing"
)

// BenchmarkGenerate measures writing whole captures; run with
// -benchtime=1x for the big ones.
func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{{"small", smallConfig()}, {"demo", DemoConfig()}, {"bench", BenchConfig()}} {
		b.Run(bc.name, func(b *testing.B) {
			var packets uint64
			for b.Loop() {
				truth, err := Generate(bc.cfg, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				packets += truth.Packets
			}
			b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
			b.ReportMetric(float64(packets)/float64(b.N), "packets/op")
		})
	}
}
