package decode

import (
	"encoding/binary"
	"math/bits"
)

// Later IP fragments carry no transport header; the table remembers the
// ports of each first fragment so the rest of the datagram lands in the
// same flow. It is a fixed array of 4-way buckets: no allocation after New,
// and a full bucket evicts its oldest entry (counted) instead of growing.

const fragWays = 4

type fragKey struct {
	src, dst [16]byte
	id       uint32 // IPv4 identification or IPv6 fragment identification
	proto    uint8  // IPv4 protocol; for IPv6 the fragment header's next header
	v6       bool
}

type fragEntry struct {
	key              fragKey
	expires          int64 // event time, Unix ns; 0 marks a free slot
	srcPort, dstPort uint16
	proto            uint8 // transport after any IPv6 extension headers
}

type fragTable struct {
	slots   []fragEntry
	mask    uint64 // buckets - 1
	timeout int64
}

func newFragTable(capacity int, timeout int64) fragTable {
	buckets := max(1, (capacity+fragWays-1)/fragWays)
	buckets = 1 << bits.Len(uint(buckets-1)) // round up to a power of two
	return fragTable{
		slots:   make([]fragEntry, buckets*fragWays),
		mask:    uint64(buckets - 1),
		timeout: timeout,
	}
}

func (t *fragTable) bucket(k *fragKey) []fragEntry {
	h := uint64(k.id) | uint64(k.proto)<<32
	for i := 0; i < 16; i += 8 {
		h ^= binary.LittleEndian.Uint64(k.src[i:]) * 0x9e3779b97f4a7c15
		h = bits.RotateLeft64(h, 31) ^ binary.LittleEndian.Uint64(k.dst[i:])*0xc2b2ae3d27d4eb4f
	}
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	b := int(h&t.mask) * fragWays
	return t.slots[b : b+fragWays]
}

// put stores a first fragment's ports; it reports whether a live entry was
// evicted to make room.
func (t *fragTable) put(k fragKey, srcPort, dstPort uint16, proto uint8, now int64) (evicted bool) {
	b := t.bucket(&k)
	victim, oldest := -1, 0
	for i := range b {
		e := &b[i]
		if e.expires == 0 || e.expires < now || e.key == k {
			victim = i
			break
		}
		if e.expires < b[oldest].expires {
			oldest = i
		}
	}
	if victim < 0 {
		victim, evicted = oldest, true
	}
	b[victim] = fragEntry{key: k, expires: now + t.timeout, srcPort: srcPort, dstPort: dstPort, proto: proto}
	return evicted
}

// get finds the live entry for k, or nil.
func (t *fragTable) get(k fragKey, now int64) *fragEntry {
	b := t.bucket(&k)
	for i := range b {
		e := &b[i]
		if e.expires != 0 && e.key == k {
			if e.expires < now {
				e.expires = 0
				return nil
			}
			return e
		}
	}
	return nil
}

// firstFragment remembers the ports just decoded from a first fragment.
func (d *Decoder) firstFragment(k fragKey, p *Packet) {
	if d.frags.put(k, p.SrcPort, p.DstPort, p.Proto, p.Timestamp) {
		d.stats.FragmentsEvicted++
	}
}

// laterFragment gives a non-first fragment its datagram's ports. The entry
// is freed at the last fragment; fragments reordered after it go
// unmatched, which is rare and counted.
func (d *Decoder) laterFragment(k fragKey, last bool, p *Packet) {
	e := d.frags.get(k, p.Timestamp)
	if e == nil {
		d.stats.FragmentsUnmatched++
		return
	}
	p.SrcPort, p.DstPort, p.Proto = e.srcPort, e.dstPort, e.proto
	if last {
		e.expires = 0
	}
}
