package sensor

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/source"
)

// stages run one source's pipeline on several cores. Decoding needs no
// shared state, so it runs in parallel; counting stays in capture order.
//
//	reader ── chunk ──▶ order (capture order) ──▶ counter (the Pipeline) ──▶ free ──▶ reader
//	   └────── chunk ──▶ work ──▶ decoders (workers-2)
//
// The reader copies frames into chunks from a fixed pool and sends each
// one, in sequence, to the counter, which counts it and returns it to the
// pool: memory is bounded by the pool and steady state allocates nothing.
// Each chunk is decoded once, by whoever is free: the reader decodes the
// chunk it just filled (still in its cache) when the counter already has
// one waiting and no decoder is idle; otherwise the chunk goes out
// undecoded, and a decoder goroutine or, when it gets there first, the
// counter decodes it. On two cores, then, the reader and the counter share
// the decoding between them with no goroutine in between: separate decoder
// goroutines, measured, cost more in hand-offs and cache misses than they
// gave. Decoding here defers IP fragments (the fragment table needs
// capture order); the counter decodes those itself.
type stages struct {
	src     source.Source
	chain   *chain // src, when it is one: its stats move only between files
	free    chan *chunk
	order   chan *chunk
	work    chan job
	stop    chan struct{} // closed when the counter ends
	sent    uint64        // chunks sent (reader)
	dec     *decode.Decoder
	helpers int
	wg      sync.WaitGroup
}

// job is a chunk for the decoders, with the seq it was sent as.
type job struct {
	c   *chunk
	seq uint64
}

// maxDecoders bounds the decoder goroutines (and with them the pool):
// decoding is about a third of the packet path, so a few decoders keep up
// with the counter, which runs on one core whatever the machine.
const maxDecoders = 4

// newStages sets up stages with workers decoding goroutines in all: the
// reader, the counter and workers-2 decoders (at most maxDecoders).
func newStages(src source.Source, workers, frames, bytes int) *stages {
	if frames <= 0 {
		frames = defaultChunkFrames
	}
	if bytes <= 0 {
		bytes = defaultChunkBytes
	}
	helpers := min(max(0, workers-2), maxDecoders)
	// one chunk being filled, one being counted, one per decoder, and
	// some slack for the counter's slower moments (a burst of exports)
	n := helpers + 8
	s := &stages{
		src: src, free: make(chan *chunk, n), order: make(chan *chunk, n), work: make(chan job, n),
		stop: make(chan struct{}), dec: decode.New(decode.Config{DeferFragments: true}), helpers: helpers,
	}
	s.chain, _ = src.(*chain)
	for range n {
		s.free <- newChunk(frames, bytes)
	}
	return s
}

// start runs the reader and the decoders.
func (s *stages) start(ctx context.Context) {
	s.wg.Add(1 + s.helpers)
	go func() {
		defer s.wg.Done()
		defer close(s.work)
		defer close(s.order)
		s.read(ctx)
	}()
	for range s.helpers {
		go func() {
			defer s.wg.Done()
			dec := decode.New(decode.Config{DeferFragments: true})
			for j := range s.work {
				if j.c.claim(j.seq) {
					j.c.decode(dec)
					j.c.ready <- struct{}{}
				}
			}
		}()
	}
}

// halt stops the reader (when the counter ends first) and waits for every
// goroutine: the source is the caller's again.
func (s *stages) halt() {
	close(s.stop)
	s.wg.Wait()
}

// take gets an empty chunk from the pool, or nil once the counter ended.
func (s *stages) take(base source.Stats) *chunk {
	select {
	case c := <-s.free:
		c.reset(base)
		return c
	case <-s.stop:
		return nil
	}
}

// send hands a chunk to the counter, decoded or for a decoder. Neither
// channel can be full: each holds the whole pool.
func (s *stages) send(c *chunk) {
	s.sent++
	c.seq = s.sent
	if len(s.order) > 0 && len(s.work) >= s.helpers {
		c.state.Store(c.seq<<1 | 1)
		c.decode(s.dec)
		c.decoded = true
	} else {
		c.state.Store(c.seq << 1)
		if s.helpers > 0 {
			s.work <- job{c, c.seq}
		}
	}
	s.order <- c
}

// read copies frames into chunks until the source ends or fails, or ctx
// is cancelled. A chunk ends early where the source's stats change other
// than by the frame just read, so the counter can tell them frame by frame.
func (s *stages) read(ctx context.Context) {
	c := s.take(s.src.Stats())
	files := -1
	for n := 0; c != nil; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			c.last = true
			s.send(c)
			return
		}
		data, info, err := s.src.Next()
		if err != nil {
			c.after = s.src.Stats()
			if errors.Is(err, source.ErrTimeout) {
				c.idle = true
				st := c.after
				s.send(c)
				c = s.take(st)
				continue
			}
			c.last = true
			if !errors.Is(err, io.EOF) {
				c.err = err
			}
			s.send(c)
			return
		}
		if s.chain == nil || s.chain.files() != files {
			if s.chain != nil {
				files = s.chain.files()
			}
			want := c.after
			want.Packets++
			if st := s.src.Stats(); st != want {
				s.send(c)
				st.Packets--
				if c = s.take(st); c == nil {
					return
				}
			}
		}
		if !c.add(data, info) {
			st := c.after
			s.send(c)
			if c = s.take(st); c == nil {
				return
			}
			c.add(data, info) // an empty chunk takes any frame
		}
	}
}
