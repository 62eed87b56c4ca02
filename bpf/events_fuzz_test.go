//go:build linux

package bpf

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzDecodeEvent: any ring buffer record either decodes into an event
// whose data lies inside the record, exactly cap_len bytes long, or is
// refused with ErrShortEvent; never a panic.
func FuzzDecodeEvent(f *testing.F) {
	good := make([]byte, eventHeaderLen+3)
	binary.NativeEndian.PutUint64(good[0:], 12345)
	binary.NativeEndian.PutUint32(good[8:], 2)
	binary.NativeEndian.PutUint32(good[12:], 60)
	binary.NativeEndian.PutUint16(good[16:], 7)
	binary.NativeEndian.PutUint16(good[18:], 3)
	copy(good[eventHeaderLen:], "abc")
	f.Add(good)
	f.Add(good[:eventHeaderLen-1])
	f.Add(good[:eventHeaderLen+2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rec []byte) {
		var e Event
		err := decodeEvent(rec, &e)
		if err != nil {
			if !errors.Is(err, ErrShortEvent) {
				t.Fatalf("error %v does not wrap ErrShortEvent", err)
			}
			return
		}
		capLen := int(binary.NativeEndian.Uint16(rec[18:]))
		if len(e.Data) != capLen || len(rec) < eventHeaderLen+capLen {
			t.Fatalf("data %d bytes, cap_len %d, record %d", len(e.Data), capLen, len(rec))
		}
		if e.Time != binary.NativeEndian.Uint64(rec) || e.VLAN != binary.NativeEndian.Uint16(rec[16:]) {
			t.Fatalf("header fields %+v from %x", e, rec[:eventHeaderLen])
		}
	})
}
