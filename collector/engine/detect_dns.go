package engine

import (
	"strings"

	"github.com/VictoriaMetrics/metrics"
	"golang.org/x/net/publicsuffix"
)

// The DNS tunnelling detector. A tunnel hides data in query names
// (<data>.<seq>.t.example.com): the resolver forwards each name to the
// domain's name server, which the attacker runs. Per host, per group of
// names and per window it counts the unique subdomains asked and the
// query-name bytes; both over their minimums (DNSMinUnique,
// DNSMinBytes) and a group asked by at most MaxPrevalence internal hosts
// → dns_tunnel evidence, once per host, group and window. Widely used
// names with random-looking subdomains (CDNs, anti-virus lookups) are
// asked by many hosts, so they stay quiet.
//
// A group is the name's registered domain (publicsuffix eTLD+1), the
// subdomain what is left of it. A name whose last label cannot be a
// top-level domain (it holds a digit: dnscat's dnscat.<hex>.<hex> sent
// straight to its server) has no domain: such names only make sense to the
// server that answers them, so they are grouped by that server. Reverse
// lookups (.arpa) and names that are a public suffix are not counted.
//
// State (in memory, not persisted: after a restart a window's counts
// start again): per window, a track per host and rare group — the unique
// subdomains as 32-bit hashes up to DNSMinUnique (all the decision needs),
// query and byte counts — at most DNSMaxTracks; and for the fleet, the
// hosts asking each group, up to MaxPrevalence+1 of them, at most
// DNSMaxDomains groups, oldest-added evicted.

// dnsTable is the detector's state.
type dnsTable struct {
	window int64 // start of the window the tracks count (ns)
	tracks map[dnsTrackKey]*dnsTrack
	groups map[dnsGroup]*dnsGroupHosts
	added  uint32                    // insertion counter of groups (eviction order)
	fired  map[dnsFiredKey]*dnsTrack // evidence waiting for its alert: the track it was raised for
	m      struct{ tracksDropped, groupsEvicted *metrics.Counter }
}

// dnsGroup is a registered domain, or (domain "") the server that
// received names without one.
type dnsGroup struct {
	domain string
	server addrKey
}

type dnsTrackKey struct {
	host  addrKey
	group dnsGroup
}

type dnsTrack struct {
	group       dnsGroup
	subs        []uint32 // hashes of the unique subdomains, at most DNSMinUnique
	queries     int
	bytes       uint64 // query-name bytes
	first, last int64  // ns
	window      int64
	fired       bool
}

type dnsGroupHosts struct {
	hosts  []addrKey // at most MaxPrevalence+1
	added  uint32
	domain string // the key's domain, shared by the tracks
}

type dnsFiredKey struct {
	host addrKey
	at   int64
}

// checkDNS counts r's query name and raises dns_tunnel evidence. It
// reports whether r is only a query to an internal resolver, which the
// other detectors must not see (nothing left the network).
func (e *Engine) checkDNS(r *held) bool {
	if r.query == "" {
		return false
	}
	d := &e.dns
	if d.tracks == nil {
		d.init(e.m.set)
	}
	g, sub, ok := dnsGroupOf(r.query, r.remote)
	if !ok {
		return r.dnsOnly
	}
	ws := max(e.windowStart(r.end), e.closed) // late: the current window
	if ws > d.window {
		d.window = ws
		clear(d.tracks)
	}
	n, g := d.countHost(g, r.host, e.cfg.MaxPrevalence, e.cfg.DNSMaxDomains)
	if n > e.cfg.MaxPrevalence {
		return r.dnsOnly // a common name: no track
	}
	k := dnsTrackKey{r.host, g}
	t := d.tracks[k]
	if t == nil {
		if len(d.tracks) >= e.cfg.DNSMaxTracks && !d.makeRoom(e.cfg.DNSMaxTracks, e.cfg.DNSMinUnique) {
			d.m.tracksDropped.Inc()
			return r.dnsOnly
		}
		t = &dnsTrack{group: g, first: r.start, window: ws}
		d.tracks[k] = t
	}
	t.queries++
	t.bytes += uint64(len(r.query))
	t.first, t.last = min(t.first, r.start), max(t.last, r.end)
	if len(t.subs) < e.cfg.DNSMinUnique {
		if h := hash32(sub); !containsU32(t.subs, h) {
			t.subs = append(t.subs, h)
		}
	}
	if t.fired || len(t.subs) < e.cfg.DNSMinUnique || t.bytes < e.cfg.DNSMinBytes {
		return r.dnsOnly
	}
	t.fired = true
	h := e.hostFor(r.host, r.end)
	h.last = max(h.last, r.end)
	w := e.windowFor(h, ws)
	d.fired[dnsFiredKey{r.host, r.end}] = t
	e.raise(h, w, evidence{detector: detDNSTunnel, window: ws, at: r.end, remote: r.remote, name: g.domain,
		firstSeen: t.first, prevalence: n, limit: float64(e.cfg.DNSMinBytes),
		baseline: float64(e.cfg.DNSMinUnique), peers: len(t.subs), inPeers: t.queries, up: t.bytes})
	return r.dnsOnly
}

func (d *dnsTable) init(set *metrics.Set) {
	d.tracks = make(map[dnsTrackKey]*dnsTrack)
	d.groups = make(map[dnsGroup]*dnsGroupHosts)
	d.fired = make(map[dnsFiredKey]*dnsTrack)
	const p = "outflow_collector_"
	d.m.tracksDropped = set.GetOrCreateCounter(p + "dns_tracks_dropped_total")
	d.m.groupsEvicted = set.GetOrCreateCounter(p + "dns_domains_evicted_total")
}

// dnsGroupOf splits a query name into its group and subdomain; ok is false
// for names that are not counted.
func dnsGroupOf(name string, server addrKey) (g dnsGroup, sub string, ok bool) {
	tld := name[strings.LastIndexByte(name, '.')+1:]
	if !plausibleTLD(tld) {
		return dnsGroup{server: server}, name, true
	}
	if tld == "arpa" {
		return g, "", false
	}
	dom, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return g, "", false
	}
	return dnsGroup{domain: dom}, strings.TrimSuffix(name[:len(name)-len(dom)], "."), true
}

// plausibleTLD: top-level domains are letters, or punycode (xn--...).
func plausibleTLD(s string) bool {
	if strings.HasPrefix(s, "xn--") {
		return true
	}
	for i := range len(s) {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// countHost adds host to the hosts asking g and returns how many there are
// (counting stops at limit+1) and g as the table holds it (its own copy of
// the domain, not a piece of the record's query string).
func (d *dnsTable) countHost(g dnsGroup, host addrKey, limit, maxGroups int) (int, dnsGroup) {
	x := d.groups[g]
	if x != nil {
		g.domain = x.domain
	} else {
		if len(d.groups) >= maxGroups {
			d.evictGroups(max(1, maxGroups/64))
		}
		if g.domain != "" {
			g.domain = strings.Clone(g.domain) // not the held record's query string
		}
		d.added++
		x = &dnsGroupHosts{added: d.added, domain: g.domain}
		d.groups[g] = x
	}
	if len(x.hosts) <= limit && !containsKey(x.hosts, host) {
		x.hosts = append(x.hosts, host)
	}
	return len(x.hosts), g
}

// evictGroups forgets the n oldest-added groups: a domain forgotten this
// way is rare again until other hosts ask for it. Only the oldest are ever
// removed, so the groups held were added last: added−len+1 … added.
func (d *dnsTable) evictGroups(n int) {
	cut := d.added - uint32(len(d.groups)) + uint32(n)
	for g, x := range d.groups {
		if x.added <= cut {
			delete(d.groups, g)
			d.m.groupsEvicted.Inc()
		}
	}
}

// makeRoom, with the track table full, drops the tracks far from firing
// (fewer than a quarter of DNSMinUnique subdomains) and reports whether
// that freed at least 1/64 of it; if not, the new track is dropped.
func (d *dnsTable) makeRoom(limit, minUnique int) bool {
	for k, t := range d.tracks {
		if !t.fired && len(t.subs) < max(1, minUnique/4) {
			delete(d.tracks, k)
			d.m.tracksDropped.Inc()
		}
	}
	return len(d.tracks) <= limit-max(1, limit/64)
}

// dnsEvidence returns the track dns_tunnel evidence was raised for, as it
// is now (so the alert counts every query up to its deadline); nil after a
// restart (tracks are not persisted: the evidence's own numbers remain).
func (e *Engine) dnsEvidence(h *host, ev evidence) *dnsTrack {
	k := dnsFiredKey{h.key, ev.at}
	t := e.dns.fired[k]
	delete(e.dns.fired, k)
	return t
}

func hash32(s string) uint32 {
	h := uint32(2166136261) // FNV-1a
	for i := range len(s) {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func containsU32(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsKey(s []addrKey, k addrKey) bool {
	for _, x := range s {
		if x == k {
			return true
		}
	}
	return false
}
