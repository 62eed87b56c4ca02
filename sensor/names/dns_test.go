package names

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/sensor/decode"
)

// dnsResponse serializes a response to an A query for qname.
func dnsResponse(tb testing.TB, qname string, answers ...layers.DNSResourceRecord) []byte {
	tb.Helper()
	msg := &layers.DNS{ID: 7, QR: true, RD: true, RA: true,
		Questions: []layers.DNSQuestion{{Name: []byte(qname), Type: layers.DNSTypeA, Class: layers.DNSClassIN}},
		Answers:   answers}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, msg); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func cname(owner, target string) layers.DNSResourceRecord {
	return layers.DNSResourceRecord{Name: []byte(owner), Type: layers.DNSTypeCNAME, Class: layers.DNSClassIN, TTL: 60, CNAME: []byte(target)}
}

func a(owner, ip string) layers.DNSResourceRecord {
	t := layers.DNSTypeA
	if net.ParseIP(ip).To4() == nil {
		t = layers.DNSTypeAAAA
	}
	return layers.DNSResourceRecord{Name: []byte(owner), Type: t, Class: layers.DNSClassIN, TTL: 60, IP: net.ParseIP(ip)}
}

func udpFrom53(payload []byte) *decode.Packet {
	return &decode.Packet{Proto: 17, SrcPort: 53, DstPort: 40000, Payload: payload}
}

func TestDNSAnswers(t *testing.T) {
	cases := []struct {
		name string
		msg  []byte
		want map[string]string // address -> name; "" means not learned
		bad  uint64
	}{
		{"cname chain", dnsResponse(t, "www.Example.com",
			cname("www.example.com", "cdn.example.net"), cname("cdn.example.net", "edge.cdn.example.net"),
			a("edge.cdn.example.net", "1.2.3.4"), a("edge.cdn.example.net", "2001:db8::4")),
			map[string]string{"1.2.3.4": "www.example.com", "2001:db8::4": "www.example.com"}, 0},
		{"unrelated owner keeps its own name", dnsResponse(t, "a.example", a("b.example", "5.6.7.8")),
			map[string]string{"5.6.7.8": "b.example"}, 0},
		{"cname loop ends", dnsResponse(t, "x.example", cname("y.example", "z.example"), cname("z.example", "y.example"), a("y.example", "9.9.9.9")),
			map[string]string{"9.9.9.9": "y.example"}, 0},
		{"truncated answer keeps the first", dnsResponse(t, "t.example", a("t.example", "10.0.0.1"), a("t.example", "10.0.0.2"))[:12+13+16+14],
			map[string]string{"10.0.0.1": "t.example", "10.0.0.2": ""}, 1},
	}
	for _, tc := range cases {
		c := New(16)
		if got := c.Observe(udpFrom53(tc.msg)); got != "" {
			t.Errorf("%s: Observe returned %q for DNS", tc.name, got)
		}
		for addr, name := range tc.want {
			if got := c.Lookup(netip.MustParseAddr(addr)); got != name {
				t.Errorf("%s: Lookup(%s) = %q, want %q", tc.name, addr, got, name)
			}
		}
		if s := c.Stats(); s.DNSBad != tc.bad || s.DNS != 1 {
			t.Errorf("%s: stats %+v", tc.name, s)
		}
	}
}

// compressed builds a response by hand: header, question "a.example" at
// offset 12, then answer records given as raw bytes.
func compressed(answers int, records ...[]byte) []byte {
	msg := []byte{0, 7, 0x81, 0x80, 0, 1, 0, byte(answers), 0, 0, 0, 0}
	msg = append(msg, 1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1)
	for _, r := range records {
		msg = append(msg, r...)
	}
	return msg
}

// rr is a record whose owner is given as raw name bytes.
func rr(owner []byte, typ uint16, rdata []byte) []byte {
	b := append([]byte{}, owner...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = append(b, 0, 1, 0, 0, 0, 60)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

func TestDNSCompression(t *testing.T) {
	ptrQ := []byte{0xc0, 12} // pointer to the question name
	cases := []struct {
		name string
		msg  []byte
		addr string
		want string
		bad  uint64
	}{
		{"pointer to question", compressed(1, rr(ptrQ, 1, []byte{1, 1, 1, 1})), "1.1.1.1", "a.example", 0},
		{"cname target compressed", compressed(2,
			rr(ptrQ, 5, []byte{3, 'c', 'd', 'n', 0xc0, 14}), // cdn.example
			rr([]byte{3, 'c', 'd', 'n', 0xc0, 14}, 1, []byte{2, 2, 2, 2})), "2.2.2.2", "a.example", 0},
		{"pointer loop", compressed(1, rr([]byte{0xc0, 27}, 1, []byte{3, 3, 3, 3})), "3.3.3.3", "", 1}, // 27 points at itself
		{"pointer past end", compressed(1, rr([]byte{0xc0, 0xff}, 1, []byte{4, 4, 4, 4})), "4.4.4.4", "", 1},
		{"label past end", compressed(1, []byte{40, 'x'}), "5.5.5.5", "", 1},
		{"rdata past end", compressed(1, rr(ptrQ, 1, []byte{6, 6, 6, 6})[:12]), "6.6.6.6", "", 1},
		{"binary owner not learned", compressed(1, rr([]byte{2, 0, 1, 0}, 1, []byte{7, 7, 7, 7})), "7.7.7.7", "", 0},
	}
	for _, tc := range cases {
		c := New(16)
		c.Observe(udpFrom53(tc.msg))
		if got := c.Lookup(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("%s: Lookup = %q, want %q", tc.name, got, tc.want)
		}
		if s := c.Stats(); s.DNSBad != tc.bad {
			t.Errorf("%s: DNSBad %d, want %d", tc.name, s.DNSBad, tc.bad)
		}
	}
}

func TestDNSOverTCPAndFilters(t *testing.T) {
	msg := dnsResponse(t, "tcp.example", a("tcp.example", "192.0.2.1"))
	framed := binary.BigEndian.AppendUint16(nil, uint16(len(msg)))
	framed = append(framed, msg...)
	query := append([]byte{}, msg...)
	query[2] &^= 0x80 // QR off
	nx := append([]byte{}, msg...)
	nx[3] |= 3 // NXDOMAIN
	for _, tc := range []struct {
		name string
		p    *decode.Packet
		want string
	}{
		{"tcp", &decode.Packet{Proto: 6, SrcPort: 53, Payload: framed}, "tcp.example"},
		{"to port 53 is a query", &decode.Packet{Proto: 17, DstPort: 53, Payload: msg}, ""},
		{"qr off", udpFrom53(query), ""},
		{"nxdomain", udpFrom53(nx), ""},
	} {
		c := New(4)
		c.Observe(tc.p)
		if got := c.Lookup(netip.MustParseAddr("192.0.2.1")); got != tc.want {
			t.Errorf("%s: Lookup = %q, want %q", tc.name, got, tc.want)
		}
	}
}
