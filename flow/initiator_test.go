package flow

import "testing"

func TestFirstSenderIsResponder(t *testing.T) {
	for _, c := range []struct {
		proto      uint8
		sport, dst uint16
		want       bool
	}{
		{6, 443, 51000, true},   // a server's reply seen first
		{17, 53, 40000, true},   // a DNS answer seen first
		{6, 51000, 443, false},  // a client's packet
		{6, 443, 80, false},     // both well-known: keep the first sender
		{6, 0, 51000, false},    // port 0 is no service
		{1, 0, 8, false},        // ICMP pseudo-ports are types
		{58, 129, 50000, false}, // ICMPv6 too
		{132, 80, 50000, false}, // SCTP: not turned around
	} {
		if got := FirstSenderIsResponder(c.proto, c.sport, c.dst); got != c.want {
			t.Errorf("FirstSenderIsResponder(%d, %d, %d) = %v, want %v", c.proto, c.sport, c.dst, got, c.want)
		}
	}
}
