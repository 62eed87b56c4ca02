package allow

import (
	"bytes"
	"os"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var detectors = []string{"volume", "new_destination", "inbound_pull", "long_lived", "p2p", "beaconing", "low_and_slow", "dns_tunnel"}

func TestNewErrors(t *testing.T) {
	ok := Rule{Remotes: []string{"10.0.0.0/8"}}
	daily := Window{Every: "day", At: "02:00", For: time.Hour}
	for _, c := range []struct {
		name  string
		cfg   Config
		known []string
		want  string
	}{
		{"cidr bits", Config{Rules: []Rule{ok, ok, {Remotes: []string{"10.0.0.0/33"}}}}, nil,
			`allow.rules[2].remotes[0]: not a CIDR: "10.0.0.0/33"`},
		{"cidr text", Config{Rules: []Rule{{Remotes: []string{"10.0.0.0/8", "example.com"}}}}, nil,
			`allow.rules[0].remotes[1]: not a CIDR: "example.com"`},
		{"cidr zone", Config{Rules: []Rule{{Remotes: []string{"fe80::1%eth0"}}}}, nil,
			`allow.rules[0].remotes[0]: not a CIDR: "fe80::1%eth0"`},
		{"no remotes or domains", Config{Rules: []Rule{ok, {Hosts: []string{"10.0.0.0/8"}}}}, nil,
			`allow.rules[1]: needs remotes or domains`},
		{"wildcard domain", Config{Rules: []Rule{{Domains: []string{"*.example.com"}}}}, nil,
			`allow.rules[0].domains[0]: not a domain suffix: "*.example.com"`},
		{"empty label", Config{Rules: []Rule{{Domains: []string{"example..com"}}}}, nil,
			`allow.rules[0].domains[0]: not a domain suffix: "example..com"`},
		{"leading dot", Config{Rules: []Rule{{Domains: []string{".example.com"}}}}, nil,
			`allow.rules[0].domains[0]: not a domain suffix: ".example.com"`},
		{"only a dot", Config{Rules: []Rule{{Domains: []string{"."}}}}, nil,
			`allow.rules[0].domains[0]: not a domain suffix: "."`},
		{"url", Config{Rules: []Rule{{Domains: []string{"https://example.com"}}}}, nil,
			`allow.rules[0].domains[0]: not a domain suffix: "https://example.com"`},
		{"label too long", Config{Rules: []Rule{{Domains: []string{string(bytes.Repeat([]byte("a"), 64)) + ".com"}}}}, nil,
			`allow.rules[0].domains[0]: not a domain suffix: "` + string(bytes.Repeat([]byte("a"), 64)) + `.com"`},
		{"rule host", Config{Rules: []Rule{{Remotes: []string{"10.0.0.0/8"}, Hosts: []string{"10.0.0.0/8", "10.1"}}}}, nil,
			`allow.rules[0].hosts[1]: not a CIDR: "10.1"`},
		{"unknown detector", Config{Rules: []Rule{{Remotes: []string{"10.0.0.0/8"}, Detectors: []string{"volumes"}}}}, detectors,
			`allow.rules[0].detectors[0]: unknown detector "volumes" (known: volume, new_destination, inbound_pull, long_lived, p2p, beaconing, low_and_slow, dns_tunnel)`},
		{"empty detector", Config{Rules: []Rule{{Remotes: []string{"10.0.0.0/8"}, Detectors: []string{""}}}}, nil,
			`allow.rules[0].detectors[0]: empty`},
		{"window: at", Config{Maintenance: []Window{{Every: "day", At: "25:00", For: time.Hour}}}, nil,
			`allow.maintenance[0].at: want HH:MM, got "25:00"`},
		{"window: at minutes", Config{Maintenance: []Window{daily, {Every: "day", At: "23:60", For: time.Hour}}}, nil,
			`allow.maintenance[1].at: want HH:MM, got "23:60"`},
		{"window: at short", Config{Maintenance: []Window{{Every: "day", At: "2:00", For: time.Hour}}}, nil,
			`allow.maintenance[0].at: want HH:MM, got "2:00"`},
		{"window: at missing", Config{Maintenance: []Window{{Every: "day", For: time.Hour}}}, nil,
			`allow.maintenance[0].at: want HH:MM, got ""`},
		{"window: every", Config{Maintenance: []Window{{Every: "weekday", At: "02:00", For: time.Hour}}}, nil,
			`allow.maintenance[0].every: want day or a weekday (monday..sunday), got "weekday"`},
		{"window: for missing", Config{Maintenance: []Window{{Every: "day", At: "02:00"}}}, nil,
			`allow.maintenance[0].for: must be positive`},
		{"window: for too long daily", Config{Maintenance: []Window{{Every: "day", At: "02:00", For: 25 * time.Hour}}}, nil,
			`allow.maintenance[0].for: must be at most 24h for every: day`},
		{"window: for too long weekly", Config{Maintenance: []Window{{Every: "friday", At: "02:00", For: 169 * time.Hour}}}, nil,
			`allow.maintenance[0].for: must be at most 168h for every: friday`},
		{"window: tz", Config{Maintenance: []Window{{Every: "day", At: "02:00", For: time.Hour, TZ: "Mars/Olympus"}}}, nil,
			`allow.maintenance[0].tz: unknown time zone "Mars/Olympus"`},
		{"window: tz local", Config{Maintenance: []Window{{Every: "day", At: "02:00", For: time.Hour, TZ: "Local"}}}, nil,
			`allow.maintenance[0].tz: unknown time zone "Local"`},
		{"window: empty", Config{Maintenance: []Window{{Hosts: []string{"10.0.0.0/8"}}}}, nil,
			`allow.maintenance[0]: needs every, at and for, or from and to`},
		{"window: both kinds", Config{Maintenance: []Window{{Every: "day", At: "02:00", For: time.Hour, To: at("2025-06-01T00:00:00Z")}}}, nil,
			`allow.maintenance[0]: either every/at/for/tz or from/to, not both`},
		{"window: from missing", Config{Maintenance: []Window{{To: at("2025-06-01T00:00:00Z")}}}, nil,
			`allow.maintenance[0].from: missing`},
		{"window: to missing", Config{Maintenance: []Window{{From: at("2025-06-01T00:00:00Z")}}}, nil,
			`allow.maintenance[0].to: missing`},
		{"window: to before from", Config{Maintenance: []Window{{From: at("2025-06-01T00:00:00Z"), To: at("2025-06-01T00:00:00Z")}}}, nil,
			`allow.maintenance[0].to: must be after from`},
		{"window: host", Config{Maintenance: []Window{{Every: "day", At: "02:00", For: time.Hour, Hosts: []string{"10.0.0.0/8", "host-1"}}}}, nil,
			`allow.maintenance[0].hosts[1]: not a CIDR: "host-1"`},
		{"window: detector", Config{Maintenance: []Window{{Every: "day", At: "02:00", For: time.Hour, Detectors: []string{"DNS_TUNNEL"}}}}, detectors,
			`allow.maintenance[0].detectors[0]: unknown detector "DNS_TUNNEL" (known: volume, new_destination, inbound_pull, long_lived, p2p, beaconing, low_and_slow, dns_tunnel)`},
		{"all errors at once", Config{
			Rules:       []Rule{{Remotes: []string{"10.0.0.0/33"}, Domains: []string{"a..b"}}},
			Maintenance: []Window{{Every: "day", At: "24:00", For: -time.Hour}},
		}, nil, `allow.rules[0].remotes[0]: not a CIDR: "10.0.0.0/33"
allow.rules[0].domains[0]: not a domain suffix: "a..b"
allow.maintenance[0].at: want HH:MM, got "24:00"
allow.maintenance[0].for: must be positive`},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := New(c.cfg, c.known)
			if err == nil {
				t.Fatalf("no error; want %s", c.want)
			}
			if err.Error() != c.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, c.want)
			}
			if l != nil {
				t.Errorf("List = %v; want nil with an error", l)
			}
		})
	}
}

func TestNewAccepts(t *testing.T) {
	// Without a known list any detector name is accepted; bare addresses,
	// unmasked CIDRs and mapped prefixes are normalized.
	l, err := New(Config{Rules: []Rule{{
		Remotes:   []string{"192.0.2.7", "10.1.2.3/8", "::ffff:172.16.0.0/108", "2001:db8::1"},
		Domains:   []string{"Example.COM.", "_dmarc.example.org", "xn--bcher-kva.example"},
		Detectors: []string{"future_detector"},
	}}, Maintenance: []Window{{Every: "SUNDAY", At: "00:00", For: 168 * time.Hour}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, remote := range []string{"192.0.2.7", "10.200.0.1", "172.31.255.255", "2001:db8::1"} {
		if _, ok := l.Allowed(addr("10.0.0.1"), addr(remote), "", "future_detector"); !ok {
			t.Errorf("%s not allowed", remote)
		}
	}
	if _, ok := l.Allowed(addr("10.0.0.1"), addr("172.32.0.0"), "", "future_detector"); ok {
		t.Errorf("172.32.0.0 allowed")
	}
}

// TestYAML decodes the README's example the way the config loader does.
func TestYAML(t *testing.T) {
	data, err := os.ReadFile("testdata/allow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Allow Config `yaml:"allow"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	l, err := New(f.Allow, detectors)
	if err != nil {
		t.Fatal(err)
	}
	if r, w := l.Len(); r != 3 || w != 2 {
		t.Errorf("Len() = %d, %d; want 3, 2", r, w)
	}
	if w := f.Allow.Maintenance[0]; w.For != 3*time.Hour || w.At != "23:00" {
		t.Errorf("maintenance[0] = %+v", w)
	}
	if w := f.Allow.Maintenance[1]; !w.From.Equal(at("2025-06-01T06:00:00Z")) || !w.To.Equal(at("2025-06-01T10:00:00Z")) {
		t.Errorf("maintenance[1] from %v to %v", w.From, w.To)
	}
	for _, c := range []struct {
		host, remote, name, detector string
		rule                         int
	}{
		{"10.20.0.5", "203.0.113.10", "", "volume", 0},
		{"10.20.0.6", "203.0.113.10", "", "volume", -1},
		{"10.20.0.5", "2001:db8:bac::7", "", "new_destination", 0},
		{"10.30.0.9", "170.114.52.2", "us05web.zoom.us", "long_lived", 1},
		{"10.30.0.9", "170.114.52.2", "us05web.zoom.us", "volume", -1},
		{"10.30.0.9", "198.51.100.20", "", "volume", 2},
		{"10.30.0.9", "8.8.4.4", "eu.corp-sync.example.com", "volume", 2},
	} {
		if r, _ := l.Allowed(addr(c.host), addr(c.remote), c.name, c.detector); r != c.rule {
			t.Errorf("Allowed(%s, %s, %q, %s) = %d; want %d", c.host, c.remote, c.name, c.detector, r, c.rule)
		}
	}
	for _, c := range []struct {
		host, detector, t string
		window            int
	}{
		{"10.20.0.9", "volume", "2025-06-09T01:30:00+02:00", 0},
		{"10.30.0.9", "volume", "2025-06-09T01:30:00+02:00", -1},
		{"10.30.0.9", "volume", "2025-06-01T09:00:00+02:00", 1},
		{"10.30.0.9", "p2p", "2025-06-01T09:00:00+02:00", -1},
	} {
		if w, _ := l.Silenced(addr(c.host), c.detector, at(c.t)); w != c.window {
			t.Errorf("Silenced(%s, %s, %s) = %d; want %d", c.host, c.detector, c.t, w, c.window)
		}
	}
}
