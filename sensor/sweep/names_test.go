//go:build linux

package sweep

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/sensor/names"
)

// clientHello is the first flight of a real crypto/tls client asking for
// serverName.
func clientHello(t *testing.T, serverName string) []byte {
	t.Helper()
	cli, srv := net.Pipe()
	defer srv.Close()
	go func() {
		c := tls.Client(cli, &tls.Config{ServerName: serverName})
		c.Handshake() // fails when srv closes; only its first write matters
		cli.Close()
	}()
	buf := make([]byte, 4096)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := srv.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func dnsAnswer(t *testing.T, name, addr string) []byte {
	t.Helper()
	d := &layers.DNS{ID: 1, QR: true, RD: true, RA: true, QDCount: 1, ANCount: 1,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}},
		Answers: []layers.DNSResourceRecord{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN,
			TTL: 60, IP: net.ParseIP(addr).To4()}}}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestNamesFromEvents: the kernel copies a DNS answer and a TLS
// ClientHello to the ring buffer; the sweeper parses them with the packet
// path's parser, so the flow to the answered address carries the DNS
// name and the TLS flow the server name its client asked for.
func TestNamesFromEvents(t *testing.T) {
	o := load(t, 0)
	r, err := o.NameEvents()
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	s := New(Config{}, o, names.New(1024), rec.emit)
	done := make(chan error, 1)
	go func() { done <- s.ReadNames(r) }()

	inject(t, o,
		framePayload(t, "198.51.100.53", 53, "10.0.0.7", 40000, "udp", dnsAnswer(t, "files.example.test", "203.0.113.50")),
		frame(t, "10.0.0.7", 40001, "203.0.113.60", 443, "S", 0),
		framePayload(t, "10.0.0.7", 40001, "203.0.113.60", 443, "PA", clientHello(t, "sni.example.test")),
		frame(t, "10.0.0.7", 40002, "203.0.113.50", 443, "S", 0),
		frame(t, "10.0.0.7", 40003, "203.0.113.60", 443, "PA", 100), // data, not a name
	)
	for deadline := time.Now().Add(5 * time.Second); s.EventStats().Events < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("name events read: %+v, want 2", s.EventStats())
		}
	}
	mustPass(t, s, Monotonic()+uint64(time.Minute)-1, false)
	got := map[uint16]string{}
	for _, r := range rec.take() {
		got[r.SrcPort] = r.DstName
	}
	want := map[uint16]string{40000: "", 40001: "sni.example.test", 40002: "files.example.test", 40003: ""}
	for port, name := range want {
		if n, ok := got[port]; !ok || n != name {
			t.Errorf("flow from port %d: name %q (exported %v), want %q", port, n, ok, name)
		}
	}
	if st := s.EventStats(); st.Events != 2 || st.DecodeErrors != 0 || st.ReadErrors != 0 {
		t.Errorf("event stats %+v", st)
	}
	if st := s.Stats(); st.Names != 1 {
		t.Errorf("names attached from events: %d, want 1 (the SNI)", st.Names)
	}
	r.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestQueryFromResponse: the kernel copies DNS responses only; the
// sweeper reads the question a response repeats and attaches it as the
// Query of the flow it answers, whose initiator is the client.
func TestQueryFromResponse(t *testing.T) {
	o := load(t, 0)
	r, err := o.NameEvents()
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	s := New(Config{}, o, names.New(1024), rec.emit)
	done := make(chan error, 1)
	go func() { done <- s.ReadNames(r) }()

	inject(t, o,
		framePayload(t, "10.0.0.7", 40010, "10.0.0.53", 53, "udp", make([]byte, 60)),
		framePayload(t, "10.0.0.53", 53, "10.0.0.7", 40010, "udp", dnsAnswer(t, "MZXW6YTB.0001.Tunnel.Example", "192.0.2.1")),
		framePayload(t, "10.0.0.7", 40011, "10.0.0.53", 53, "udp", make([]byte, 60)), // no answer yet
		frame(t, "10.0.0.7", 40012, "203.0.113.60", 443, "S", 0),
	)
	for deadline := time.Now().Add(5 * time.Second); s.EventStats().Events < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("name events read: %+v, want 1", s.EventStats())
		}
	}
	mustPass(t, s, Monotonic()+uint64(time.Minute)-1, false)
	got := map[uint16]string{}
	for _, r := range rec.take() {
		if r.SrcAddr.String() != "10.0.0.7" {
			t.Errorf("flow %s:%d -> %s:%d: the client is not Src", r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort)
		}
		got[r.SrcPort] = r.Query
	}
	want := map[uint16]string{40010: "mzxw6ytb.0001.tunnel.example", 40011: "", 40012: ""}
	for port, q := range want {
		if g, ok := got[port]; !ok || g != q {
			t.Errorf("flow from port %d: query %q (exported %v), want %q", port, g, ok, q)
		}
	}
	if st := s.Stats(); st.Queries != 1 || st.Names != 0 {
		t.Errorf("queries attached %d, names %d; want 1, 0", st.Queries, st.Names)
	}
	r.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
