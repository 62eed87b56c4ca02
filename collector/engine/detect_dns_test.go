package engine

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/flow"
)

const resolver = "10.0.0.53"

// query is one DNS query record: host asked the internal resolver name at
// t and got an answer (an internal flow, as the sensors report it).
func query(host, name string, t time.Time) flow.Record {
	return flow.Record{
		Proto: 17, SrcAddr: netip.MustParseAddr(host), DstAddr: netip.MustParseAddr(resolver),
		SrcPort: 50000, DstPort: 53, SrcBytes: uint64(40 + len(name)), DstBytes: uint64(60 + len(name)),
		SrcPackets: 1, DstPackets: 1, Start: t, End: t, FlowStart: t, Direction: flow.Internal, Final: true,
		Query: name,
	}
}

// tunnel is n queries of host, one every 12 s from start, each for a new
// 50-byte name under domain exfil-c2.net (<32 hex>.<seq>.exfil-c2.net).
func tunnel(host string, n int, start time.Time) []flow.Record {
	var recs []flow.Record
	for i := range n {
		name := fmt.Sprintf("%032x.%04d.exfil-c2.net", uint64(i)*0x9e3779b97f4a7c15, i)
		recs = append(recs, query(host, name, start.Add(time.Duration(i)*12*time.Second)))
	}
	return recs
}

// TestDNSTunnel: a host asking the internal resolver 300 unique names of
// one domain nobody else asks in an hour (15 kB of names) is tunnelling:
// the evidence fires on the query that brings the names to 10 kB (the
// 200th, 10:39:48; the 100 unique came earlier) and the alert, 30 s
// later, reports the 202 queries asked by then.
func TestDNSTunnel(t *testing.T) {
	e, set := newEngine(t, testConfig(), nil)
	recs := append(tunnel("10.0.0.7", 300, at(10, 0, 0)), query("10.0.0.8", "www.example.com", at(10, 5, 0)))
	alerts := append(feed(t, e, recs, at(9, 59, 0), at(11, 30, 0)), e.Flush()...)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1:\n%s", len(alerts), toJSON(t, alerts))
	}
	a := alerts[0]
	want := alert.Evidence{
		Detector: "dns_tunnel", Remote: resolver, Start: at(10, 0, 0), End: at(10, 40, 12),
		BytesOut: 202 * 50, Threshold: 100, Score: 60.1, Prevalence: 1,
		Domain: "exfil-c2.net", Queries: 202, UniqueNames: 100,
		Reason: "asked 202 DNS queries with at least 100 unique subdomains of exfil-c2.net, 10 KB of query names " +
			"(thresholds 100 unique, 10 KB) between 10:00:00 and 10:40:12 UTC: data hidden in DNS names; " +
			"no other internal host asks that domain",
	}
	if len(a.Evidence) != 1 || !reflect.DeepEqual(a.Evidence[0], want) {
		t.Fatalf("evidence\n got %s\nwant %s", toJSON(t, a.Evidence), toJSON(t, want))
	}
	if a.Host != "10.0.0.7" || a.BytesOut != 10_100 || !reflect.DeepEqual(a.Remotes, []string{resolver}) ||
		a.Severity != alert.SeverityWarning || !a.Start.Equal(at(10, 0, 0)) || !a.End.Equal(at(10, 40, 12)) {
		t.Errorf("alert %s", toJSON(t, a))
	}
	if wantSum := "10.0.0.7 sent 10 KB to 10.0.0.53 between 10:00 and 10:40 UTC. dns_tunnel: " + want.Reason + "."; a.Summary != wantSum {
		t.Errorf("summary\n got %s\nwant %s", a.Summary, wantSum)
	}
	if n := metric(set, `outflow_collector_evidence_total{detector="dns_tunnel"}`); n != 1 {
		t.Errorf("evidence counted %v, want 1", n)
	}
	// Queries to the internal resolver are not outbound bytes: no window,
	// destination or prevalence entry for the resolver.
	if h := e.hosts[keyOf(mustAddr("10.0.0.8"))]; h != nil {
		t.Errorf("a host that only asked DNS has engine state: %+v", h)
	}
	if n := e.fleet.count(keyOf(mustAddr(resolver))); n != 0 {
		t.Errorf("resolver counted as a destination of %d hosts", n)
	}
}

// TestDNSTunnelQuiet: the same 300 names stay quiet when the domain is one
// many hosts ask (a CDN, an anti-virus lookup service), and under either
// minimum.
func TestDNSTunnelQuiet(t *testing.T) {
	cases := map[string][]flow.Record{}

	// Ten hosts ask the domain; one of them asks 300 unique names.
	var common []flow.Record
	for i := range 9 {
		common = append(common, query(fmt.Sprintf("10.0.1.%d", i+1), fmt.Sprintf("edge%d.exfil-c2.net", i), at(9, 50, i)))
	}
	cases["domain asked by 10 hosts"] = append(common, tunnel("10.0.0.7", 300, at(10, 0, 0))...)

	// 99 unique names, asked three times each: 15 kB of names.
	var few []flow.Record
	for i, r := range tunnel("10.0.0.7", 297, at(10, 0, 0)) {
		r.Query = tunnel("10.0.0.7", 99, at(10, 0, 0))[i%99].Query
		few = append(few, r)
	}
	cases["99 unique"] = few

	// 300 unique names of 19 bytes: 5.7 kB.
	var short []flow.Record
	for i := range 300 {
		short = append(short, query("10.0.0.7", fmt.Sprintf("%03d.shard-ids.net", i), at(10, 0, 0).Add(time.Duration(i)*12*time.Second)))
	}
	cases["5.7 kB of names"] = short

	// The same 300 names spread over two windows: 150 in each, but 7.5 kB.
	cases["two windows"] = tunnel("10.0.0.7", 300, at(10, 30, 0))

	for name, recs := range cases {
		t.Run(name, func(t *testing.T) {
			e, set := newEngine(t, testConfig(), nil)
			alerts := append(feed(t, e, recs, at(9, 0, 0), at(12, 0, 0)), e.Flush()...)
			if len(alerts) != 0 {
				t.Fatalf("alerts:\n%s", toJSON(t, alerts))
			}
			if n := metric(set, `outflow_collector_evidence_total{detector="dns_tunnel"}`); n != 0 {
				t.Errorf("evidence counted %v", n)
			}
		})
	}
}

// TestDNSTunnelDirect: dnscat sends its names (dnscat.<hex>.<hex>) straight
// to its server, under no registered domain; they are counted per server.
// An outbound record carries its query too and still counts its bytes.
func TestDNSTunnelDirect(t *testing.T) {
	e, _ := newEngine(t, testConfig(), nil)
	var recs []flow.Record
	for i := range 150 {
		// Irregular intervals (0 to 2 s), so this is no beacon.
		tm := at(10, 0, i).Add(time.Duration(i*7919%1000) * time.Millisecond)
		r := query("10.0.0.7", fmt.Sprintf("dnscat.%040x.%024x", uint64(i)*0x9e3779b97f4a7c15, i), tm)
		r.DstAddr, r.Direction = netip.MustParseAddr("198.51.100.53"), flow.Outbound
		recs = append(recs, r)
	}
	alerts := append(feed(t, e, recs, at(9, 59, 0), at(11, 0, 0)), e.Flush()...)
	if len(alerts) != 1 || len(alerts[0].Evidence) != 1 {
		t.Fatalf("alerts:\n%s", toJSON(t, alerts))
	}
	ev := alerts[0].Evidence[0]
	// 72-byte names: 100 unique at the 100th query, 10 kB at the 139th
	// (10:02:18); by the deadline 30 s later all 150 were asked.
	if ev.Domain != "" || ev.Remote != "198.51.100.53" || ev.UniqueNames != 100 || ev.Queries != 150 ||
		ev.BytesOut != 150*72 || alerts[0].BytesOut != 150*(40+72) || !ev.Start.Equal(at(10, 0, 0)) || !ev.End.Equal(at(10, 2, 29).Add(931*time.Millisecond)) {
		t.Errorf("evidence %s, alert bytes %d", toJSON(t, ev), alerts[0].BytesOut)
	}
}

func TestDNSGroupOf(t *testing.T) {
	server := keyOf(mustAddr("198.51.100.53"))
	for _, c := range []struct {
		name, domain, sub string
		server, ok        bool
	}{
		{"mzxw6.00000001.metrics7.example", "metrics7.example", "mzxw6.00000001", false, true},
		{"www.bbc.co.uk", "bbc.co.uk", "www", false, true},
		{"example.com", "example.com", "", false, true},
		{"r3---sn-abc.googlevideo.com", "googlevideo.com", "r3---sn-abc", false, true},
		{"x.xn--p1ai", "x.xn--p1ai", "", false, true},
		{"dnscat.f97c01f5006c798b8d6e990002e3772bc8", "", "dnscat.f97c01f5006c798b8d6e990002e3772bc8", true, true},
		{"4.3.2.10.in-addr.arpa", "", "", false, false},
		{"co.uk", "", "", false, false},
		{"wpad", "", "", false, false},
	} {
		g, sub, ok := dnsGroupOf(c.name, server)
		want := dnsGroup{domain: c.domain}
		if c.server {
			want.server = server
		}
		if ok != c.ok || ok && (g != want || sub != c.sub) {
			t.Errorf("%s: %+v %q %v, want %+v %q %v", c.name, g, sub, ok, want, c.sub, c.ok)
		}
	}
}

// Held records keep their query across a restart (meta version 4), and
// version 3 records (no query) still read.
func TestHeldQueryPersisted(t *testing.T) {
	r := held{end: at(10, 0, 5).UnixNano(), start: at(10, 0, 5).UnixNano(), flowStart: at(10, 0, 5).UnixNano(),
		bytes: 90, in: 140, host: keyOf(mustAddr("10.0.0.7")), remote: keyOf(mustAddr(resolver)), sensor: "gw1",
		hostPort: 50000, remotePort: 53, proto: 17, dnsOnly: true, query: "abc.exfil-c2.net"}
	var b enc
	encodeHeld(&b, []held{r})
	var q holdQueue
	d := &dec{b: b.b}
	decodeHeld(d, &q, metaVersion)
	if d.err != nil || len(q.q) != 1 || !reflect.DeepEqual(q.q[0], r) {
		t.Fatalf("round trip: %+v %v", q.q, d.err)
	}

	// Version 3: the same record without the two new fields.
	v3 := b.b[:len(b.b)-len("abc.exfil-c2.net")-2]
	q = holdQueue{}
	d = &dec{b: v3}
	decodeHeld(d, &q, 3)
	r.query, r.dnsOnly = "", false
	if d.err != nil || len(q.q) != 1 || !reflect.DeepEqual(q.q[0], r) || len(d.b) != 0 {
		t.Fatalf("version 3: %+v %v", q.q, d.err)
	}
}
