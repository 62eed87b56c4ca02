package allow

import (
	"encoding/binary"
	"net/netip"
	"sort"
)

// u128 is an address as a number; IPv4 addresses use the low 32 bits.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// key returns an unmapped, valid address as a number and its family
// (0: IPv4, 1: IPv6).
func key(a netip.Addr) (u128, int) {
	if a.Is4() {
		b := a.As4()
		return u128{lo: uint64(binary.BigEndian.Uint32(b[:]))}, 0
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}, 1
}

// span returns the first and last address of a masked, unmapped prefix.
func span(p netip.Prefix) (first, last u128, fam int) {
	first, fam = key(p.Addr())
	host := 32 - p.Bits()
	if fam == 1 {
		host = 128 - p.Bits()
	}
	last = first
	if host >= 64 {
		last.lo = ^uint64(0)
		last.hi |= uint64(1)<<(host-64) - 1 // a shift by 64 gives 0, so /0 works
	} else {
		last.lo |= uint64(1)<<host - 1
	}
	return first, last, fam
}

// cidrIndex maps prefixes to values (rule or window indexes). Prefixes are
// nested or disjoint, so sorted by first address (wider first) each one's
// parent is the innermost prefix containing it. A lookup is a binary
// search for the last prefix starting at or before the address, then a
// walk up its parents to the first one that contains the address: that is
// the innermost match, and its parents are all the others.
type cidrIndex struct{ fam [2]prefixTable }

type prefixTable struct {
	start, end []u128
	parent     []int32
	vals       [][]int32 // ascending
}

// cidrEntry is one configured prefix and the value it stands for.
type cidrEntry struct {
	p   netip.Prefix
	val int32
}

// newCIDRIndex indexes entries given in ascending val order.
func newCIDRIndex(entries []cidrEntry) *cidrIndex {
	type node struct {
		p           netip.Prefix
		first, last u128
		fam         int
		vals        []int32
	}
	var nodes []*node
	byPrefix := make(map[netip.Prefix]*node, len(entries))
	for _, e := range entries {
		n := byPrefix[e.p]
		if n == nil {
			n = &node{p: e.p}
			n.first, n.last, n.fam = span(e.p)
			byPrefix[e.p] = n
			nodes = append(nodes, n)
		}
		if k := len(n.vals); k == 0 || n.vals[k-1] != e.val {
			n.vals = append(n.vals, e.val)
		}
	}
	sort.Slice(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if a.fam != b.fam {
			return a.fam < b.fam
		}
		if a.first != b.first {
			return a.first.less(b.first)
		}
		return a.p.Bits() < b.p.Bits()
	})
	c := &cidrIndex{}
	var stack []int32
	for _, n := range nodes {
		t := &c.fam[n.fam]
		if len(t.start) == 0 {
			stack = stack[:0]
		}
		i := int32(len(t.start))
		for len(stack) > 0 && t.end[stack[len(stack)-1]].less(n.last) {
			stack = stack[:len(stack)-1]
		}
		parent := int32(-1)
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		t.start = append(t.start, n.first)
		t.end = append(t.end, n.last)
		t.parent = append(t.parent, parent)
		t.vals = append(t.vals, n.vals)
		stack = append(stack, i)
	}
	return c
}

// lookup returns the table of a's family and the innermost prefix holding
// a, or -1.
func (c *cidrIndex) lookup(a netip.Addr) (*prefixTable, int32) {
	a = a.Unmap()
	if c == nil || !a.IsValid() {
		return nil, -1
	}
	k, fam := key(a)
	t := &c.fam[fam]
	lo, hi := 0, len(t.start)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if k.less(t.start[mid]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	i := int32(lo - 1)
	for i >= 0 && t.end[i].less(k) {
		i = t.parent[i]
	}
	return t, i
}

func (c *cidrIndex) contains(a netip.Addr) bool {
	_, i := c.lookup(a)
	return i >= 0
}

// parsePrefix accepts a CIDR or a single address, masks it, and turns an
// IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into its IPv4 form, since
// addresses are unmapped before lookup.
func parsePrefix(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}
