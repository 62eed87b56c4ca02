package engine

import (
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
)

// enc and dec are the little binary format of persisted state: varints,
// little-endian floats, length-prefixed strings, addresses as 4 or 16 bytes.

type enc struct{ b []byte }

func (e *enc) uint(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) int(v int64)    { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) f64(v float64)  { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *enc) f32(v float32)  { e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(v)) }
func (e *enc) str(s string)   { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bytes(v []byte) { e.uint(uint64(len(v))); e.b = append(e.b, v...) }

func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *enc) addr(k addrKey) {
	a := k.addr()
	e.b = append(e.b, byte(a.BitLen()/8))
	e.b = append(e.b, a.AsSlice()...)
}

var errShort = errors.New("truncated")

type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *dec) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length and checks it against limit, so corrupt input
// cannot make the decoder allocate without bound.
func (d *dec) count(limit int) int {
	n := d.uint()
	if n > uint64(limit) {
		d.fail(errors.New("count out of range"))
		return 0
	}
	return int(n)
}

func (d *dec) take(n int) []byte {
	if len(d.b) < n {
		d.fail(errShort)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) f64() float64 {
	if v := d.take(8); v != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(v))
	}
	return 0
}

func (d *dec) f32() float32 {
	if v := d.take(4); v != nil {
		return math.Float32frombits(binary.LittleEndian.Uint32(v))
	}
	return 0
}

func (d *dec) str() string { return string(d.take(d.count(1 << 16))) }

// bytes reads a length-prefixed byte string of at most limit bytes; the
// result aliases the input.
func (d *dec) bytes(limit int) []byte { return d.take(d.count(limit)) }

func (d *dec) bool() bool {
	v := d.take(1)
	return v != nil && v[0] != 0
}

func (d *dec) addr() addrKey {
	n := d.take(1)
	if n == nil || (n[0] != 4 && n[0] != 16) {
		d.fail(errors.New("bad address length"))
		return addrKey{}
	}
	a, _ := netip.AddrFromSlice(d.take(int(n[0])))
	return keyOf(a)
}
