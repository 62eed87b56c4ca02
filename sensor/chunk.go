package sensor

import (
	"errors"
	"sync/atomic"

	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/source"
)

// Chunk sizes: a chunk is full at whichever comes first. 1024 frames are
// a few hundred microseconds of work, so handing chunks between goroutines
// costs little, and small enough frames (snaplen up to 1 KiB) fill them.
// Measured on the benchmark capture: 256 frames were clearly slower, 512
// to 2048 alike.
const (
	defaultChunkFrames = 1024
	defaultChunkBytes  = 1 << 20
)

// chunk carries consecutive frames through the stages: the reader copies
// them into arena, whoever decodes the chunk fills pkts and kinds, and the
// counter consumes them in capture order and returns the chunk to the
// pool. Payloads in pkts alias arena: valid until the chunk is reused.
type chunk struct {
	frames []frameRef
	arena  []byte
	std    []byte // the arena as allocated; a frame bigger than it gets one of its own until reset
	pkts   []decode.Packet
	kinds  []frameKind
	// refine holds the decoder counters that refine IP packets
	// (TransportTruncated, TransportMalformed) added by this chunk.
	refine decode.Stats

	// base is the source's stats before the first frame: after frame i
	// they are base with Packets + i + 1 (the reader starts a new chunk
	// when anything else changes). after is what they are once the chunk
	// ends, including what ended it.
	base, after source.Stats
	idle        bool  // ended by source.ErrTimeout: advance on the wall clock
	last        bool  // the stream ends after this chunk
	err         error // with last: the source failed (nil: io.EOF or cancelled)

	// seq numbers the chunks in the order the reader sends them. decoded
	// is set when the reader decoded the chunk before sending it. Otherwise
	// a decoder or the counter claims it: state is seq<<1, bit 0 set once
	// claimed, so that a decoder late for a chunk finds it claimed or back
	// from the pool under another seq. ready: a decoder is done with it.
	seq     uint64
	decoded bool
	state   atomic.Uint64
	ready   chan struct{}
}

// frameRef is where a frame's bytes are in the arena, and what decoding
// needs of its source.Info. Offsets fit 32 bits: arenas are 1 MiB, and a
// bigger frame, alone in its arena, is bounded by its source (16 MiB for
// files).
type frameRef struct {
	ts       int64
	off, end uint32
	lt       layers.LinkType
}

// frameKind is Decode's outcome for one frame; the counter counts kinds in
// capture order so that the health it reports matches a sequential
// pipeline's frame by frame.
type frameKind uint8

const (
	kindIP frameKind = iota
	kindNotIP
	kindUnsupportedLink
	kindTruncated
	kindMalformed
	kindFragment // decode.ErrFragment: the counter decodes it, in order
	numKinds
)

func kindOf(err error) frameKind {
	switch {
	case err == nil:
		return kindIP
	case err == decode.ErrNotIP:
		return kindNotIP
	case err == decode.ErrFragment:
		return kindFragment
	case err == decode.ErrUnsupportedLink:
		return kindUnsupportedLink
	case errors.Is(err, decode.ErrTruncated):
		return kindTruncated
	}
	return kindMalformed
}

func newChunk(frames, bytes int) *chunk {
	c := &chunk{
		frames: make([]frameRef, 0, frames),
		std:    make([]byte, 0, bytes),
		pkts:   make([]decode.Packet, frames),
		kinds:  make([]frameKind, frames),
		ready:  make(chan struct{}, 1),
	}
	c.arena = c.std
	return c
}

// reset empties a chunk for the reader.
func (c *chunk) reset(base source.Stats) {
	c.frames = c.frames[:0]
	c.arena = c.std[:0]
	c.refine = decode.Stats{}
	c.base, c.after = base, base
	c.idle, c.last, c.err, c.decoded = false, false, nil, false
}

// add copies a frame in; it reports false when the chunk is full.
func (c *chunk) add(data []byte, info source.Info) bool {
	if len(c.frames) == cap(c.frames) {
		return false
	}
	if len(c.arena)+len(data) > cap(c.arena) {
		if len(c.frames) > 0 {
			return false
		}
		c.arena = make([]byte, 0, len(data))
	}
	off := len(c.arena)
	c.arena = append(c.arena, data...)
	c.frames = append(c.frames, frameRef{ts: info.Timestamp, off: uint32(off), end: uint32(len(c.arena)), lt: info.LinkType})
	c.after.Packets++
	return true
}

func (c *chunk) data(f *frameRef) []byte { return c.arena[f.off:f.end:f.end] }

// claim lets one goroutine decode the chunk the reader sent as seq.
func (c *chunk) claim(seq uint64) bool { return c.state.CompareAndSwap(seq<<1, seq<<1|1) }

// decode fills pkts and kinds; dec defers fragments.
func (c *chunk) decode(dec *decode.Decoder) {
	before := dec.Stats()
	for i := range c.frames {
		f := &c.frames[i]
		if err := dec.Decode(c.data(f), f.lt, f.ts, &c.pkts[i]); err == nil {
			c.kinds[i] = kindIP
		} else {
			c.kinds[i] = kindOf(err)
		}
	}
	after := dec.Stats()
	c.refine.TransportTruncated = after.TransportTruncated - before.TransportTruncated
	c.refine.TransportMalformed = after.TransportMalformed - before.TransportMalformed
}
