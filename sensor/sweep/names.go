//go:build linux

package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/bpf"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/names"
)

// EventSource is the kernel's name-event ring buffer: *bpf.EventReader.
type EventSource interface {
	Read(*bpf.Event) error
}

// EventStats count the name events read.
type EventStats struct {
	Events       uint64 // records read from the ring buffer
	DecodeErrors uint64 // frames the packet decoder refused
	ReadErrors   uint64 // records the reader refused (malformed)
}

// maxReadErrors consecutive read errors end ReadNames: the ring buffer
// is broken, not one record.
const maxReadErrors = 100

// ReadNames reads name events until the source is closed (then it returns
// nil). Each frame goes through the packet path's decoder and name parser:
// DNS answers teach the cache, and a TLS server name or HTTP Host is
// attached to its flow for the responder's side, as the flow table does.
func (s *Sweeper) ReadNames(src EventSource) error {
	dec := decode.New(decode.Config{})
	var (
		ev      bpf.Event
		p       decode.Packet
		errsRow int
	)
	for {
		if err := src.Read(&ev); err != nil {
			if errors.Is(err, os.ErrClosed) {
				return nil
			}
			s.mu.Lock()
			s.events.ReadErrors++
			s.mu.Unlock()
			if errsRow++; errsRow >= maxReadErrors {
				return fmt.Errorf("read name events: %d errors in a row, the last: %w", errsRow, err)
			}
			continue
		}
		errsRow = 0
		derr := dec.Decode(ev.Data, layers.LinkTypeEthernet, 0, &p)
		s.mu.Lock()
		s.events.Events++
		if derr != nil {
			s.events.DecodeErrors++
		} else {
			if ev.VLAN != 0 { // the offloaded tag is not in the frame bytes
				p.VLAN = ev.VLAN
			}
			s.observe(&p)
		}
		s.mu.Unlock()
	}
}

// EventStats returns the name-event counters.
func (s *Sweeper) EventStats() EventStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

// observe hands p to the name cache; a requested name goes to the flow's
// responder side, and a DNS response's question becomes the flow's Query.
// Called with s.mu held.
func (s *Sweeper) observe(p *decode.Packet) {
	if s.namer == nil {
		return
	}
	if p.Proto == protoUDP && p.SrcPort == 53 {
		s.observeQuery(p)
	}
	name := s.namer.Observe(p)
	if name == "" {
		return
	}
	k, sender := keyOf(p)
	if st := s.flowFor(k); st != nil {
		st.names[1-sender] = name
		s.stats.Names++
	}
}

const protoUDP = 17

// observeQuery: the kernel copies DNS responses, not queries, but a
// response repeats the question, so it tells which name the client (the
// response's receiver) asked on this flow. The latest answered name is the
// Query of the flow's deltas from then on: a socket asking many names
// shows one of them per delta (the packet path cuts one delta per name;
// the kernel's counters cannot be cut).
func (s *Sweeper) observeQuery(p *decode.Packet) {
	if len(p.Payload) < 3 || p.Payload[2]&0x80 == 0 {
		return // not a response
	}
	q := names.QuestionName(p.Payload)
	if q == "" {
		return
	}
	k, _ := keyOf(p)
	if st := s.flowFor(k); st != nil && st.query != q {
		st.query = q
		s.stats.Queries++
	}
}

// flowFor returns k's state, creating it for a name event that beat the
// pass that first reads the flow; nil (counted) when too many flows wait.
func (s *Sweeper) flowFor(k bpf.Key) *state {
	st := s.flows[k]
	if st == nil {
		// Such entries live one pass; their number is bounded by the map's.
		if len(s.flows) >= 2*s.stats.Capacity {
			s.stats.NamesLost++
			return nil
		}
		st = &state{gen: s.gen}
		s.flows[k] = st
	}
	return st
}

// keyOf is the kernel's canonical key of p's flow and the index (0 lo,
// 1 hi) of p's sender, ordered as flow.c orders them.
func keyOf(p *decode.Packet) (bpf.Key, int) {
	src, dst := addr(p.Src, p.IsV6), addr(p.Dst, p.IsV6)
	k := bpf.Key{Proto: p.Proto, VLAN: p.VLAN}
	c := bytes.Compare(p.Src[:], p.Dst[:])
	if c < 0 || c == 0 && p.SrcPort <= p.DstPort {
		k.LoAddr, k.HiAddr, k.LoPort, k.HiPort = src, dst, p.SrcPort, p.DstPort
		return k, 0
	}
	k.LoAddr, k.HiAddr, k.LoPort, k.HiPort = dst, src, p.DstPort, p.SrcPort
	return k, 1
}

// NameStats returns the name cache's counters.
func (s *Sweeper) NameStats() names.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.namer == nil {
		return names.Stats{}
	}
	return s.namer.Stats()
}
