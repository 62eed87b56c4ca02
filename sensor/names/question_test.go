package names

import (
	"strings"
	"testing"
)

// dnsQuery is a standard query (RD set) for name, type TXT, written by hand
// so the test controls the case of the labels.
func dnsQuery(name string) []byte {
	msg := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		msg = append(msg, byte(len(l)))
		msg = append(msg, l...)
	}
	return append(msg, 0, 0, 16, 0, 1)
}

func TestQuestionName(t *testing.T) {
	notStandard := dnsQuery("a.example")
	notStandard[2] |= 0x28 // opcode 5, UPDATE
	noQuestion := dnsQuery("a.example")
	noQuestion[5] = 0
	binary := dnsQuery("ab.example")
	binary[13] = 0xff
	for _, c := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"query", dnsQuery("MZXW6.00000001.Tunnel.Example."), "mzxw6.00000001.tunnel.example"},
		{"response", dnsResponse(t, "files.example.test", a("files.example.test", "203.0.113.50")), "files.example.test"},
		{"response with answers", compressed(1, rr([]byte{0xc0, 27}, 1, []byte{3, 3, 3, 3})), "a.example"},
		{"binary label", binary, "?b.example"},
		{"root", dnsQuery("."), ""},
		{"not a standard query", notStandard, ""},
		{"no question", noQuestion, ""},
		{"cut", dnsQuery("a.example")[:16], ""},
		{"header only", dnsQuery("a.example")[:12], ""},
		{"short", []byte{1, 2, 3}, ""},
	} {
		if got := QuestionName(c.msg); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	msg := dnsQuery("x1.tunnel.example")
	if n := testing.AllocsPerRun(100, func() { QuestionName(msg) }); n != 1 {
		t.Errorf("%.0f allocations, want 1 (the string)", n)
	}
}
