package allow

import (
	"net/netip"
	"strings"
	"testing"
)

// lowerASCII lowers A–Z only, as DNS does.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzDomain checks the suffix index against the definition: a name
// matches iff, ignoring ASCII case and one trailing dot, it equals a
// suffix or ends with "."+suffix; the rule is the first such suffix's.
func FuzzDomain(f *testing.F) {
	long := strings.Repeat("a.", 140) + "example.com"
	for _, s := range [][3]string{
		{"example.com", "example.com", "org"},
		{"a.b.EXAMPLE.com.", "example.com", "b.example.com"},
		{"badexample.com", "example.com", "com"},
		{".example.com", "example.com", "x"},
		{"example.com..", "example.com", "x"},
		{long, "example.com", "a.example.com"},
		{long, strings.Repeat("a.", 120) + "example.com", "x"},
		{"ab" + long, strings.Repeat("a.", 120) + "example.com", "x"},
		{"", "x", "y"},
		{"é.example.com", "example.com", "x"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, name, s0, s1 string) {
		l, err := New(Config{Rules: []Rule{{Domains: []string{s0}}, {Domains: []string{s1}}}}, nil)
		if err != nil {
			return
		}
		n := lowerASCII(strings.TrimSuffix(name, "."))
		want := -1
		for i, s := range []string{s0, s1} {
			s = lowerASCII(strings.TrimSuffix(s, "."))
			if n == s || strings.HasSuffix(n, "."+s) {
				want = i
				break
			}
		}
		got, ok := l.Allowed(netip.Addr{}, netip.Addr{}, name, "volume")
		if got != want || ok != (want >= 0) {
			t.Errorf("Allowed(%q) with suffixes %q, %q = %d, %v; want %d", name, s0, s1, got, ok, want)
		}
	})
}
