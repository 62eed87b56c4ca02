package scenario

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pkt is one decoded frame of a test capture.
type pkt struct {
	ts               int64
	src, dst         netip.Addr
	sport, dport     uint16
	tcp              bool
	syn, ack         bool
	payload          int // L4 payload length from the IP total length
	dnsQuery         string
	dnsType          layers.DNSType
	dnsIsResponse    bool
	clientHelloBytes []byte // first TCP payload bytes when they start a ClientHello
}

// decodeAll generates cfg (whole frames) and decodes every packet. It
// parses the headers itself: gopacket is too slow for millions of frames
// (TestChecksums and TestDemoIncident check the frames with it).
func decodeAll(t *testing.T, cfg Config) (Truth, []pkt) {
	t.Helper()
	cfg.Snaplen = 65535
	var out []pkt
	truth := generateStream(t, cfg, func(r record) error {
		ip := r.data[ethLen:]
		if binary.BigEndian.Uint16(r.data[12:]) != 0x0800 || ip[0] != 0x45 {
			t.Fatalf("frame without IPv4")
		}
		p := pkt{ts: r.ts, src: netip.AddrFrom4([4]byte(ip[12:16])), dst: netip.AddrFrom4([4]byte(ip[16:20]))}
		total, l4 := int(binary.BigEndian.Uint16(ip[2:])), ip[ipv4Len:]
		p.sport, p.dport = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
		switch ip[9] {
		case protoTCP:
			hdr := int(l4[12]>>4) * 4
			p.tcp, p.syn, p.ack = true, l4[13]&flagSYN != 0, l4[13]&flagACK != 0
			p.payload = total - ipv4Len - hdr
			if pl := l4[hdr:]; len(pl) > 5 && pl[0] == 0x16 && pl[5] == 0x01 {
				p.clientHelloBytes = slices.Clone(pl)
			}
		case protoUDP:
			p.payload = total - ipv4Len - udpLen
			if (p.sport == 53 || p.dport == 53) && p.payload > 12 {
				dns := l4[udpLen:]
				name, ok := dnsName(dns[12:])
				if !ok {
					t.Fatalf("bad DNS name")
				}
				q := dns[12+len(name)+2:]
				p.dnsQuery, p.dnsType, p.dnsIsResponse = name, layers.DNSType(binary.BigEndian.Uint16(q)), dns[2]&0x80 != 0
			}
		default:
			t.Fatalf("protocol %d", ip[9])
		}
		out = append(out, p)
		return nil
	})
	return truth, out
}

// kindConfig is 4 hosts over 3 days from Monday with one incident on
// host 2 on the second day at 10:00.
func kindConfig(inc Incident) Config {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	inc.Host = HostAddr(2)
	inc.At = start.Add(34 * time.Hour)
	return Config{Hosts: 4, Days: 3, Start: start, Seed: 5, SessionsPerHour: 1, Incidents: []Incident{inc}}
}

// conns groups the incident host's TCP packets with remote into
// connections by the host's port, in order of their SYN.
type conn struct {
	synAt       int64
	inbound     bool // the SYN came from the remote
	hostPort    uint16
	out, in     int // payload bytes each way
	first, last int64
	clientHello []byte
	remotePort  uint16
	remote      netip.Addr
}

func connsOf(ps []pkt, host netip.Addr, remote func(netip.Addr) bool) []*conn {
	byKey := map[[2]uint64]*conn{}
	var order []*conn
	for _, p := range ps {
		if !p.tcp {
			continue
		}
		var c *conn
		out := p.src == host && remote(p.dst)
		if !out && !(p.dst == host && remote(p.src)) {
			continue
		}
		hp, rp, r := p.sport, p.dport, p.dst
		if !out {
			hp, rp, r = p.dport, p.sport, p.src
		}
		k := [2]uint64{uint64(hp)<<16 | uint64(rp), uint64(binary.BigEndian.Uint32(r.AsSlice()))}
		if c = byKey[k]; c == nil {
			c = &conn{synAt: p.ts, inbound: !out && p.syn && !p.ack, hostPort: hp, remotePort: rp, remote: r, first: p.ts}
			if !p.syn || p.ack {
				panic("connection without a SYN first")
			}
			byKey[k] = c
			order = append(order, c)
		}
		c.last = p.ts
		if out {
			c.out += p.payload
			if c.clientHello == nil && p.clientHelloBytes != nil {
				c.clientHello = p.clientHelloBytes
			}
		} else {
			c.in += p.payload
		}
	}
	return order
}

func is(a netip.Addr) func(netip.Addr) bool { return func(b netip.Addr) bool { return a == b } }

// checkTruth asserts what holds for every kind: defaults filled, the
// expected detector named, the time range right, background untouched.
func checkTruth(t *testing.T, cfg Config, truth Truth, ps []pkt) IncidentTruth {
	t.Helper()
	it := truth.Incidents[0]
	if !slices.Equal(it.Detectors, Detectors(it.Kind)) || len(it.Detectors) == 0 {
		t.Errorf("detectors %v, want %v", it.Detectors, Detectors(it.Kind))
	}
	if !it.Start.Equal(it.At) || it.End.Before(it.Start) || it.End.After(it.At.Add(it.span())) {
		t.Errorf("incident runs %s–%s, at %s span %s", it.Start, it.End, it.At, it.span())
	}
	without := cfg
	without.Incidents = nil
	without.Snaplen = 65535
	var bg countingWriter
	bgTruth, err := Generate(without, &bg)
	if err != nil {
		t.Fatal(err)
	}
	if got := truth.Packets - bgTruth.Packets; got != it.Packets {
		t.Errorf("incident added %d packets, truth says %d", got, it.Packets)
	}
	if uint64(len(ps)) != truth.Packets {
		t.Errorf("decoded %d packets, truth %d", len(ps), truth.Packets)
	}
	return it
}

const helloAndFinished = 517 + 80

func TestDocuments(t *testing.T) {
	cfg := kindConfig(Incident{Kind: KindDocuments})
	truth, ps := decodeAll(t, cfg)
	it := checkTruth(t, cfg, truth, ps)
	cs := connsOf(ps, it.Host, is(it.Remote))
	if len(cs) != 20 || it.Count != 20 || it.Bytes != 30_000_000 {
		t.Fatalf("%d connections, count %d, bytes %d; want 20 documents of 30 MB", len(cs), it.Count, it.Bytes)
	}
	var out int
	for _, c := range cs {
		out += c.out
		if c.inbound || c.remotePort != 443 || !strings.Contains(string(c.clientHello), it.RemoteName) {
			t.Errorf("connection from port %d: inbound %v, port %d, SNI missing", c.hostPort, c.inbound, c.remotePort)
		}
	}
	if want := int(it.Bytes) + 20*helloAndFinished; out != want || uint64(out) != it.OutPayload {
		t.Errorf("host sent %d bytes of payload (truth %d), want %d", out, it.OutPayload, want)
	}
	checkNewAndRare(t, ps, it)
}

// checkNewAndRare: the remote is named by DNS before the first SYN and no
// other host ever talks to it.
func checkNewAndRare(t *testing.T, ps []pkt, it IncidentTruth) {
	t.Helper()
	named := false
	for _, p := range ps {
		if p.dnsIsResponse && p.dst == it.Host && p.dnsQuery == it.RemoteName && p.ts <= it.First.UnixNano() {
			named = true
		}
		if (p.src == it.Remote || p.dst == it.Remote) && p.src != it.Host && p.dst != it.Host {
			t.Fatalf("another host talks to %s", it.Remote)
		}
		if (p.src == it.Remote || p.dst == it.Remote) && p.ts < it.At.UnixNano() {
			t.Fatalf("the remote is seen before the incident")
		}
	}
	if !named {
		t.Errorf("%s not resolved before the first connection", it.RemoteName)
	}
}

func TestLowAndSlow(t *testing.T) {
	cfg := kindConfig(Incident{Kind: KindLowAndSlow, Count: 100, Bytes: 40_000_000, Duration: 24 * time.Hour})
	truth, ps := decodeAll(t, cfg)
	it := checkTruth(t, cfg, truth, ps)
	cs := connsOf(ps, it.Host, is(it.Remote))
	if len(cs) != 100 {
		t.Fatalf("%d uploads, want 100", len(cs))
	}
	perHour := map[int64]int{}
	var out int
	for _, c := range cs {
		out += c.out
		perHour[c.synAt/int64(time.Hour)] += c.out
	}
	if want := 40_000_000 + 100*helloAndFinished; out != want {
		t.Errorf("sent %d bytes, want %d", out, want)
	}
	if span := time.Duration(cs[len(cs)-1].synAt - cs[0].synAt); span < 20*time.Hour {
		t.Errorf("uploads span %s of 24h", span)
	}
	for h, b := range perHour {
		if b > out/5 {
			t.Errorf("hour %s carries %d of %d bytes: not low and slow", time.Unix(0, h*int64(time.Hour)).UTC(), b, out)
		}
	}
	checkNewAndRare(t, ps, it)
}

func TestP2P(t *testing.T) {
	cfg := kindConfig(Incident{Kind: KindP2P, Count: 40, Bytes: 20_000_000, Duration: time.Hour})
	truth, ps := decodeAll(t, cfg)
	it := checkTruth(t, cfg, truth, ps)
	peerNet := netip.MustParsePrefix("198.19.0.0/16")
	cs := connsOf(ps, it.Host, peerNet.Contains)
	peers := map[netip.Addr]bool{}
	var in, outb, inbound, listen = 0, 0, 0, map[uint16]bool{}
	for _, c := range cs {
		peers[c.remote] = true
		in += c.in
		outb += c.out
		if c.inbound {
			inbound++
			listen[c.hostPort] = true
		}
		if c.remotePort < 1024 || c.hostPort < 1024 {
			t.Errorf("session on a low port: host %d, peer %d", c.hostPort, c.remotePort)
		}
	}
	if len(cs) != 40 || len(peers) != 40 || inbound != 20 || len(listen) != 1 {
		t.Errorf("%d sessions with %d distinct peers, %d inbound to %d ports; want 40, 40, 20 to one", len(cs), len(peers), inbound, len(listen))
	}
	if outb <= in || uint64(outb) < it.Bytes || uint64(in) < it.Bytes/4 || uint64(outb) != it.OutPayload {
		t.Errorf("uploaded %d, downloaded %d (truth %d/%d); want upload ≥ %d > download", outb, in, it.OutPayload, it.InPayload, it.Bytes)
	}
	if it.Remote.IsValid() || it.RemoteName != "" {
		t.Errorf("p2p has remote %s %q", it.Remote, it.RemoteName)
	}
}

func TestInboundPull(t *testing.T) {
	cfg := kindConfig(Incident{Kind: KindInboundPull, Bytes: 30_000_000, Duration: 5 * time.Minute})
	truth, ps := decodeAll(t, cfg)
	it := checkTruth(t, cfg, truth, ps)
	cs := connsOf(ps, it.Host, is(it.Remote))
	if len(cs) != 1 || !cs[0].inbound || cs[0].hostPort != 22 {
		t.Fatalf("want one connection from the remote to port 22, got %+v", cs)
	}
	c := cs[0]
	if c.out < int(it.Bytes) || c.out > int(it.Bytes)+4000 || c.in > 4000 {
		t.Errorf("host sent %d, received %d; want %d out and little in", c.out, c.in, it.Bytes)
	}
	if d := time.Duration(c.last - c.first); d < 5*time.Minute || d > 6*time.Minute {
		t.Errorf("pull lasted %s, want 5 min", d)
	}
}

func TestBeaconUpload(t *testing.T) {
	cfg := kindConfig(Incident{Kind: KindBeaconUpload, Duration: 6 * time.Hour, Interval: 10 * time.Minute, Bytes: 20_000_000})
	truth, ps := decodeAll(t, cfg)
	it := checkTruth(t, cfg, truth, ps)
	cs := connsOf(ps, it.Host, is(it.Remote))
	if it.Count != 36 || len(cs) != 37 {
		t.Fatalf("count %d, %d connections; want 36 beacons and one upload", it.Count, len(cs))
	}
	iv := int64(10 * time.Minute)
	for k, c := range cs {
		if k > 0 && k < len(cs)-1 {
			if gap := c.synAt - cs[k-1].synAt; gap < iv*96/100 || gap > iv*104/100 {
				t.Errorf("beacon %d after %s, want 10 min ± 4 %%", k, time.Duration(gap))
			}
		}
		if k < len(cs)-1 && (c.out < helloAndFinished+180 || c.out >= helloAndFinished+188) {
			t.Errorf("beacon %d sent %d bytes, want %d–%d", k, c.out, helloAndFinished+180, helloAndFinished+187)
		}
	}
	up := cs[len(cs)-1]
	if up.out != int(it.Bytes)+helloAndFinished || up.synAt-cs[len(cs)-2].synAt < iv*9/10 {
		t.Errorf("upload of %d bytes %s after the last beacon; want %d one interval later", up.out, time.Duration(up.synAt-cs[len(cs)-2].synAt), it.Bytes)
	}
}

func TestDNSTunnel(t *testing.T) {
	cfg := kindConfig(Incident{Kind: KindDNSTunnel, Bytes: 100_000, Duration: 30 * time.Minute})
	truth, ps := decodeAll(t, cfg)
	it := checkTruth(t, cfg, truth, ps)
	names := map[string]bool{}
	var data, answers int
	for _, p := range ps {
		if p.src != it.Host && p.dst != it.Host || !strings.HasSuffix(p.dnsQuery, "."+it.RemoteName) {
			continue
		}
		if p.dnsType != layers.DNSTypeTXT || (p.src != ResolverAddr() && p.dst != ResolverAddr()) {
			t.Fatalf("tunnel packet of type %v between %s and %s", p.dnsType, p.src, p.dst)
		}
		if p.dnsIsResponse {
			answers++
			continue
		}
		if names[p.dnsQuery] {
			t.Fatalf("query %s repeated", p.dnsQuery)
		}
		names[p.dnsQuery] = true
		labels := strings.Split(strings.TrimSuffix(p.dnsQuery, "."+it.RemoteName), ".")
		if len(labels) != 2 || len(labels[1]) != 8 {
			t.Fatalf("query %s: want <data>.<sequence>.%s", p.dnsQuery, it.RemoteName)
		}
		b, err := tunnelEncoding.DecodeString(labels[0])
		if err != nil {
			t.Fatalf("query %s: %v", p.dnsQuery, err)
		}
		data += len(b)
	}
	if want := (100_000 + 34) / 35; len(names) != want || answers != want || it.Count != want {
		t.Errorf("%d unique queries, %d answers, count %d; want %d", len(names), answers, it.Count, want)
	}
	if data != 100_000 {
		t.Errorf("queries carry %d bytes, want 100000", data)
	}
	// Every query of the host with that domain is the tunnel's.
	for _, p := range ps {
		if p.src == it.Host && p.dnsQuery != "" && !p.dnsIsResponse && strings.Contains(p.dnsQuery, "metrics") && !names[p.dnsQuery] {
			t.Errorf("stray query %s", p.dnsQuery)
		}
	}
}

func TestLongLived(t *testing.T) {
	cfg := kindConfig(Incident{Kind: KindLongLived, Bytes: 20_000_000, Duration: 3 * time.Hour})
	truth, ps := decodeAll(t, cfg)
	it := checkTruth(t, cfg, truth, ps)
	cs := connsOf(ps, it.Host, is(it.Remote))
	if len(cs) != 1 {
		t.Fatalf("%d connections, want one", len(cs))
	}
	c := cs[0]
	if d := time.Duration(c.last - c.first); d < 170*time.Minute || d > 200*time.Minute {
		t.Errorf("connection lasted %s, want about 3h", d)
	}
	if c.out != int(it.Bytes)+helloAndFinished || c.in > c.out/20 {
		t.Errorf("sent %d, received %d; want %d out, little in", c.out, c.in, int(it.Bytes)+helloAndFinished)
	}
	var prev int64
	for _, p := range ps {
		if p.tcp && (p.src == it.Host && p.dst == it.Remote || p.dst == it.Host && p.src == it.Remote) {
			if prev != 0 && p.ts-prev > int64(2*time.Minute) {
				t.Fatalf("silent for %s: a flow table would expire it", time.Duration(p.ts-prev))
			}
			prev = p.ts
		}
	}
}

// Every kind's defaults are valid and fit the kind's own span.
func TestKindDefaults(t *testing.T) {
	for _, kind := range Kinds() {
		inc := Incident{Kind: kind, Host: HostAddr(0)}
		if kind == KindUpload {
			inc.Bytes = 1 << 20
		}
		got, err := inc.withDefaults(3, 1)
		if err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		if len(Detectors(kind)) == 0 || got.span() < got.Duration {
			t.Errorf("%s: detectors %v, span %s", kind, Detectors(kind), got.span())
		}
	}
	if Detectors("teleport") != nil {
		t.Error("detectors for an unknown kind")
	}
}
