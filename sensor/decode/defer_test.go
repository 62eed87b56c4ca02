package decode

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// With DeferFragments every IPv4/IPv6 fragment comes back as a bare
// ErrFragment with p reset, counted as FragmentsDeferred and not as a
// fragment, and the fragment table stays empty; whole packets (an atomic
// IPv6 fragment is one) decode as usual.
func TestDeferFragments(t *testing.T) {
	udp := serialize(t, &layers.UDP{SrcPort: 4000, DstPort: 9000, Length: 8 + 2000})
	tcp := serialize(t, &layers.TCP{SrcPort: 443, DstPort: 50123, ACK: true, DataOffset: 5})
	first6 := serialize(t, ip6(layers.IPProtocolIPv6Fragment),
		&layers.IPv6Fragment{NextHeader: layers.IPProtocolTCP, MoreFragments: true, Identification: 9},
		gopacket.Payload(cat(tcp, make([]byte, 100))))
	// hop-by-hop options before the fragment header
	later6 := serialize(t, ip6(layers.IPProtocolIPv6HopByHop), gopacket.Payload(cat([]byte{44, 0, 1, 4, 0, 0, 0, 0},
		serialize(t, &layers.IPv6Fragment{NextHeader: layers.IPProtocolTCP, FragmentOffset: 14, Identification: 9}),
		make([]byte, 40))))
	atomic6 := serialize(t, ip6(layers.IPProtocolIPv6Fragment), &layers.IPv6Fragment{NextHeader: layers.IPProtocolTCP, Identification: 1}, gopacket.Payload(tcp))
	cases := []struct {
		name string
		lt   layers.LinkType
		pkt  []byte
		err  error // nil: decoded
	}{
		{"ipv4 first", layers.LinkTypeRaw, frag4(t, 77, 0, true, cat(udp, make([]byte, 1472))), ErrFragment},
		{"ipv4 middle", layers.LinkTypeRaw, frag4(t, 77, 185, true, make([]byte, 400)), ErrFragment},
		{"ipv4 last", layers.LinkTypeEthernet, eth(0x0800, frag4(t, 77, 235, false, make([]byte, 128))), ErrFragment},
		{"ipv6 first", layers.LinkTypeIPv6, first6, ErrFragment},
		{"ipv6 later after hop-by-hop", layers.LinkTypeIPv6, later6, ErrFragment},
		{"ipv6 atomic", layers.LinkTypeIPv6, atomic6, nil},
		{"ipv4 tcp", layers.LinkTypeRaw, ip4TCP(t), nil},
		{"arp", layers.LinkTypeEthernet, eth(0x0806, make([]byte, 28)), ErrNotIP},
	}
	d := New(Config{DeferFragments: true})
	for i, c := range cases {
		p := Packet{SrcPort: 1, IPBytes: 2}
		err := d.Decode(c.pkt, c.lt, int64(i), &p)
		if err != c.err { // bare errors: compared by identity
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
		}
		if err != nil && !samePacket(p, Packet{Timestamp: int64(i)}) {
			t.Errorf("%s: packet not reset: %+v", c.name, p)
		}
	}
	want := Stats{Frames: 8, IP: 2, NotIP: 1, FragmentsDeferred: 5}
	if got := d.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	for _, e := range d.frags.slots {
		if e.expires != 0 {
			t.Fatalf("fragment table touched: %+v", e)
		}
	}
	if a := testing.AllocsPerRun(100, func() {
		var p Packet
		_ = d.Decode(cases[1].pkt, cases[1].lt, 0, &p)
	}); a != 0 {
		t.Errorf("deferred fragment: %v allocations", a)
	}
}

// Decoding with DeferFragments and then decoding the deferred frames again,
// in order, with one ordinary Decoder gives what an ordinary Decoder gives
// for the whole sequence: the same packets, the same errors, and counters
// that add up to the same totals once the deferred frames are taken out.
func TestDeferFragmentsThenRedecode(t *testing.T) {
	type fr struct {
		data []byte
		lt   layers.LinkType
		ts   int64
	}
	var frames []fr
	udp := serialize(t, &layers.UDP{SrcPort: 4000, DstPort: 9000, Length: 8 + 600})
	for i, data := range [][]byte{
		frag4(t, 5, 0, true, cat(udp, make([]byte, 200))),
		ip4TCP(t),
		frag4(t, 5, 26, true, make([]byte, 200)),
		frag4(t, 6, 26, false, make([]byte, 8)), // unmatched
		ip6UDP(t),
		frag4(t, 5, 51, false, make([]byte, 208)),
		frag4(t, 5, 51, false, make([]byte, 208)), // after the last: unmatched
	} {
		frames = append(frames, fr{data, layers.LinkTypeRaw, int64(i)})
	}
	for _, f := range captureFiles(t) {
		for _, c := range readCapture(t, f) {
			// whole, and cut to a 60-byte snaplen
			frames = append(frames, fr{c.Data, c.LinkType, c.TS}, fr{c.Data[:min(len(c.Data), 60)], c.LinkType, c.TS})
		}
	}

	plain, parallel, redo := New(Config{}), New(Config{DeferFragments: true}), New(Config{})
	var want, got Packet
	deferred := 0
	for i, f := range frames {
		werr := plain.Decode(f.data, f.lt, f.ts, &want)
		gerr := parallel.Decode(f.data, f.lt, f.ts, &got)
		if gerr == ErrFragment {
			deferred++
			gerr = redo.Decode(f.data, f.lt, f.ts, &got)
		}
		if !sameKind(werr, gerr) || !samePacket(want, got) {
			t.Fatalf("frame %d: plain %v %+v, deferred then redecoded %v %+v", i, werr, want, gerr, got)
		}
	}
	if deferred != 5 {
		t.Fatalf("%d fragments deferred, want 5", deferred)
	}
	w, p, r := plain.Stats(), parallel.Stats(), redo.Stats()
	if p.FragmentsDeferred != uint64(deferred) || p.Fragments != 0 || r.Frames != uint64(deferred) {
		t.Fatalf("deferring decoder %+v, redecoding %+v, %d deferred", p, r, deferred)
	}
	sum := Stats{
		Frames: p.Frames + r.Frames - p.FragmentsDeferred, IP: p.IP + r.IP, NotIP: p.NotIP + r.NotIP,
		UnsupportedLink: p.UnsupportedLink + r.UnsupportedLink, Truncated: p.Truncated + r.Truncated,
		Malformed: p.Malformed + r.Malformed, TransportTruncated: p.TransportTruncated + r.TransportTruncated,
		TransportMalformed: p.TransportMalformed + r.TransportMalformed, Fragments: r.Fragments,
		FragmentsUnmatched: r.FragmentsUnmatched, FragmentsEvicted: r.FragmentsEvicted,
	}
	if sum != w || w.FragmentsUnmatched < 2 {
		t.Errorf("stats add up to %+v, plain decoder %+v", sum, w)
	}
}

func sameKind(a, b error) bool {
	for _, kind := range []error{ErrNotIP, ErrUnsupportedLink, ErrTruncated, ErrMalformed} {
		if errors.Is(a, kind) != errors.Is(b, kind) {
			return false
		}
	}
	return (a == nil) == (b == nil)
}

// samePacket compares two packets of the same frame (payloads alias it).
func samePacket(a, b Packet) bool {
	type fields struct {
		ts               int64
		src, dst         [16]byte
		v6               bool
		srcPort, dstPort uint16
		proto            uint8
		vlan             uint16
		ipBytes          uint32
		flags            uint8
	}
	f := func(p Packet) fields {
		return fields{p.Timestamp, p.Src, p.Dst, p.IsV6, p.SrcPort, p.DstPort, p.Proto, p.VLAN, p.IPBytes, p.TCPFlags}
	}
	pa, pb := a.Payload, b.Payload
	return f(a) == f(b) && len(pa) == len(pb) && (len(pa) == 0 || &pa[0] == &pb[0])
}
