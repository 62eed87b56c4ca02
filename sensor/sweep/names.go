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
// responder side. Called with s.mu held.
func (s *Sweeper) observe(p *decode.Packet) {
	if s.namer == nil {
		return
	}
	name := s.namer.Observe(p)
	if name == "" {
		return
	}
	k, sender := keyOf(p)
	st := s.flows[k]
	if st == nil {
		// The event can beat the pass that first reads the flow. Such
		// entries live one pass; their number is bounded by the map's.
		if len(s.flows) >= 2*s.stats.Capacity {
			s.stats.NamesLost++
			return
		}
		st = &state{gen: s.gen}
		s.flows[k] = st
	}
	st.names[1-sender] = name
	s.stats.Names++
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
