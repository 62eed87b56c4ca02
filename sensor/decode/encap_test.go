package decode

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestDecodeEncapsulations(t *testing.T) {
	v4 := ip4TCP(t)
	v6 := ip6UDP(t)
	tcp4 := Packet{Timestamp: 7, Src: addr4(v4Src), Dst: addr4(v4Dst), SrcPort: 40000, DstPort: 443,
		Proto: 6, IPBytes: 45, TCPFlags: 0x12}
	udp6 := Packet{Timestamp: 7, Src: addr6(v6Src), Dst: addr6(v6Dst), IsV6: true, SrcPort: 5353, DstPort: 53,
		Proto: 17, IPBytes: 50}
	withVLAN := func(p Packet, vlan uint16) Packet { p.VLAN = vlan; return p }

	sll := func(proto uint16) []byte { // Linux cooked v1: 16 bytes
		b := []byte{0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0, 0}
		binary.BigEndian.PutUint16(b[14:], proto)
		return b
	}
	sll2 := func(proto uint16) []byte { // Linux cooked v2: 20 bytes
		b := []byte{0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0}
		binary.BigEndian.PutUint16(b, proto)
		return b
	}
	pppoeSession := func(ppp []byte, ip []byte) []byte {
		h := []byte{0x11, 0x00, 0x00, 0x11, 0, 0}
		binary.BigEndian.PutUint16(h[4:], uint16(len(ppp)+len(ip)))
		return cat(h, ppp, ip)
	}

	cases := []struct {
		name    string
		lt      layers.LinkType
		frame   []byte
		want    Packet
		payload string
	}{
		{"ethernet ipv4 tcp", layers.LinkTypeEthernet, eth(0x0800, v4), tcp4, "hello"},
		{"ethernet ipv6 udp", layers.LinkTypeEthernet, eth(0x86dd, v6), udp6, "hi"},
		{"ethernet padding not counted", layers.LinkTypeEthernet, eth(0x0800, v4, make([]byte, 20)), tcp4, "hello"},
		{"802.1q", layers.LinkTypeEthernet, eth(0x8100, tag(100, 0x0800), v4), withVLAN(tcp4, 100), "hello"},
		{"qinq outer vlan", layers.LinkTypeEthernet, eth(0x8100, tag(13, 0x8100), tag(10, 0x0800), v4), withVLAN(tcp4, 13), "hello"},
		{"802.1ad", layers.LinkTypeEthernet, eth(0x88a8, tag(300, 0x8100), tag(20, 0x86dd), v6), withVLAN(udp6, 300), "hi"},
		{"mpls one label", layers.LinkTypeEthernet, eth(0x8847, label(29, true), v4), tcp4, "hello"},
		{"mpls stack ipv6", layers.LinkTypeEthernet, eth(0x8847, label(254, false), label(99, true), v6), udp6, "hi"},
		{"mpls in vlan", layers.LinkTypeEthernet, eth(0x8100, tag(3399, 0x8847), label(254, false), label(99, true), v4), withVLAN(tcp4, 3399), "hello"},
		{"pppoe session ipv4", layers.LinkTypeEthernet, eth(0x8864, pppoeSession([]byte{0x00, 0x21}, v4)), tcp4, "hello"},
		{"pppoe session ipv6", layers.LinkTypeEthernet, eth(0x8864, pppoeSession([]byte{0x00, 0x57}, v6)), udp6, "hi"},
		{"pppoe compressed protocol", layers.LinkTypeEthernet, eth(0x8864, pppoeSession([]byte{0x21}, v4)), tcp4, "hello"},
		{"ppp hdlc", layers.LinkTypePPP, cat([]byte{0xff, 0x03, 0x00, 0x21}, v4), tcp4, "hello"},
		{"linux sll", layers.LinkTypeLinuxSLL, cat(sll(0x0800), v4), tcp4, "hello"},
		{"linux sll2", layers.LinkTypeLinuxSLL2, cat(sll2(0x86dd), v6), udp6, "hi"},
		{"raw 101 v4", layers.LinkTypeRaw, v4, tcp4, "hello"},
		{"raw 101 v6", layers.LinkTypeRaw, v6, udp6, "hi"},
		{"raw 12", 12, v4, tcp4, "hello"},
		{"raw 14", 14, v6, udp6, "hi"},
		{"ipv4 228", layers.LinkTypeIPv4, v4, tcp4, "hello"},
		{"ipv6 229", layers.LinkTypeIPv6, v6, udp6, "hi"},
		{"null little endian", layers.LinkTypeNull, cat([]byte{2, 0, 0, 0}, v4), tcp4, "hello"},
		{"loop big endian", layers.LinkTypeLoop, cat([]byte{0, 0, 0, 24}, v6), udp6, "hi"},
	}
	d := New(Config{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			if err := d.Decode(c.frame, c.lt, 7, &p); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if string(p.Payload) != c.payload {
				t.Errorf("payload %q, want %q", p.Payload, c.payload)
			}
			p.Payload = nil
			if !reflect.DeepEqual(p, c.want) {
				t.Errorf("got  %+v\nwant %+v", p, c.want)
			}
		})
	}
}

func TestDecodeIPv4Options(t *testing.T) {
	ip := ip4(layers.IPProtocolUDP)
	ip.Options = []layers.IPv4Option{{OptionType: 7, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}} // record route; the header pads to 28 bytes
	frame := eth(0x0800, serialize(t, ip, &layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload("x")))
	var p Packet
	if err := New(Config{}).Decode(frame, layers.LinkTypeEthernet, 0, &p); err != nil {
		t.Fatal(err)
	}
	if p.IPBytes != 28+8+1 || p.SrcPort != 1 || p.DstPort != 2 || string(p.Payload) != "x" {
		t.Errorf("got %+v", p)
	}
}

func TestDecodeIPv6Extensions(t *testing.T) {
	const hbh, routing, dest = 0, 43, 60
	ext := func(next uint8) []byte { return []byte{next, 0, 1, 4, 0, 0, 0, 0} } // PadN fills 8 bytes
	rt := []byte{dest, 0, 0, 0, 0, 0, 0, 0}                                     // type 0, segments left 0
	tcp := serialize(t, &layers.TCP{SrcPort: 1234, DstPort: 80, ACK: true, PSH: true}, gopacket.Payload("GET"))
	pkt := serialize(t, ip6(hbh), gopacket.Payload(cat(ext(routing), rt, ext(6), tcp)))
	var p Packet
	if err := New(Config{}).Decode(pkt, layers.LinkTypeIPv6, 0, &p); err != nil {
		t.Fatal(err)
	}
	want := Packet{Src: addr6(v6Src), Dst: addr6(v6Dst), IsV6: true, SrcPort: 1234, DstPort: 80, Proto: 6,
		IPBytes: uint32(40 + 24 + len(tcp)), TCPFlags: 0x18}
	if string(p.Payload) != "GET" {
		t.Errorf("payload %q", p.Payload)
	}
	p.Payload = nil
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}
}

func TestDecodeProtocols(t *testing.T) {
	icmpEcho := func(typ uint8) []byte {
		return serialize(t, ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: 1, Seq: 1})
	}
	cases := []struct {
		name             string
		pkt              []byte
		proto            uint8
		srcPort, dstPort uint16
	}{
		{"icmp echo request", icmpEcho(8), 1, 8, 0},
		{"icmp echo reply", icmpEcho(0), 1, 0, 8},
		{"icmp unreachable port", serialize(t, ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}), 1, 3, 3},
		{"icmpv6 echo request", serialize(t, ip6(layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}, gopacket.Payload("abcd")), 58, 128, 129},
		{"icmpv6 mld report", serialize(t, ip6(layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(143, 0)}), 58, 143, 0},
		{"gre protocol only", serialize(t, ip4(layers.IPProtocolGRE), gopacket.Payload("0123456789")), 47, 0, 0},
		{"esp protocol only", serialize(t, ip6(layers.IPProtocolESP), gopacket.Payload("0123456789")), 50, 0, 0},
		{"ipip not decoded inside", serialize(t, ip4(layers.IPProtocolIPv4), gopacket.Payload(ip4TCP(t))), 4, 0, 0},
	}
	d := New(Config{})
	for _, c := range cases {
		var p Packet
		if err := d.Decode(c.pkt, layers.LinkTypeRaw, 0, &p); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.Proto != c.proto || p.SrcPort != c.srcPort || p.DstPort != c.dstPort || p.IPBytes != uint32(len(c.pkt)) {
			t.Errorf("%s: got proto %d ports %d>%d bytes %d, want %d %d>%d %d", c.name, p.Proto, p.SrcPort, p.DstPort,
				p.IPBytes, c.proto, c.srcPort, c.dstPort, len(c.pkt))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	arp := eth(0x0806, make([]byte, 28))
	stp := cat([]byte{1, 0x80, 0xc2, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0, 39}, make([]byte, 39)) // 802.3 length + LLC
	badVersion := ip4TCP(t)
	badVersion[0] = 0x55
	badIHL := ip4TCP(t)
	badIHL[0] = 0x44
	pppoeDiscovery := eth(0x8863, []byte{0x11, 0x09, 0, 0, 0, 0})
	pppLCP := eth(0x8864, []byte{0x11, 0, 0, 0x11, 0, 4, 0xc0, 0x21, 1, 1})
	cases := []struct {
		name  string
		lt    layers.LinkType
		frame []byte
		want  error
	}{
		{"arp", layers.LinkTypeEthernet, arp, ErrNotIP},
		{"stp over llc", layers.LinkTypeEthernet, stp, ErrNotIP},
		{"pppoe discovery", layers.LinkTypeEthernet, pppoeDiscovery, ErrNotIP},
		{"ppp lcp", layers.LinkTypeEthernet, pppLCP, ErrNotIP},
		{"mpls pseudowire", layers.LinkTypeEthernet, eth(0x8847, label(5, true), make([]byte, 30)), ErrNotIP},
		{"802.11", layers.LinkTypeIEEE802_11, arp, ErrUnsupportedLink},
		{"short ethernet", layers.LinkTypeEthernet, arp[:13], ErrTruncated},
		{"short ipv4 header", layers.LinkTypeRaw, ip4TCP(t)[:19], ErrTruncated},
		{"empty raw", layers.LinkTypeRaw, nil, ErrTruncated},
		{"mpls no bottom", layers.LinkTypeEthernet, eth(0x8847, label(1, false), label(2, false)), ErrTruncated},
		{"ipv4 version 5", layers.LinkTypeIPv4, badVersion, ErrMalformed},
		{"ipv4 ihl 4", layers.LinkTypeRaw, badIHL, ErrMalformed},
		{"ipv6 version 4 in 229", layers.LinkTypeIPv6, cat(ip4TCP(t), make([]byte, 20)), ErrMalformed},
	}
	d := New(Config{})
	for _, c := range cases {
		var p Packet
		err := d.Decode(c.frame, c.lt, 9, &p)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
		if !reflect.DeepEqual(p, Packet{Timestamp: 9}) {
			t.Errorf("%s: packet not reset: %+v", c.name, p)
		}
	}
	want := Stats{Frames: 13, NotIP: 5, UnsupportedLink: 1, Truncated: 4, Malformed: 3}
	if got := d.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}
