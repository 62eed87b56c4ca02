package names

import (
	"testing"

	"github.com/outflowhq/outflow/sensor/decode"
)

var nonMatching = []*decode.Packet{
	{Proto: 6, SrcPort: 6881, DstPort: 51413, Payload: []byte("\x13BitTorrent protocol\x00\x00\x00\x00\x00\x10\x00\x05")},
	{Proto: 6, SrcPort: 443, DstPort: 50000, Payload: []byte{0x17, 3, 3, 0x40, 0, 1, 2, 3}},                  // TLS application data
	{Proto: 6, SrcPort: 80, DstPort: 50000, Payload: []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")}, // a response
	{Proto: 6, SrcPort: 50000, DstPort: 443, Payload: []byte("Cookie jar, not a method")},
	{Proto: 17, SrcPort: 50000, DstPort: 53, Payload: []byte{0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}}, // a query
}

func BenchmarkObserveNoMatch(b *testing.B) {
	c := New(1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Observe(nonMatching[i%len(nonMatching)])
	}
}

// BenchmarkObserveDNS parses a response with a CNAME chain and one A record
// (like www.apple.com's in the pcapng-multi-interface trace).
func BenchmarkObserveDNS(b *testing.B) {
	msg := dnsResponse(b, "www.apple.com",
		cname("www.apple.com", "www-apple-com.v.aaplimg.com"),
		cname("www-apple-com.v.aaplimg.com", "www.apple.com.edgekey.net"),
		cname("www.apple.com.edgekey.net", "e6858.dsce9.akamaiedge.net"),
		a("e6858.dsce9.akamaiedge.net", "23.194.101.24"))
	p := udpFrom53(msg)
	c := New(1024)
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(p)
	}
}

func BenchmarkObserveSNI(b *testing.B) {
	p := tcpPayload(clientHello("upload.youtube.com"))
	c := New(1024)
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(p)
	}
}

func TestObserveNoMatchAllocs(t *testing.T) {
	c := New(16)
	if n := testing.AllocsPerRun(100, func() {
		for _, p := range nonMatching {
			if c.Observe(p) != "" {
				t.Fatal("matched")
			}
		}
	}); n != 0 {
		t.Errorf("%v allocations on payloads that match nothing", n)
	}
}
