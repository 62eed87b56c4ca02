package flowtable

import (
	"net/netip"

	"github.com/outflowhq/outflow/sensor/decode"
)

// key is the canonical bidirectional flow key: endpoint a is the lower
// (address, port) pair. Fields are ordered so the struct has no padding and
// the map hashes it as one block of memory.
type key struct {
	a, b   [16]byte // IPv4 uses the first 4 bytes, the rest stay zero
	pa, pb uint16
	vlan   uint16
	proto  uint8
	v6     bool
}

// makeKey returns the key of p and the side (0 for a, 1 for b) that sent it.
func makeKey(p *decode.Packet) (k key, side uint8) {
	src, dst := p.Src, p.Dst
	if !p.IsV6 {
		// The decoder reuses its Packet: bytes 4..15 may hold an earlier
		// IPv6 address.
		clear(src[4:])
		clear(dst[4:])
	}
	k.vlan, k.proto, k.v6 = p.VLAN, p.Proto, p.IsV6
	if less(&src, p.SrcPort, &dst, p.DstPort) {
		k.a, k.pa, k.b, k.pb = src, p.SrcPort, dst, p.DstPort
		return k, 0
	}
	k.a, k.pa, k.b, k.pb = dst, p.DstPort, src, p.SrcPort
	return k, 1
}

// less orders endpoints by address, then port. Equal endpoints (a host
// talking to itself on one port) put the sender on side a.
func less(x *[16]byte, xp uint16, y *[16]byte, yp uint16) bool {
	for i := range x {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return xp <= yp
}

// addr returns the address of side s.
func (k *key) addr(s uint8) netip.Addr {
	b := &k.a
	if s == 1 {
		b = &k.b
	}
	if k.v6 {
		return netip.AddrFrom16(*b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}

func (k *key) port(s uint8) uint16 {
	if s == 1 {
		return k.pb
	}
	return k.pa
}
