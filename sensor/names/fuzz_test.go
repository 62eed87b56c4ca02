package names

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/sensor/decode"
)

// FuzzDNS feeds arbitrary DNS responses (UDP and TCP framing): no panic, no
// hang, and whatever is learned is a valid name.
func FuzzDNS(f *testing.F) {
	f.Add(dnsResponse(f, "www.example.com", cname("www.example.com", "cdn.example.net"), a("cdn.example.net", "1.2.3.4")))
	f.Add(compressed(1, rr([]byte{0xc0, 27}, 1, []byte{3, 3, 3, 3})))
	f.Add(compressed(2, rr([]byte{0xc0, 12}, 5, []byte{3, 'c', 'd', 'n', 0xc0, 14}), rr([]byte{3, 'c', 'd', 'n', 0xc0, 14}, 1, []byte{2, 2, 2, 2})))
	c := New(8)
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, proto := range []uint8{17, 6} {
			c.Observe(&decode.Packet{Proto: proto, SrcPort: 53, Payload: msg})
		}
		for _, s := range c.slots[:c.used] {
			if !validHost([]byte(s.name)) {
				t.Fatalf("learned invalid name %q", s.name)
			}
		}
	})
}

// FuzzSNI feeds arbitrary TCP payloads through the TLS and HTTP parsers.
func FuzzSNI(f *testing.F) {
	f.Add(clientHello("example.com"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a.example:80\r\n\r\n"))
	c := New(8)
	f.Fuzz(func(t *testing.T, payload []byte) {
		name := c.Observe(&decode.Packet{Proto: 6, SrcPort: 1234, DstPort: 443, Payload: payload})
		if name != "" && !validHost([]byte(name)) {
			t.Fatalf("invalid name %q", name)
		}
		c.Learn(netip.IPv4Unspecified(), name)
	})
}

// FuzzQuestionName feeds arbitrary DNS messages to QuestionName: no panic,
// and a name, when there is one, is printable ASCII without a trailing dot,
// at most maxName bytes, lower-case, and no longer than what the packet
// path's own name reader decodes.
func FuzzQuestionName(f *testing.F) {
	f.Add(dnsQuery("MZXW6.00000001.Tunnel.Example"))
	f.Add(dnsResponse(f, "www.example.com", cname("www.example.com", "cdn.example.net"), a("cdn.example.net", "1.2.3.4")))
	f.Add(compressed(1, rr([]byte{0xc0, 27}, 1, []byte{3, 3, 3, 3})))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12}) // a question pointing at itself
	f.Fuzz(func(t *testing.T, msg []byte) {
		name := QuestionName(msg)
		if name == "" {
			return
		}
		if len(name) > maxName || strings.HasSuffix(name, ".") {
			t.Fatalf("name %q", name)
		}
		for _, ch := range []byte(name) {
			if ch <= ' ' || ch > '~' || 'A' <= ch && ch <= 'Z' {
				t.Fatalf("name %q holds %q", name, ch)
			}
		}
		var d dnsName
		if _, err := readName(msg, 12, &d); err != nil || len(name) > d.n {
			t.Fatalf("QuestionName %q, readName %q %v", name, d.b[:d.n], err)
		}
	})
}
