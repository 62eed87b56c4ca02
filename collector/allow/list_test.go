package allow

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

var addr = netip.MustParseAddr

func TestAllowed(t *testing.T) {
	l, err := New(Config{Rules: []Rule{
		0:  {Remotes: []string{"203.0.113.0/24"}, Comment: "offsite backup"},
		1:  {Domains: []string{"example.com"}, Hosts: []string{"10.1.0.0/16"}},
		2:  {Domains: []string{"Backup.Example.NET."}},
		3:  {Remotes: []string{"2001:db8::/32", "198.51.100.7"}, Detectors: []string{"beaconing"}},
		4:  {Remotes: []string{"192.0.2.0/24"}, Hosts: []string{"10.3.0.0/16"}},
		5:  {Remotes: []string{"192.0.2.0/28"}, Hosts: []string{"10.4.0.0/16"}},
		6:  {Remotes: []string{"192.0.0.0/16"}, Detectors: []string{"volume"}},
		7:  {Remotes: []string{"192.0.2.64/26"}},
		8:  {Domains: []string{"example.org"}, Detectors: []string{"new_destination", "volume"}},
		9:  {Remotes: []string{"::ffff:198.18.0.0/111"}},
		10: {Remotes: []string{"0.0.0.0/0"}, Hosts: []string{"10.99.0.1/32"}},
		11: {Remotes: []string{"::/0"}, Hosts: []string{"fd00::/8"}},
		12: {Remotes: []string{"100.64.0.0/10"}, Domains: []string{"cdn.example.com"}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name           string
		host, remote   string
		remoteName     string
		detector       string
		wantRule       int
		wantAllowedAll bool
	}{
		{"cidr", "10.9.0.1", "203.0.113.9", "", "volume", 0, true},
		{"cidr miss", "10.9.0.1", "203.0.114.9", "", "volume", -1, false},
		{"suffix itself", "10.1.2.3", "8.8.8.8", "example.com", "volume", 1, true},
		{"subdomain", "10.1.2.3", "8.8.8.8", "a.b.example.com", "volume", 1, true},
		{"case and trailing dot", "10.1.2.3", "8.8.8.8", "A.EXAMPLE.Com.", "volume", 1, true},
		{"leading dot", "10.1.2.3", "8.8.8.8", ".example.com", "volume", 1, true},
		{"not at a label boundary", "10.1.2.3", "8.8.8.8", "badexample.com", "volume", -1, false},
		{"suffix inside", "10.1.2.3", "8.8.8.8", "example.com.evil.net", "volume", -1, false},
		{"shorter", "10.1.2.3", "8.8.8.8", "example.co", "volume", -1, false},
		{"host outside scope", "10.2.0.1", "8.8.8.8", "www.example.com", "volume", -1, false},
		{"mapped host in scope", "::ffff:10.1.0.1", "8.8.8.8", "www.example.com", "volume", 1, true},
		{"configured in upper case", "10.9.0.1", "8.8.8.8", "x.backup.example.net", "p2p", 2, true},
		{"two trailing dots", "10.9.0.1", "8.8.8.8", "backup.example.net..", "p2p", -1, false},
		{"empty name", "10.9.0.1", "8.8.8.8", "", "p2p", -1, false},
		{"only a dot", "10.9.0.1", "8.8.8.8", ".", "p2p", -1, false},
		{"ipv6 detector in scope", "10.9.0.1", "2001:db8:1::1", "", "beaconing", 3, true},
		{"ipv6 detector out of scope", "10.9.0.1", "2001:db8:1::1", "", "volume", -1, false},
		{"ipv6 miss", "10.9.0.1", "2001:db9::1", "", "beaconing", -1, false},
		{"single address", "10.9.0.1", "198.51.100.7", "", "beaconing", 3, true},
		{"single address neighbour", "10.9.0.1", "198.51.100.8", "", "beaconing", -1, false},
		{"nested: outer rule, scoped host", "10.3.0.1", "192.0.2.5", "", "p2p", 4, true},
		{"nested: inner rule", "10.4.0.1", "192.0.2.5", "", "p2p", 5, true},
		{"nested: widest rule", "10.9.0.1", "192.0.2.5", "", "volume", 6, true},
		{"nested: none covers", "10.9.0.1", "192.0.2.5", "", "p2p", -1, false},
		{"nested: sibling", "10.9.0.1", "192.0.2.70", "", "p2p", 7, true},
		{"nested: lower index wins", "10.9.0.1", "192.0.2.70", "", "volume", 6, true},
		{"nested: past sibling", "10.3.0.1", "192.0.2.130", "", "p2p", 4, true},
		{"nested: outside all", "10.9.0.1", "192.1.0.0", "", "volume", -1, false},
		{"domain detector list", "10.9.0.1", "8.8.8.8", "www.example.org", "volume", 8, true},
		{"domain detector out of list", "10.9.0.1", "8.8.8.8", "www.example.org", "dns_tunnel", -1, false},
		{"mapped rule, plain remote", "10.9.0.1", "198.19.1.1", "", "p2p", 9, true},
		{"mapped rule, mapped remote", "10.9.0.1", "::ffff:198.18.5.5", "", "p2p", 9, true},
		{"mapped rule, outside", "10.9.0.1", "198.20.0.1", "", "p2p", -1, false},
		{"catch-all for one host", "10.99.0.1", "8.8.8.8", "", "p2p", 10, true},
		{"catch-all, mapped host", "::ffff:10.99.0.1", "::ffff:8.8.8.8", "", "p2p", 10, true},
		{"catch-all, other host", "10.99.0.2", "8.8.8.8", "", "p2p", -1, false},
		{"::/0 holds no IPv4", "fd00::1", "8.8.8.8", "", "p2p", -1, false},
		{"::/0 holds IPv6", "fd00::1", "2606:4700::1", "", "p2p", 11, true},
		{"cidr or domain: cidr", "10.9.0.1", "100.64.1.1", "", "p2p", 12, true},
		{"cidr or domain: domain", "10.9.0.1", "8.8.8.8", "img.cdn.example.com", "p2p", 12, true},
		{"cidr and domain: lower rule", "10.1.0.1", "203.0.113.1", "img.cdn.example.com", "p2p", 0, true},
		{"domain: lower of two suffixes", "10.1.0.1", "8.8.8.8", "img.cdn.example.com", "p2p", 1, true},
		{"invalid remote", "10.9.0.1", "", "", "volume", -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var host, remote netip.Addr
			if c.host != "" {
				host = addr(c.host)
			}
			if c.remote != "" {
				remote = addr(c.remote)
			}
			rule, ok := l.Allowed(host, remote, c.remoteName, c.detector)
			if rule != c.wantRule || ok != c.wantAllowedAll {
				t.Errorf("Allowed(%s, %s, %q, %s) = %d, %v; want %d, %v", c.host, c.remote, c.remoteName, c.detector, rule, ok, c.wantRule, c.wantAllowedAll)
			}
		})
	}
	if r, w := l.Len(); r != 13 || w != 0 {
		t.Errorf("Len() = %d, %d; want 13, 0", r, w)
	}
}

func TestNilList(t *testing.T) {
	var l *List
	if r, ok := l.Allowed(addr("10.0.0.1"), addr("8.8.8.8"), "example.com", "volume"); r != -1 || ok {
		t.Errorf("Allowed = %d, %v; want -1, false", r, ok)
	}
	if w, ok := l.Silenced(addr("10.0.0.1"), "volume", at("2025-06-01T00:00:00Z")); w != -1 || ok {
		t.Errorf("Silenced = %d, %v; want -1, false", w, ok)
	}
	if r, w := l.Len(); r != 0 || w != 0 {
		t.Errorf("Len = %d, %d; want 0, 0", r, w)
	}
	empty, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := empty.Allowed(addr("10.0.0.1"), addr("8.8.8.8"), "example.com", "volume"); r != -1 || ok {
		t.Errorf("empty: Allowed = %d, %v; want -1, false", r, ok)
	}
}

// TestAllowedMatchesScan compares the index with a scan of every rule
// using netip.Prefix.Contains, on random nested prefixes of both families.
func TestAllowedMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randAddr := func(v6 bool) netip.Addr {
		if v6 {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01 // keep v6 addresses close so prefixes nest
			for i := 2; i < 16; i++ {
				b[i] = byte(rng.IntN(4))
			}
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(256))})
	}
	randPrefix := func(v6 bool) netip.Prefix {
		a := randAddr(v6)
		p, _ := a.Prefix(rng.IntN(a.BitLen()-7) + 8)
		return p
	}
	var cfg Config
	type ruleP struct{ remotes, hosts []netip.Prefix }
	var rules []ruleP
	for range 400 {
		var r Rule
		var rp ruleP
		v6 := rng.IntN(3) == 0
		for range 1 + rng.IntN(3) {
			p := randPrefix(v6)
			r.Remotes = append(r.Remotes, p.String())
			rp.remotes = append(rp.remotes, p)
		}
		if rng.IntN(2) == 0 {
			p := randPrefix(false)
			r.Hosts = []string{p.String()}
			rp.hosts = []netip.Prefix{p}
		}
		cfg.Rules = append(cfg.Rules, r)
		rules = append(rules, rp)
	}
	l, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 20000 {
		host, remote := randAddr(false), randAddr(rng.IntN(3) == 0)
		want := -1
		for i, r := range rules {
			in := func(ps []netip.Prefix, a netip.Addr) bool {
				for _, p := range ps {
					if p.Contains(a) {
						return true
					}
				}
				return false
			}
			if in(r.remotes, remote) && (r.hosts == nil || in(r.hosts, host)) {
				want = i
				break
			}
		}
		if got, ok := l.Allowed(host, remote, "", "volume"); got != want || ok != (want >= 0) {
			t.Fatalf("Allowed(%s, %s) = %d, %v; a scan says %d", host, remote, got, ok, want)
		}
	}
}
