package sensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/export"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/names"
	"github.com/outflowhq/outflow/sensor/source"
	"github.com/outflowhq/outflow/wire"
)

// PipelineConfig is what one pipeline needs besides its source and exporter.
type PipelineConfig struct {
	Internal  *flow.Networks
	FlowTable flowtable.Config
	// NamesCapacity bounds the address→name cache (default 65536).
	NamesCapacity int
	// ExportInterval is how often, in event time, batches are cut even when
	// not full (default 5s). Replays cut at most every MinCutWall of wall
	// time so a week of capture does not become a hundred thousand batches.
	ExportInterval time.Duration
	MinCutWall     time.Duration
	// DecodeWorkers above 1 runs the pipeline as stages (stages.go) on
	// that many goroutines: one reads, one counts in capture order, and all
	// of them decode. For replays, where one source is the whole input;
	// 0 or 1: one goroutine does everything.
	DecodeWorkers int

	// chunkFrames and chunkBytes size the stages' chunks (tests use tiny
	// ones); 0 takes the defaults.
	chunkFrames, chunkBytes int
}

// Pipeline is source → decode → flowtable → export for one source.
type Pipeline struct {
	cfg   PipelineConfig
	src   source.Source
	dec   *decode.Decoder
	names *names.Cache
	table *flowtable.Table
	exp   *export.Exporter
	m     *pipelineMetrics

	clock    int64 // event time, Unix ns: newest timestamp seen
	nextTick int64
	nextCut  int64
	lastCut  time.Time
	pkt      decode.Packet
	health   wire.Health

	// staged is set while Run runs as stages: the source and the parallel
	// decoders belong to other goroutines, and their counters reach this
	// one with the chunks (see stagedStats).
	staged bool
	st     stagedStats
}

// NewPipeline wires a pipeline; metrics go to set (shared by all pipelines
// of a sensor: counters add up).
func NewPipeline(cfg PipelineConfig, src source.Source, exp *export.Exporter, set *metrics.Set) *Pipeline {
	if cfg.NamesCapacity <= 0 {
		cfg.NamesCapacity = 65536
	}
	if cfg.ExportInterval <= 0 {
		cfg.ExportInterval = 5 * time.Second
	}
	if cfg.MinCutWall <= 0 {
		cfg.MinCutWall = 250 * time.Millisecond
	}
	p := &Pipeline{cfg: cfg, src: src, dec: decode.New(decode.Config{}), names: names.New(cfg.NamesCapacity), exp: exp,
		m: newPipelineMetrics(set)}
	p.health.Source = src.Kind()
	p.table = flowtable.New(cfg.FlowTable, cfg.Internal, p.names, p.emit)
	return p
}

func (p *Pipeline) emit(r *flow.Record) {
	p.exp.Add(r, time.Unix(0, p.clock).UTC(), p.health)
}

// Run reads the source until it ends (io.EOF: every flow is flushed) or ctx
// is cancelled (flows still in the table are flushed too, so a stopping
// sensor loses nothing it counted).
func (p *Pipeline) Run(ctx context.Context) error {
	defer p.finish()
	if p.cfg.DecodeWorkers > 1 {
		return p.runStages(ctx)
	}
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return nil
		}
		data, info, err := p.src.Next()
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, source.ErrTimeout):
			// A quiet link: check for a stop now, not after 1024 polls.
			if ctx.Err() != nil {
				return nil
			}
			p.advance(time.Now().UnixNano(), true)
			continue
		default:
			return p.sourceError(err)
		}
		if info.Timestamp > p.clock {
			p.clock = info.Timestamp
		}
		if derr := p.dec.Decode(data, info.LinkType, info.Timestamp, &p.pkt); derr == nil {
			p.table.Add(&p.pkt)
		}
		if p.clock >= p.nextTick {
			p.advance(p.clock, false)
		}
	}
}

// advance moves event time to now: timeouts, active exports, and a batch
// cut when the export interval has passed.
func (p *Pipeline) advance(now int64, idle bool) {
	if now > p.clock {
		p.clock = now
	}
	p.nextTick = p.clock + int64(time.Second)
	p.refreshHealth()
	p.table.Tick(p.clock)
	if p.clock < p.nextCut {
		return
	}
	if !idle && time.Since(p.lastCut) < p.cfg.MinCutWall {
		return
	}
	p.nextCut = p.clock + int64(p.cfg.ExportInterval)
	p.lastCut = time.Now()
	p.exp.Cut(time.Unix(0, p.clock).UTC(), p.health)
}

func (p *Pipeline) finish() {
	p.refreshHealth()
	p.table.Flush()
	p.refreshHealth()
	p.exp.Cut(time.Unix(0, p.clock).UTC(), p.health)
}

// Clock is the pipeline's event time (Unix ns).
func (p *Pipeline) Clock() int64 { return p.clock }

func (p *Pipeline) sourceError(err error) error {
	return fmt.Errorf("read %s source: %w", p.src.Kind(), err)
}

func (p *Pipeline) refreshHealth() {
	var ss source.Stats
	var ds decode.Stats
	if p.staged {
		ss, ds = p.st.source, p.st.decode(p.dec.Stats())
	} else {
		ss, ds = p.src.Stats(), p.dec.Stats()
	}
	ts := p.table.Stats()
	fillHealth(&p.health, ss, ds, ts)
	p.m.update(ss, ds, ts, p.names.Stats())
}

// fillHealth is the health every batch carries, from the stats of a
// sensor's stages (the eBPF source maps its counters onto the same ones).
func fillHealth(h *wire.Health, ss source.Stats, ds decode.Stats, ts flowtable.Stats) {
	h.Packets = ss.Packets
	h.Drops = ss.Drops
	h.Bytes = ts.Bytes
	h.DecodeErrors = ds.Truncated + ds.Malformed + ds.UnsupportedLink
	h.NonIP = ds.NotIP
	h.TableEntries = uint64(ts.Entries)
	h.TableCapacity = uint64(ts.Capacity)
	h.Evictions = ts.Evictions
}
