package allow

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// benchList has 10,000 CIDR rules (IPv4 /8–/32 and IPv6 /16–/128, a tenth
// of them scoped to a host range) and 10,000 domain rules (two suffixes
// each, a tenth scoped to a detector).
func benchList(tb testing.TB) *List {
	rng := rand.New(rand.NewPCG(3, 4))
	var cfg Config
	for i := range 10_000 {
		var r Rule
		if i%4 == 0 {
			var b [16]byte
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			p, _ := netip.AddrFrom16(b).Prefix(16 + rng.IntN(113))
			r.Remotes = []string{p.String()}
		} else {
			p, _ := netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}).Prefix(8 + rng.IntN(25))
			r.Remotes = []string{p.String()}
		}
		if i%10 == 0 {
			r.Hosts = []string{"10.1.0.0/16"}
		}
		cfg.Rules = append(cfg.Rules, r)
	}
	for i := range 10_000 {
		r := Rule{Domains: []string{fmt.Sprintf("svc%d.vendor%d.com", i, i%97), fmt.Sprintf("tenant%d.cloud.example", i)}}
		if i%10 == 0 {
			r.Detectors = []string{"beaconing"}
		}
		cfg.Rules = append(cfg.Rules, r)
	}
	cfg.Rules = append(cfg.Rules, Rule{Remotes: []string{"203.0.113.0/24"}})
	l, err := New(cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

type query struct {
	host, remote netip.Addr
	name         string
}

var benchQueries = []struct {
	name string
	q    query
}{
	{"ipv4_miss_no_name", query{addr("10.2.0.1"), addr("100.64.1.2"), ""}},
	{"ipv4_hit", query{addr("10.2.0.1"), addr("203.0.113.9"), ""}},
	{"ipv6_miss", query{addr("10.2.0.1"), addr("2001:db8::1"), ""}},
	{"mapped_host_ipv4", query{addr("::ffff:10.1.0.9"), addr("::ffff:203.0.113.9"), ""}},
	{"domain_hit", query{addr("10.2.0.1"), addr("100.64.1.2"), "eu-west.api.svc5001.vendor54.com"}},
	{"domain_miss_upper", query{addr("10.2.0.1"), addr("100.64.1.2"), "Www.Some-Unknown-Site.Example.NET."}},
}

func BenchmarkAllowed(b *testing.B) {
	l := benchList(b)
	for _, c := range benchQueries {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.Allowed(c.q.host, c.q.remote, c.q.name, "volume")
			}
		})
	}
}

func BenchmarkSilenced(b *testing.B) {
	l, err := New(Config{Maintenance: []Window{
		{Every: "sunday", At: "23:00", For: 3 * 3600e9, TZ: "Europe/Berlin", Hosts: []string{"10.20.0.0/24"}},
		{Every: "day", At: "02:00", For: 3600e9, TZ: "America/New_York"},
	}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	t, host := at("2025-06-10T12:00:00Z"), addr("10.20.0.9")
	b.ReportAllocs()
	for b.Loop() {
		l.Silenced(host, "volume", t)
	}
}

// TestAllowedDoesNotAllocate pins what the benchmark reports (allocations,
// not time, so it is safe in a unit test).
func TestAllowedDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 20,000 rules")
	}
	l := benchList(t)
	for _, c := range benchQueries {
		if n := testing.AllocsPerRun(100, func() { l.Allowed(c.q.host, c.q.remote, c.q.name, "volume") }); n != 0 {
			t.Errorf("%s: %.1f allocations per call", c.name, n)
		}
	}
	for _, c := range benchQueries {
		_, ok := l.Allowed(c.q.host, c.q.remote, c.q.name, "volume")
		if want := strings.Contains(c.name, "hit") || strings.Contains(c.name, "mapped"); ok != want {
			t.Errorf("%s: allowed %v", c.name, ok)
		}
	}
	w := Window{Every: "day", At: "02:00", For: 3600e9, TZ: "Europe/Berlin"}
	s, err := New(Config{Maintenance: []Window{w}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { s.Silenced(addr("10.0.0.1"), "volume", at("2025-06-10T12:00:00Z")) }); n != 0 {
		t.Errorf("Silenced: %.1f allocations per call", n)
	}
}
