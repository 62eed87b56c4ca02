package decode

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// frag4 builds one IPv4 fragment; the first carries the UDP header.
func frag4(tb testing.TB, id uint16, offset8 uint16, more bool, payload []byte) []byte {
	ip := ip4(layers.IPProtocolUDP)
	ip.Id, ip.FragOffset = id, offset8
	if more {
		ip.Flags = layers.IPv4MoreFragments
	}
	return serialize(tb, ip, gopacket.Payload(payload))
}

func TestDecodeIPv4Fragments(t *testing.T) {
	udp := serialize(t, &layers.UDP{SrcPort: 4000, DstPort: 9000, Length: 8 + 2000}) // the datagram's UDP header
	first := frag4(t, 77, 0, true, cat(udp, make([]byte, 1472)))
	middle := frag4(t, 77, 185, true, make([]byte, 400))
	last := frag4(t, 77, 235, false, make([]byte, 128))
	orphan := frag4(t, 78, 185, false, make([]byte, 64))

	d := New(Config{FragmentTimeout: time.Second})
	steps := []struct {
		name             string
		pkt              []byte
		ts               int64
		srcPort, dstPort uint16
	}{
		{"first", first, 0, 4000, 9000},
		{"middle", middle, 1, 4000, 9000},
		{"last", last, 2, 4000, 9000},
		{"after last: freed", middle, 3, 0, 0},
		{"orphan", orphan, 4, 0, 0},
		{"first again", first, 10, 4000, 9000},
		{"after timeout", last, 10 + int64(time.Second) + 1, 0, 0},
	}
	for _, s := range steps {
		var p Packet
		if err := d.Decode(s.pkt, layers.LinkTypeIPv4, s.ts, &p); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if p.SrcPort != s.srcPort || p.DstPort != s.dstPort || p.Proto != 17 || p.IPBytes != uint32(len(s.pkt)) {
			t.Errorf("%s: got ports %d>%d proto %d bytes %d", s.name, p.SrcPort, p.DstPort, p.Proto, p.IPBytes)
		}
	}
	want := Stats{Frames: 7, IP: 7, Fragments: 7, FragmentsUnmatched: 3}
	if got := d.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestDecodeIPv6Fragments(t *testing.T) {
	const dest = 60
	tcp := serialize(t, &layers.TCP{SrcPort: 443, DstPort: 50123, ACK: true, DataOffset: 5})
	// first fragment: fragment header, destination options, TCP
	first := serialize(t, ip6(layers.IPProtocolIPv6Fragment),
		&layers.IPv6Fragment{NextHeader: dest, MoreFragments: true, Identification: 0xabcdef},
		gopacket.Payload(cat([]byte{6, 0, 1, 4, 0, 0, 0, 0}, tcp, make([]byte, 1000))))
	later := serialize(t, ip6(layers.IPProtocolIPv6Fragment),
		&layers.IPv6Fragment{NextHeader: dest, FragmentOffset: 129, Identification: 0xabcdef},
		gopacket.Payload(make([]byte, 500)))
	d := New(Config{})
	for i, pkt := range [][]byte{first, later} {
		var p Packet
		if err := d.Decode(pkt, layers.LinkTypeIPv6, int64(i), &p); err != nil {
			t.Fatal(err)
		}
		if p.SrcPort != 443 || p.DstPort != 50123 || p.Proto != 6 || p.IPBytes != uint32(len(pkt)) {
			t.Errorf("fragment %d: got ports %d>%d proto %d bytes %d", i, p.SrcPort, p.DstPort, p.Proto, p.IPBytes)
		}
	}
	atomic := serialize(t, ip6(layers.IPProtocolIPv6Fragment), &layers.IPv6Fragment{NextHeader: 6, Identification: 1}, gopacket.Payload(tcp))
	var p Packet
	if err := d.Decode(atomic, layers.LinkTypeIPv6, 2, &p); err != nil || p.SrcPort != 443 {
		t.Errorf("atomic fragment: %v %+v", err, p)
	}
	if s := d.Stats(); s.Fragments != 2 || s.FragmentsUnmatched != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestFragmentTableBounded(t *testing.T) {
	d := New(Config{FragmentCapacity: 8})
	if len(d.frags.slots) != 8 {
		t.Fatalf("table has %d slots, want 8", len(d.frags.slots))
	}
	udp := serialize(t, &layers.UDP{SrcPort: 1, DstPort: 2, Length: 100})
	var p Packet
	for id := range uint16(100) {
		if err := d.Decode(frag4(t, id, 0, true, cat(udp, make([]byte, 8))), layers.LinkTypeIPv4, 0, &p); err != nil {
			t.Fatal(err)
		}
	}
	if s := d.Stats(); s.FragmentsEvicted != 100-8 {
		t.Errorf("evicted %d, want %d", s.FragmentsEvicted, 100-8)
	}
}
