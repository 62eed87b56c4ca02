package sensor

import (
	"context"
	"time"

	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/source"
)

// runStages is Run as stages (stages.go); this goroutine is the counter.
func (p *Pipeline) runStages(ctx context.Context) error {
	p.staged = true
	p.st.source = p.src.Stats()
	s := newStages(p.src, p.cfg.DecodeWorkers, p.cfg.chunkFrames, p.cfg.chunkBytes)
	s.start(ctx)
	defer s.halt()
	own := decode.New(decode.Config{DeferFragments: true})
	for c := range s.order {
		switch {
		case c.decoded:
		case c.claim(c.seq):
			c.decode(own)
		default:
			<-c.ready
		}
		p.count(c)
		last, err, idle := c.last, c.err, c.idle
		s.free <- c
		switch {
		case err != nil:
			return p.sourceError(err)
		case last:
			return nil
		case idle:
			p.advance(time.Now().UnixNano(), true)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return nil
}

// count is the sequential loop's body (Run) for each frame of a decoded
// chunk.
func (p *Pipeline) count(c *chunk) {
	p.st.source = c.base
	for i := range c.frames {
		pkt := &c.pkts[i]
		if pkt.Timestamp > p.clock {
			p.clock = pkt.Timestamp
		}
		k := c.kinds[i]
		p.st.kinds[k]++
		switch k {
		case kindIP:
			p.table.Add(pkt)
		case kindFragment:
			f := &c.frames[i]
			if p.dec.Decode(c.data(f), f.lt, f.ts, &p.pkt) == nil {
				p.table.Add(&p.pkt)
			}
		}
		p.st.source.Packets++
		if p.clock >= p.nextTick {
			p.advance(p.clock, false)
		}
	}
	p.st.refine.TransportTruncated += c.refine.TransportTruncated
	p.st.refine.TransportMalformed += c.refine.TransportMalformed
	p.st.source = c.after
}

// stagedStats are the counters a staged pipeline's counter keeps for what
// it has consumed: the source's, and the parallel decoding's by kind.
type stagedStats struct {
	source source.Stats
	kinds  [numKinds]uint64
	refine decode.Stats // TransportTruncated, TransportMalformed
}

// decode adds the parallel decoding's counters to seq, the counter's own
// Decoder's (deferred fragments only): deferred frames count once, there.
func (s *stagedStats) decode(seq decode.Stats) decode.Stats {
	k := &s.kinds
	seq.IP += k[kindIP]
	seq.NotIP += k[kindNotIP]
	seq.UnsupportedLink += k[kindUnsupportedLink]
	seq.Truncated += k[kindTruncated]
	seq.Malformed += k[kindMalformed]
	seq.Frames += k[kindIP] + k[kindNotIP] + k[kindUnsupportedLink] + k[kindTruncated] + k[kindMalformed]
	seq.TransportTruncated += s.refine.TransportTruncated
	seq.TransportMalformed += s.refine.TransportMalformed
	return seq
}
