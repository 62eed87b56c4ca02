package flowtable

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// index maps keys to slab entries: a chained hash table with a fixed bucket
// array sized for MaxFlows; chain links and hashes sit in arrays parallel to
// the slab, so walking a chain touches a few compact bytes per entry and
// only a matching hash reads the (200-byte) entry. It replaces a map[key]int32: under the flow table's
// churn (one delete per insert, forever) Go's swiss map accumulates
// tombstones and a miss probed ~10x longer, measured at ~900 ns per new
// flow against ~200 ns here. Its memory is fixed and it never allocates.
//
// The hash is seeded per table: tuples are chosen by whoever sends the
// packets, and a fixed hash would let them pile every flow into one chain.
type index struct {
	buckets []int32
	next    []int32  // per slab entry: next entry in its chain
	hashes  []uint64 // per slab entry: its key's hash
	mask    uint64
	seed    [6]uint64
	n       int
}

func (x *index) init(capacity int) {
	size := 1 << bits.Len(uint(max(capacity, 8)-1)) // next power of two
	x.buckets = make([]int32, size)
	for i := range x.buckets {
		x.buckets[i] = none
	}
	x.mask = uint64(size - 1)
	for i := range x.seed {
		x.seed[i] = rand.Uint64() | 1
	}
}

// hash mixes the key's five words wyhash-style: 64x64→128 multiplies
// folded, each word keyed by its own secret.
func (x *index) hash(k *key) uint64 {
	s := &x.seed
	tail := uint64(k.pa) | uint64(k.pb)<<16 | uint64(k.vlan)<<32 | uint64(k.proto)<<48
	if k.v6 {
		tail |= 1 << 56
	}
	h := mix(binary.LittleEndian.Uint64(k.a[:8])^s[0], binary.LittleEndian.Uint64(k.a[8:])^s[1])
	h ^= mix(binary.LittleEndian.Uint64(k.b[:8])^s[2], binary.LittleEndian.Uint64(k.b[8:])^s[3])
	return mix(h^s[4], tail^s[5])
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// grow adds room for one more slab entry.
func (x *index) grow() {
	x.next = append(x.next, none)
	x.hashes = append(x.hashes, 0)
}

func (t *Table) lookup(k *key, h uint64) int32 {
	x := &t.index
	for i := x.buckets[h&x.mask]; i != none; i = x.next[i] {
		if x.hashes[i] == h && t.slab[i].key == *k {
			return i
		}
	}
	return none
}

func (t *Table) insert(i int32, h uint64) {
	x := &t.index
	b := &x.buckets[h&x.mask]
	x.hashes[i], x.next[i] = h, *b
	*b = i
	x.n++
}

func (t *Table) delete(i int32) {
	x := &t.index
	p := &x.buckets[x.hashes[i]&x.mask]
	for *p != i {
		p = &x.next[*p]
	}
	*p = x.next[i]
	x.n--
}
