package source

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// BenchmarkFileRead reads a 10,000-frame capture per op (frames of 60 to
// 1514 bytes, the mix of a busy link) and reports frames per second.
func BenchmarkFileRead(b *testing.B) {
	const n = 10_000
	frames := make([]frame, n)
	for i := range frames {
		size := []int{60, 590, 1514}[i%3]
		frames[i] = frame{ts: int64(i) * 1000, data: strings.Repeat("x", size), wire: size}
	}
	for _, format := range []string{"pcap", "pcapng"} {
		b.Run(format, func(b *testing.B) {
			data := pcapFile(binary.LittleEndian, true, layers.LinkTypeEthernet, frames)
			if format == "pcapng" {
				data = pcapngFile(binary.LittleEndian, [][]ngIfaceSpec{{{link: layers.LinkTypeEthernet, tsres: 9}}}, [][]frame{frames})
			}
			path := writeTemp(b, "bench."+format, data)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				src, err := OpenFile(path)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, _, err := src.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
				src.Close()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
