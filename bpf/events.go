//go:build linux

package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf/ringbuf"
)

// eventHeaderLen is the size of struct name_event's header in flow.h:
// time_ns u64, ifindex u32, len u32, vlan u16, cap_len u16, 4 bytes pad.
const eventHeaderLen = 24

// EventMaxBytes is NAME_EVENT_MAX in flow.h: the most frame bytes an event
// carries (a 1500-byte-MTU frame with one in-band VLAN tag).
const EventMaxBytes = 1518

// ErrShortEvent is returned (wrapped) by Read for a record that cannot be
// a name event: shorter than the header, or with a captured length past
// its end. The record is skipped; the next Read goes on with the next one.
var ErrShortEvent = errors.New("name event record too short")

// Event is one name event: the first bytes of a frame that may carry a
// remote name (a DNS response, a TLS ClientHello, an HTTP request).
type Event struct {
	Time    uint64 // bpf_ktime_get_ns
	Ifindex uint32
	VLAN    uint16 // offloaded tag's id, 0 when none
	Len     uint32 // frame length on the wire (skb->len)
	Data    []byte // the first bytes of the frame from the Ethernet header; reused by the next Read
}

// EventReader reads name events from the kernel's ring buffer.
type EventReader struct {
	rd  *ringbuf.Reader
	rec ringbuf.Record
}

// NameEvents opens a reader on the name events ring buffer.
func (o *Objects) NameEvents() (*EventReader, error) {
	rd, err := ringbuf.NewReader(o.objs.NameEvents)
	if err != nil {
		return nil, fmt.Errorf("open name events: %w", err)
	}
	return &EventReader{rd: rd}, nil
}

// Read blocks for the next event and fills e; e.Data aliases a buffer the
// next Read reuses. After Close it returns an error wrapping os.ErrClosed,
// past a deadline one wrapping os.ErrDeadlineExceeded, and for a malformed
// record one wrapping ErrShortEvent.
func (r *EventReader) Read(e *Event) error {
	if err := r.rd.ReadInto(&r.rec); err != nil {
		return fmt.Errorf("read name event: %w", err)
	}
	return decodeEvent(r.rec.RawSample, e)
}

// SetDeadline makes Read return os.ErrDeadlineExceeded once t has passed
// and no event is waiting; the zero time removes the deadline.
func (r *EventReader) SetDeadline(t time.Time) {
	r.rd.SetDeadline(t)
}

// Close stops the reader; a blocked Read returns.
func (r *EventReader) Close() error {
	return r.rd.Close()
}

// decodeEvent parses one ring buffer record (struct name_event, cut after
// cap_len bytes of data) into e without copying the data.
func decodeEvent(rec []byte, e *Event) error {
	if len(rec) < eventHeaderLen {
		return fmt.Errorf("%w: %d bytes, header is %d", ErrShortEvent, len(rec), eventHeaderLen)
	}
	capLen := int(binary.NativeEndian.Uint16(rec[18:]))
	if capLen > len(rec)-eventHeaderLen {
		return fmt.Errorf("%w: %d bytes captured, record holds %d", ErrShortEvent, capLen, len(rec)-eventHeaderLen)
	}
	e.Time = binary.NativeEndian.Uint64(rec[0:])
	e.Ifindex = binary.NativeEndian.Uint32(rec[8:])
	e.Len = binary.NativeEndian.Uint32(rec[12:])
	e.VLAN = binary.NativeEndian.Uint16(rec[16:])
	e.Data = rec[eventHeaderLen : eventHeaderLen+capLen]
	return nil
}
