package sensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/scenario"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/export"
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

// memorySource replays frames held in memory n times over, shifted in time
// so each pass looks like new traffic after the previous one.
type memorySource struct {
	frames []frame
	span   int64
	i, n   int
	info   source.Info
}

func newMemorySource(frames []frame, n int) *memorySource {
	span := frames[len(frames)-1].info.Timestamp - frames[0].info.Timestamp + 600e9
	return &memorySource{frames: frames, span: span, n: n}
}

func (m *memorySource) Next() ([]byte, source.Info, error) {
	if m.i == m.n {
		return nil, source.Info{}, io.EOF
	}
	f := &m.frames[m.i%len(m.frames)]
	m.info = f.info
	m.info.Timestamp += int64(m.i/len(m.frames)) * m.span
	m.i++
	return f.data, m.info, nil
}

func (m *memorySource) Stats() source.Stats { return source.Stats{Packets: uint64(m.i)} }
func (m *memorySource) Kind() string        { return "memory" }
func (m *memorySource) Close() error        { return nil }

// benchCapture loads the first day of the benchmark scenario (the capture
// bench/compare-softflowd.sh measures has eight): about 530,000 frames,
// snaplen 128.
func benchCapture(b *testing.B) []frame {
	cfg := scenario.BenchConfig()
	cfg.Days = 1
	path := filepath.Join(b.TempDir(), "bench.pcap")
	fh, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := scenario.Generate(cfg, fh); err != nil {
		b.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		b.Fatal(err)
	}
	return loadFrames(b, path)
}

// BenchmarkParallelPipeline is the whole pipeline but the file read and
// the publisher (frames in memory, records counted and dropped): workers=1
// is the sequential pipeline Run uses on one core, more runs it as stages
// (run with -cpu 1,2 to see what the second core buys). One op is one
// packet; B/op is the chunk pool spread over b.N.
func BenchmarkParallelPipeline(b *testing.B) {
	frames := benchCapture(b)
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			set := metrics.NewSet()
			exp := export.New(export.Config{SensorID: "b", RunID: 1}, nil, nil, set, nil)
			p := NewPipeline(PipelineConfig{Internal: flow.MustParseNetworks(flow.DefaultInternal), DecodeWorkers: workers},
				newMemorySource(frames, b.N), exp, set)
			b.ReportAllocs()
			b.ResetTimer()
			if err := p.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
		})
	}
}
