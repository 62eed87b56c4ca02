package flowtable

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/flow"
)

// dnsMsg is a DNS message asking name (TXT); response sets QR.
func dnsMsg(name string, response bool) string {
	msg := []byte{0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	if response {
		msg[2] |= 0x80
	}
	for _, l := range strings.Split(name, ".") {
		msg = append(msg, byte(len(l)))
		msg = append(msg, l...)
	}
	return string(append(msg, 0, 0, 16, 0, 1))
}

// TestQuery: the flow table records the name a DNS client asks, from its
// query; a socket asking several names is cut into one delta per name;
// other flows, responses and packets of the server carry none.
func TestQuery(t *testing.T) {
	const (
		H1  = "10.0.0.5:50001"
		H2  = "10.0.0.6:5353"
		H3  = "10.0.0.7:40000"
		R   = "10.0.0.53:53"
		NTP = "203.0.113.1:123"
	)
	q := func(name string) pktOpt { return payload(dnsMsg(name, false)) }
	r := func(name string) pktOpt { return payload(dnsMsg(name, true)) }
	tcpQ := func(name string) pktOpt {
		m := dnsMsg(name, false)
		return payload(string(binary.BigEndian.AppendUint16(nil, uint16(len(m)))) + m)
	}
	namer := &fakeNamer{}
	tb, got := run(t, Config{}, namer, []step{
		// One query, one answer: the usual stub resolver.
		udp(0, H1, R, 70, q("WWW.Example.COM")), udp(1, R, H1, 120, r("www.example.com")),
		// NTP and a flow the server starts carry no query.
		udp(2, H1, NTP, 76, payload("\x23\x00\x00\x00")),
		// One socket, three names: a retransmission stays in its delta,
		// every new name cuts one.
		udp(10, H2, R, 90, q("aaaa.t.example")), udp(11, R, H2, 130, r("aaaa.t.example")),
		udp(20, H2, R, 90, q("aaaa.t.example")),
		udp(30, H2, R, 90, q("bbbb.t.example")), udp(31, R, H2, 130, r("bbbb.t.example")),
		udp(40, H2, R, 90, q("cccc.t.example")),
		// A response sent to port 53 is not a query.
		udp(50, H1, "10.0.0.54:53", 90, r("not.a.query")),
		// DNS over TCP: the first message of the connection.
		tcp(60, H3, R, syn, 60), tcp(61, R, H3, sa, 60), tcp(62, H3, R, pa, 100, tcpQ("tcp.example.org")),
		flush(),
	})
	checkRecords(t, got, []want{
		{proto: 17, src: H2, dst: R, sp: 2, sb: 180, dp: 1, db: 130, start: 10, end: 20, fstart: 10, dir: flow.Internal, query: "aaaa.t.example"},
		{proto: 17, src: H2, dst: R, sp: 1, sb: 90, dp: 1, db: 130, start: 30, end: 31, fstart: 10, dir: flow.Internal, query: "bbbb.t.example"},
		{proto: 17, src: H1, dst: R, sp: 1, sb: 70, dp: 1, db: 120, start: 0, end: 1, dir: flow.Internal, final: true, query: "www.example.com"},
		{proto: 17, src: H1, dst: NTP, sp: 1, sb: 76, start: 2, end: 2, fstart: 2, dir: flow.Outbound, final: true},
		{proto: 17, src: H2, dst: R, sp: 1, sb: 90, start: 40, end: 40, fstart: 10, dir: flow.Internal, final: true, query: "cccc.t.example"},
		{proto: 17, src: H1, dst: "10.0.0.54:53", sp: 1, sb: 90, start: 50, end: 50, fstart: 50, dir: flow.Internal, final: true},
		{proto: 6, src: H3, dst: R, sp: 2, sb: 160, dp: 1, db: 60, start: 60, end: 62, fstart: 60, sf: syn | pa, df: sa,
			dir: flow.Internal, syn: true, final: true, query: "tcp.example.org"},
	})
	if s := tb.Stats(); s.Queries != 5 {
		t.Errorf("queries recorded: %d, want 5", s.Queries)
	}

	// Without a Namer (names off) nothing is parsed.
	_, got = run(t, Config{}, nil, []step{udp(0, H1, R, 70, q("www.example.com")), flush()})
	if len(got) != 1 || got[0].Query != "" {
		t.Errorf("without a namer: %+v", got)
	}
}

// TestQuerySplitsBounded: a socket asking a new name in every packet cuts
// at most maxQuerySplits deltas until its next active export.
func TestQuerySplitsBounded(t *testing.T) {
	var steps []step
	for i := range 300 {
		steps = append(steps, udp(int64(i), "10.0.0.6:5353", "10.0.0.53:53", 90, payload(dnsMsg(strings.Repeat("a", 1+i%60)+".x"+string(rune('a'+i/60))+".example", false))))
	}
	_, got := run(t, Config{}, &fakeNamer{}, append(steps, flush()))
	if len(got) != maxQuerySplits+1 {
		t.Fatalf("%d records, want %d", len(got), maxQuerySplits+1)
	}
	if last := got[len(got)-1]; last.SrcPackets != 300-maxQuerySplits || !last.Final {
		t.Errorf("last delta %d packets final=%v, want %d final", last.SrcPackets, last.Final, 300-maxQuerySplits)
	}
}
