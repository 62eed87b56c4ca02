package decode

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Addresses and ports of the crafted packets.
var (
	v4Src = net.IP{10, 0, 0, 1}
	v4Dst = net.IP{192, 0, 2, 7}
	v6Src = net.ParseIP("2001:db8::1")
	v6Dst = net.ParseIP("2001:db8:ffff::2")
)

func serialize(tb testing.TB, ls ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		tb.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ip4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x1234, Protocol: proto, SrcIP: v4Src, DstIP: v4Dst}
}

func ip6(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: v6Src, DstIP: v6Dst}
}

func tcpSYNACK() *layers.TCP {
	return &layers.TCP{SrcPort: 40000, DstPort: 443, Seq: 1, SYN: true, ACK: true, Window: 1024}
}

// ip4TCP is a 45-byte IPv4/TCP packet carrying "hello" (total length 45).
func ip4TCP(tb testing.TB) []byte {
	return serialize(tb, ip4(layers.IPProtocolTCP), tcpSYNACK(), gopacket.Payload("hello"))
}

// ip6UDP is an IPv6/UDP packet carrying "hi" (payload length 10).
func ip6UDP(tb testing.TB) []byte {
	return serialize(tb, ip6(layers.IPProtocolUDP), &layers.UDP{SrcPort: 5353, DstPort: 53}, gopacket.Payload("hi"))
}

// eth prefixes an Ethernet header with the given EtherType.
func eth(etherType uint16, rest ...[]byte) []byte {
	b := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0}
	binary.BigEndian.PutUint16(b[12:], etherType)
	return cat(append([][]byte{b}, rest...)...)
}

// tag is an 802.1Q/802.1ad tag body: TCI then the inner EtherType.
func tag(vlan, inner uint16) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint16(b, 0x2000|vlan) // priority 1
	binary.BigEndian.PutUint16(b[2:], inner)
	return b
}

// label is one MPLS label stack entry.
func label(l uint32, bottom bool) []byte {
	v := l<<12 | 64 // TTL 64
	if bottom {
		v |= 1 << 8
	}
	return binary.BigEndian.AppendUint32(nil, v)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func addr4(ip net.IP) (a [16]byte) {
	copy(a[:], ip.To4())
	return a
}

func addr6(ip net.IP) (a [16]byte) {
	copy(a[:], ip.To16())
	return a
}

type frame struct {
	data []byte
	lt   layers.LinkType
	ts   int64
}
