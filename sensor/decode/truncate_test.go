package decode

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestDecodeSnaplen cuts a full-size TCP segment as a tap with a small
// snaplen would: the wire length must still be counted.
func TestDecodeSnaplen(t *testing.T) {
	tcp := &layers.TCP{SrcPort: 50000, DstPort: 22, ACK: true, PSH: true,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}}
	full := eth(0x0800, serialize(t, ip4(layers.IPProtocolTCP), tcp, gopacket.Payload(make([]byte, 1448))))
	const ipLen = 20 + 32 + 1448
	for _, c := range []struct {
		snaplen          int
		srcPort, dstPort uint16
		flags            uint8
		truncated        uint64 // TransportTruncated after this cut
	}{
		{snaplen: 128, srcPort: 50000, dstPort: 22, flags: 0x18},
		{snaplen: 64, srcPort: 50000, dstPort: 22, flags: 0x18, truncated: 1}, // options cut
		{snaplen: 40, srcPort: 50000, dstPort: 22, truncated: 1},              // 6 bytes of TCP: ports only
		{snaplen: 37, truncated: 1},                                           // 3 bytes of TCP: no ports
		{snaplen: 34, truncated: 1},                                           // IP header only
	} {
		d := New(Config{})
		var p Packet
		if err := d.Decode(full[:c.snaplen], layers.LinkTypeEthernet, 0, &p); err != nil {
			t.Fatalf("snaplen %d: %v", c.snaplen, err)
		}
		if p.IPBytes != ipLen || p.SrcPort != c.srcPort || p.DstPort != c.dstPort || p.TCPFlags != c.flags || p.Proto != 6 {
			t.Errorf("snaplen %d: got bytes %d ports %d>%d flags %#x proto %d", c.snaplen, p.IPBytes, p.SrcPort, p.DstPort, p.TCPFlags, p.Proto)
		}
		if s := d.Stats(); s.IP != 1 || s.TransportTruncated != c.truncated {
			t.Errorf("snaplen %d: stats %+v", c.snaplen, s)
		}
	}
}

// TestDecodeEveryCut decodes every prefix of a set of frames: no panic, and
// the outcome follows from where the cut falls.
func TestDecodeEveryCut(t *testing.T) {
	v4 := ip4TCP(t)
	frames := []struct {
		name    string
		lt      layers.LinkType
		frame   []byte
		ipStart int // offset of the IP header
		ipHdr   int // its length (through IPv6 extension headers: they do not fail the packet)
	}{
		{"ethernet ipv4 tcp", layers.LinkTypeEthernet, eth(0x0800, v4), 14, 20},
		{"qinq ipv6 udp", layers.LinkTypeEthernet, eth(0x8100, tag(1, 0x8100), tag(2, 0x86dd), ip6UDP(t)), 22, 40},
		{"mpls ipv4", layers.LinkTypeEthernet, eth(0x8847, label(1, false), label(2, true), v4), 22, 20},
		{"pppoe ipv4", layers.LinkTypeEthernet, eth(0x8864, []byte{0x11, 0, 0, 1, 0, 47, 0, 0x21}, v4), 22, 20},
		{"sll2 ipv4", layers.LinkTypeLinuxSLL2, cat([]byte{8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0}, v4), 20, 20},
		{"icmpv6", layers.LinkTypeRaw, serialize(t, ip6(layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}), 0, 40},
	}
	for _, f := range frames {
		d := New(Config{})
		d.panics = true // let a panic fail the test
		for n := 0; n <= len(f.frame); n++ {
			var p Packet
			err := d.Decode(f.frame[:n], f.lt, 0, &p)
			switch {
			case n < f.ipStart+f.ipHdr:
				if !errors.Is(err, ErrTruncated) {
					t.Errorf("%s cut at %d: err %v, want ErrTruncated", f.name, n, err)
				}
			case err != nil:
				t.Errorf("%s cut at %d: %v", f.name, n, err)
			case p.IPBytes != uint32(len(f.frame)-f.ipStart):
				t.Errorf("%s cut at %d: IPBytes %d, want %d", f.name, n, p.IPBytes, len(f.frame)-f.ipStart)
			case n-f.ipStart-f.ipHdr >= 4 && p.SrcPort == 0:
				t.Errorf("%s cut at %d: no ports", f.name, n)
			}
		}
	}
}
