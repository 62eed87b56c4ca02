package sensor

import (
	"errors"
	"io"
	"testing"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/names"
	"github.com/outflowhq/outflow/sensor/source"
)

type frame struct {
	data []byte
	info source.Info
}

func loadFrames(tb testing.TB, path string) []frame {
	tb.Helper()
	src, err := source.OpenFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	var out []frame
	for {
		data, info, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, frame{append([]byte(nil), data...), info})
	}
}

// BenchmarkPacketPath is decode + name parsing + flow-table update per
// packet over a real capture held in memory: the sensor's per-packet cost
// without the file read. One op is one packet.
func BenchmarkPacketPath(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"beacon", "../../shared/testdata/real/test-cc-capture-1.pcap"},
		{"bittorrent", "../../shared/testdata/real/bittorrent.pcap"},
		{"ssh", "../../shared/testdata/zeek-conn/ssh_ssh.pcap"},
	} {
		b.Run(c.name, func(b *testing.B) {
			frames := loadFrames(b, c.path)
			dec := decode.New(decode.Config{})
			var records int
			table := flowtable.New(flowtable.Config{}, flow.MustParseNetworks(flow.DefaultInternal), names.New(65536), func(*flow.Record) { records++ })
			var p decode.Packet
			// The capture is replayed again and again, shifted in time so
			// each pass looks like new traffic after the previous one.
			span := frames[len(frames)-1].info.Timestamp - frames[0].info.Timestamp + 600e9
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := &frames[i%len(frames)]
				ts := f.info.Timestamp + int64(i/len(frames))*span
				if dec.Decode(f.data, f.info.LinkType, ts, &p) == nil {
					table.Add(&p)
				}
				table.Tick(ts)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
		})
	}
}
