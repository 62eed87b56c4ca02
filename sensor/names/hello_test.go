package names

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/sensor/decode"
)

func u16(n int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(n)) }

// clientHello builds a TLS 1.2-style ClientHello record with a GREASE
// extension before server_name, as browsers send.
func clientHello(sni string) []byte {
	var ext []byte
	ext = append(ext, 0x0a, 0x0a, 0, 0)                         // GREASE, empty
	name := append([]byte{0}, append(u16(len(sni)), sni...)...) // host_name entry
	list := append(u16(len(name)), name...)
	ext = append(ext, 0, 0)
	ext = append(ext, u16(len(list))...)
	ext = append(ext, list...)
	ext = append(ext, 0, 0x17, 0, 0) // extended master secret

	var hello []byte
	hello = append(hello, 3, 3)                         // legacy version
	hello = append(hello, make([]byte, 32)...)          // random
	hello = append(hello, 32)                           // session id
	hello = append(hello, make([]byte, 32)...)          //
	hello = append(hello, 0, 4, 0x13, 0x01, 0xc0, 0x2f) // cipher suites
	hello = append(hello, 1, 0)                         // compression: null
	hello = append(hello, u16(len(ext))...)
	hello = append(hello, ext...)

	hs := append([]byte{1, 0, byte(len(hello) >> 8), byte(len(hello))}, hello...)
	return append([]byte{0x16, 3, 1, byte(len(hs) >> 8), byte(len(hs))}, hs...)
}

func tcpPayload(b []byte) *decode.Packet {
	return &decode.Packet{Proto: 6, SrcPort: 50000, DstPort: 443, Payload: b}
}

func TestSNI(t *testing.T) {
	long := strings.Repeat("a", 254)
	serverHello := clientHello("x.example")
	serverHello[5] = 2
	cases := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"plain", clientHello("example.com"), "example.com"},
		{"upper case, trailing dot", clientHello("WWW.Example.COM."), "www.example.com"},
		{"too long", clientHello(long), ""},
		{"binary name", clientHello("a\x00b"), ""},
		{"server hello", serverHello, ""},
		{"application data", []byte{0x17, 3, 3, 0, 5, 1, 2, 3, 4, 5}, ""},
		{"empty name", clientHello(""), ""},
	}
	for _, tc := range cases {
		c := New(4)
		if got := c.Observe(tcpPayload(tc.payload)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestSNIEveryCut parses every prefix of a hello: never a panic, and the
// name only once all of it was captured.
func TestSNIEveryCut(t *testing.T) {
	hello := clientHello("cut.example.org")
	end := strings.Index(string(hello), "cut.example.org") + len("cut.example.org")
	c := New(4)
	for n := range len(hello) + 1 {
		got := c.Observe(tcpPayload(hello[:n]))
		if want := n >= end; (got == "cut.example.org") != want {
			t.Errorf("cut at %d of %d: %q", n, len(hello), got)
		}
	}
}

func TestHTTPHost(t *testing.T) {
	cases := []struct {
		payload string
		want    string
	}{
		{"GET / HTTP/1.1\r\nHost: www.Example.com\r\nAccept: */*\r\n\r\n", "www.example.com"},
		{"POST /up HTTP/1.1\r\nUser-Agent: x\r\nhost:files.example.net:8080\r\n\r\n", "files.example.net"},
		{"PUT /x HTTP/1.1\r\nHOST: [2001:db8::1]:8443\r\n\r\n", "2001:db8::1"},
		{"GET / HTTP/1.1\nHost: lf.example\n\n", "lf.example"},
		{"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", "a.example"},
		{"GET / HTTP/1.1\r\nAccept: */*\r\n\r\nHost: body.example\r\n", ""}, // after the headers
		{"GET / HTTP/1.0\r\n\r\n", ""},
		{"GET / HTTP/1.1\r\nHost: bad host\r\n\r\n", ""},
		{"GETTER / HTTP/1.1\r\nHost: no.example\r\n\r\n", ""},
		{"HTTP/1.1 200 OK\r\nHost: resp.example\r\n\r\n", ""},
		{"GET / HTTP/1.1\r\nHost: cut.exa", ""}, // cut by the snaplen: maybe half a name
	}
	for _, tc := range cases {
		c := New(4)
		if got := c.Observe(tcpPayload([]byte(tc.payload))); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.payload, got, tc.want)
		}
	}
}

func TestCacheEviction(t *testing.T) {
	c := New(3)
	addr := func(i byte) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, i}) }
	c.Learn(addr(1), "one")
	c.Learn(addr(2), "two")
	c.Learn(addr(3), "three")
	c.Lookup(addr(1))                                       // referenced: gets a second chance
	c.Learn(addr(4), "four")                                // evicts 2, the first unreferenced
	c.Learn(addr(3), "tres")                                // rename in place
	c.Learn(netip.MustParseAddr("::ffff:10.0.0.5"), "five") // mapped form is stored unmapped; evicts 3
	for i, want := range []string{"", "one", "", "", "four", "five"} {
		if i == 0 {
			continue
		}
		if got := c.Lookup(addr(byte(i))); got != want {
			t.Errorf("Lookup(10.0.0.%d) = %q, want %q", i, got, want)
		}
	}
	want := Stats{Entries: 3, Learned: 6, Evicted: 2, Lookups: 6, Hits: 4}
	if s := c.Stats(); s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}
}
