package sensor

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/export"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/source"
	"github.com/outflowhq/outflow/wire"
)

// replay is what one pipeline run over a chain of capture files produced.
type replay struct {
	batches []*wire.Batch
	lines   string // JSON flow lines
	health  wire.Health
	metrics string
	err     error
}

type stageConfig struct {
	workers       int // 0: the sequential pipeline
	frames, bytes int // chunk size (0: default)
	wrap          func(source.Source) source.Source
}

func (s stageConfig) String() string {
	if s.workers == 0 {
		return "sequential"
	}
	return fmt.Sprintf("workers=%d/chunk=%dx%dB", s.workers, s.frames, s.bytes)
}

// runReplay runs one pipeline over paths as the sensor replays them, with
// small batches so that many carry mid-capture health.
func runReplay(t *testing.T, ctx context.Context, paths []string, sc stageConfig) replay {
	t.Helper()
	set := metrics.NewSet()
	pub := &batches{}
	var buf bytes.Buffer
	lines := export.NewJSONLines(&buf)
	exp := export.New(export.Config{SensorID: "t", RunID: 1, BatchSize: 50}, pub, lines, set, nil)
	cfg := PipelineConfig{
		Internal:  flow.MustParseNetworks(flow.DefaultInternal),
		FlowTable: flowtable.Config{MaxFlows: 512}, // small enough to evict on the bigger captures
		// Cut on event time only (a replay otherwise also waits MinCutWall
		// of wall time between cuts), so that two runs cut alike.
		MinCutWall:    time.Nanosecond,
		DecodeWorkers: sc.workers, chunkFrames: sc.frames, chunkBytes: sc.bytes,
	}
	var src source.Source = &chain{paths: paths}
	if sc.wrap != nil {
		src = sc.wrap(src)
	}
	p := NewPipeline(cfg, src, exp, set)
	var err error
	if sc.workers == 1 { // Run keeps one worker sequential; test the stages with one decoder too
		err = func() error { defer p.finish(); return p.runStages(ctx) }()
	} else {
		err = p.Run(ctx)
	}
	_ = src.Close()
	if cerr := exp.Close(context.Background()); cerr != nil {
		t.Fatal(cerr)
	}
	if ferr := lines.Flush(); ferr != nil {
		t.Fatal(ferr)
	}
	var prom bytes.Buffer
	set.WritePrometheus(&prom)
	var kept []string
	for _, l := range strings.Split(prom.String(), "\n") {
		if !strings.Contains(l, "queue_length") { // depends on the publisher goroutine's timing
			kept = append(kept, l)
		}
	}
	return replay{batches: pub.all, lines: buf.String(), health: p.health, metrics: strings.Join(kept, "\n"), err: err}
}

var stageConfigs = []stageConfig{
	{workers: 1, frames: 7}, {workers: 2, frames: 7}, {workers: 3, frames: 7}, {workers: 4, frames: 7},
	{workers: 2, frames: 64, bytes: 700}, // frames over 700 bytes get an arena of their own
	{workers: 2}, {workers: 4, frames: 1},
}

// The staged pipeline emits exactly what the sequential one does: the same
// batches (records, order, clock, health frame by frame), the same JSON
// lines, the same final health and metrics, whatever the number of
// decoders and the chunk size.
func TestStagesMatchSequential(t *testing.T) {
	var all []string
	for _, dir := range []string{"../../shared/testdata/zeek-conn", "../../shared/testdata/real"} {
		for _, pat := range []string{"*.pcap", "*.pcapng"} {
			m, err := filepath.Glob(filepath.Join(dir, pat))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, m...)
		}
	}
	if len(all) < 20 {
		t.Fatalf("only %d captures", len(all))
	}
	tmp := t.TempDir()
	frags := fragmentCapture(t, tmp)
	// a capture cut short: its Truncated count changes the health between
	// two frames of the chain
	whole, err := os.ReadFile(frags)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(tmp, "cut.pcap")
	if err := os.WriteFile(cut, whole[:len(whole)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	odd := oddLinkCapture(t, tmp)
	sets := map[string][]string{
		"scenario":  {scenarioCapture(t, tmp)},
		"fragments": {frags},
		"cut":       {cut},
		"odd-link":  {odd},
		// rotated files: one table, file boundaries inside chunks
		"all-chained": append([]string{frags, odd, cut}, all...),
	}
	for _, p := range all {
		sets[filepath.Base(p)] = []string{p}
	}
	for name, paths := range sets {
		t.Run(name, func(t *testing.T) {
			want := runReplay(t, context.Background(), paths, stageConfig{})
			if want.err != nil {
				t.Fatal(want.err)
			}
			if len(want.batches) == 0 || want.health.Packets == 0 {
				t.Fatalf("nothing replayed: %+v", want.health)
			}
			for _, sc := range stageConfigs {
				got := runReplay(t, context.Background(), paths, sc)
				if got.err != nil {
					t.Fatalf("%v: %v", sc, got.err)
				}
				compareReplays(t, sc.String(), want, got)
			}
		})
	}
}

func compareReplays(t *testing.T, name string, want, got replay) {
	t.Helper()
	if len(got.batches) != len(want.batches) {
		t.Errorf("%s: %d batches, sequential %d", name, len(got.batches), len(want.batches))
	}
	for i := range min(len(got.batches), len(want.batches)) {
		if !reflect.DeepEqual(got.batches[i], want.batches[i]) {
			t.Fatalf("%s: batch %d differs:\n got %+v\nwant %+v", name, i, got.batches[i], want.batches[i])
		}
	}
	if got.lines != want.lines {
		t.Errorf("%s: JSON lines differ", name)
	}
	if got.health != want.health {
		t.Errorf("%s: health %+v, sequential %+v", name, got.health, want.health)
	}
	if got.metrics != want.metrics {
		t.Errorf("%s: metrics differ:\n%s\nsequential:\n%s", name, got.metrics, want.metrics)
	}
}

// The fragment capture's bytes land in their datagrams' flows, with the
// staged pipeline as with the sequential one.
func TestStagesFragmentsLandInTheirFlows(t *testing.T) {
	path := fragmentCapture(t, t.TempDir())
	want := map[flowKey]uint64{}
	for _, f := range fragmentFrames(t) {
		if f.ip > 0 {
			want[f.key] += uint64(f.ip)
		}
	}
	for _, sc := range []stageConfig{{}, {workers: 2, frames: 7}, {workers: 4, frames: 3}} {
		r := runReplay(t, context.Background(), []string{path}, sc)
		if r.err != nil {
			t.Fatal(r.err)
		}
		got := map[flowKey]uint64{}
		for _, b := range r.batches {
			for _, rec := range b.Flows {
				got[flowKey{rec.SrcAddr, rec.SrcPort, rec.DstAddr, rec.DstPort}] += rec.SrcBytes + rec.DstBytes
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: bytes per flow %v, want %v", sc, got, want)
		}
	}
}

// Cancelling the context stops every stage: Run returns nil, the table is
// flushed (what was counted is exported), and no goroutine is left behind.
func TestStagesCancel(t *testing.T) {
	path := scenarioCapture(t, t.TempDir())
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := runReplay(t, ctx, []string{path}, stageConfig{workers: 2}); r.err != nil || r.health.Packets != 0 || len(r.batches) != 1 {
		t.Errorf("cancelled before the start: err %v, health %+v, %d batches", r.err, r.health, len(r.batches))
	}
	for _, after := range []time.Duration{0, time.Millisecond, 20 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(after, cancel)
		r := runReplay(t, ctx, []string{path}, stageConfig{workers: 2, frames: 64})
		cancel()
		if r.err != nil {
			t.Fatal(r.err)
		}
		var pkts uint64
		for _, b := range r.batches {
			for _, rec := range b.Flows {
				pkts += rec.SrcPackets + rec.DstPackets
			}
		}
		// every IP packet counted was exported; health counts what the
		// counter consumed, not what the reader read ahead
		h := r.health
		if pkts != h.Packets-h.NonIP-h.DecodeErrors || h.TableEntries != 0 {
			t.Errorf("cancelled after %v: exported %d packets, health %+v", after, pkts, h)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the runs, %d before", n, before)
	}
}

// A source error ends the run with the error, as in the sequential
// pipeline, after counting the frames before it; the table is flushed.
func TestStagesSourceError(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "missing.pcap")
	good := fragmentCapture(t, dir)
	want := runReplay(t, context.Background(), []string{good, bad}, stageConfig{})
	if want.err == nil || !strings.Contains(want.err.Error(), "read pcap source: open capture") {
		t.Fatalf("sequential: err %v", want.err)
	}
	for _, sc := range stageConfigs {
		got := runReplay(t, context.Background(), []string{good, bad}, sc)
		if got.err == nil || got.err.Error() != want.err.Error() {
			t.Fatalf("%v: err %v, want %v", sc, got.err, want.err)
		}
		compareReplays(t, sc.String(), want, got)
	}
}

// lossy reports a drop after every 13th frame, as a live source might.
type lossy struct{ source.Source }

func (l lossy) Stats() source.Stats {
	st := l.Source.Stats()
	st.Drops = st.Packets / 13
	return st
}

// Source counters that change between frames (drops) reach the health of
// every batch as they do in the sequential pipeline: the reader starts a
// new chunk where they change.
func TestStagesSourceStatsFrameByFrame(t *testing.T) {
	paths := []string{"../../shared/testdata/zeek-conn/ssh_ssh.pcap"}
	wrap := func(s source.Source) source.Source { return lossy{s} }
	want := runReplay(t, context.Background(), paths, stageConfig{wrap: wrap})
	if want.health.Drops != 1797/13 {
		t.Fatalf("health %+v", want.health)
	}
	for _, sc := range stageConfigs {
		sc.wrap = wrap
		compareReplays(t, sc.String(), want, runReplay(t, context.Background(), paths, sc))
	}
}

// The reader hands over every frame, byte for byte and in order, with the
// source's stats as they were right after it was read: also across files
// of a chain, one of them cut short (its Truncated count moves between two
// frames), and with frames bigger than a chunk's arena.
func TestStagesReader(t *testing.T) {
	dir := t.TempDir()
	frags := fragmentCapture(t, dir)
	whole, err := os.ReadFile(frags)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(cut, whole[:len(whole)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{frags, cut, cut, "../../shared/testdata/zeek-conn/ssh_ssh.pcap"}

	type seen struct {
		data []byte
		info source.Info
		st   source.Stats
	}
	var want []seen
	seq := &chain{paths: paths}
	for {
		data, info, err := seq.Next()
		if err != nil {
			break
		}
		want = append(want, seen{append([]byte(nil), data...), info, seq.Stats()})
	}
	final := seq.Stats()
	_ = seq.Close()
	if final.Truncated != 2 {
		t.Fatalf("final stats %+v", final)
	}

	for _, sz := range []struct{ frames, bytes int }{{7, 0}, {1024, 700}, {1, 0}} {
		src := &chain{paths: paths}
		s := newStages(src, 2, sz.frames, sz.bytes)
		s.start(context.Background())
		i, last := 0, false
		for c := range s.order {
			st := c.base
			for j := range c.frames {
				f := &c.frames[j]
				st.Packets++
				if i >= len(want) {
					t.Fatalf("%v: more frames than the capture", sz)
				}
				w := want[i]
				if !bytes.Equal(c.data(f), w.data) || f.ts != w.info.Timestamp || f.lt != w.info.LinkType || st != w.st {
					t.Fatalf("%v: frame %d: %d bytes, ts %d, stats %+v; want %d bytes, ts %d, stats %+v",
						sz, i, f.end-f.off, f.ts, st, len(w.data), w.info.Timestamp, w.st)
				}
				i++
			}
			if st != c.after && !c.last {
				t.Fatalf("%v: chunk ends with stats %+v after its frames %+v", sz, c.after, st)
			}
			last = c.last
			if c.last && (c.after != final || c.err != nil) {
				t.Fatalf("%v: last chunk: stats %+v err %v", sz, c.after, c.err)
			}
			s.free <- c
		}
		s.halt()
		_ = src.Close()
		if i != len(want) || !last {
			t.Fatalf("%v: %d frames (last %v), want %d", sz, i, last, len(want))
		}
	}
}

// stalling is a live-like source: before every 100th frame it reports a
// poll timeout.
type stalling struct {
	source.Source
	n int
}

func (s *stalling) Next() ([]byte, source.Info, error) {
	if s.n++; s.n%100 == 0 {
		return nil, source.Info{}, source.ErrTimeout
	}
	return s.Source.Next()
}

// A source that goes quiet (ErrTimeout) moves the staged pipeline to the
// wall clock at the same frames as the sequential one. Where the flow
// table's timeouts then fall depends on the wall clock, so the records may
// split differently from run to run; what each flow counts may not.
func TestStagesIdleSource(t *testing.T) {
	paths := []string{"../../shared/testdata/zeek-conn/ssh_ssh.pcap", "../../shared/testdata/real/test-cc-capture-1.pcap"}
	wrap := func(s source.Source) source.Source { return &stalling{Source: s} }
	type totals struct{ pkts, bytes uint64 }
	perFlow := func(r replay) map[flowKey]totals {
		m := map[flowKey]totals{}
		for _, b := range r.batches {
			for _, rec := range b.Flows {
				k := flowKey{rec.SrcAddr, rec.SrcPort, rec.DstAddr, rec.DstPort}
				t := m[k]
				m[k] = totals{t.pkts + rec.SrcPackets + rec.DstPackets, t.bytes + rec.SrcBytes + rec.DstBytes}
			}
		}
		return m
	}
	want := runReplay(t, context.Background(), paths, stageConfig{wrap: wrap})
	if want.err != nil || len(perFlow(want)) == 0 {
		t.Fatal(want.err)
	}
	for _, sc := range stageConfigs {
		sc.wrap = wrap
		got := runReplay(t, context.Background(), paths, sc)
		if got.err != nil {
			t.Fatal(got.err)
		}
		g, w := got.health, want.health
		if !reflect.DeepEqual(perFlow(got), perFlow(want)) || g.Packets != w.Packets || g.Bytes != w.Bytes || g.NonIP != w.NonIP {
			t.Errorf("%v: flows or health differ from the sequential pipeline's: health %+v, want %+v", sc, got.health, want.health)
		}
	}
}

// The stages allocate nothing per packet: beyond their setup (the chunk
// pool, decoders, goroutines) a staged run allocates what a sequential one
// does (the names package allocates a string per SNI or Host it finds),
// however many packets it runs.
func TestStagesAllocations(t *testing.T) {
	frames := loadFrames(t, "../../shared/testdata/real/test-cc-capture-1.pcap")
	mallocs := func(workers, n int) int64 {
		set := metrics.NewSet()
		exp := export.New(export.Config{SensorID: "a", RunID: 1}, nil, nil, set, nil)
		p := NewPipeline(PipelineConfig{Internal: flow.MustParseNetworks(flow.DefaultInternal), DecodeWorkers: workers},
			newMemorySource(frames, n), exp, set)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return int64(after.Mallocs - before.Mallocs)
	}
	mallocs(2, 50_000) // warm up what is allocated once per process
	short := mallocs(2, 100_000) - mallocs(1, 100_000)
	long := mallocs(2, 400_000) - mallocs(1, 400_000)
	if long > short+20 || short > 200 {
		t.Errorf("stages allocate %d more than the sequential pipeline over 100,000 packets, %d over 400,000", short, long)
	}
}
