package scenario

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestClientHelloDecodes(t *testing.T) {
	for _, name := range []string{"a.example", "drop7.filebox.example", "news17.example.org"} {
		hello := clientHello(nil, name, [32]byte{1, 2, 3})
		if len(hello) != 517 {
			t.Errorf("%s: ClientHello record of %d bytes, want 517 (Chrome-like padding)", name, len(hello))
		}
		var tls layers.TLS
		if err := tls.DecodeFromBytes(hello, gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(tls.Handshake) != 1 || string(tls.Handshake[0].ClientHello.SNI) != name {
			t.Fatalf("%s: decoded %+v", name, tls.Handshake)
		}
		// The name must start 131 bytes into the frame (54 bytes of headers).
		if off := 54 + 77; string(hello[off-54:off-54+len(name)]) != name {
			t.Errorf("%s: SNI not at frame offset %d", name, off)
		}
	}
}

func TestDNSDecodes(t *testing.T) {
	name, addr := "drop7.filebox.example", [4]byte{203, 0, 113, 77}
	q := dnsQuery(nil, 0x1234, name)
	a := dnsAnswer(nil, 0x1234, name, addr, 300)
	if got, want := ethLen+ipv4Len+udpLen+len(a), 76+len(name); got != want {
		t.Errorf("answer frame %d bytes, want %d", got, want)
	}
	var dq, da layers.DNS
	if err := dq.DecodeFromBytes(q, gopacket.NilDecodeFeedback); err != nil || dq.QR || string(dq.Questions[0].Name) != name {
		t.Fatalf("query: %v %+v", err, dq)
	}
	if err := da.DecodeFromBytes(a, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if !da.QR || da.ID != 0x1234 || len(da.Answers) != 1 || string(da.Answers[0].Name) != name || da.Answers[0].IP.String() != "203.0.113.77" {
		t.Fatalf("answer: %+v", da)
	}
}
