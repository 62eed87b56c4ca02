package flowtable

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/decode"
)

// Endpoints: C is an internal client, S an external HTTPS server; A and B
// use ports that say nothing about their role.
const (
	C  = "10.0.0.5:40000"
	S  = "93.184.216.34:443"
	A  = "10.0.0.5:5000"
	B  = "203.0.113.9:6000"
	U  = "198.51.100.7:9999"
	C2 = "10.0.0.5:50000"
)

const hour = time.Hour

func TestTable(t *testing.T) {
	noActive := Config{ActiveInterval: hour}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
		want  []want
	}{
		{
			name: "handshake, FIN both ways, closed idle",
			steps: []step{
				tcp(0, C, S, syn, 60), tcp(10, S, C, sa, 60), tcp(20, C, S, ack, 52),
				tcp(30, C, S, pa, 252), tcp(40, S, C, pa, 1500),
				tcp(50, C, S, fa, 52), tcp(60, S, C, fa, 52), tcp(70, C, S, ack, 52),
				// The active export due at 10s waits for the closed timeout,
				// so the final record carries the whole connection. Tick
				// works once per granule (1s here): the expiry due at
				// 10.070s happens at the first Tick of the next granule.
				tick(10_000), tick(10_070), tick(10_999), tick(11_000),
			},
			want: []want{{proto: 6, src: C, dst: S, sp: 5, sb: 468, dp: 3, db: 1612, start: 0, end: 70,
				sf: syn | pa | fin, df: syn | pa | fin, dir: flow.Outbound, syn: true, final: true}},
		},
		{
			name:  "SYN-ACK seen first: its receiver initiated",
			steps: []step{tcp(0, S, C, sa, 60), tcp(10, C, S, ack, 52), tcp(20, C, S, pa, 100), flush()},
			want: []want{{proto: 6, src: C, dst: S, sp: 2, sb: 152, dp: 1, db: 60, end: 20,
				sf: pa, df: sa, dir: flow.Outbound, syn: true, final: true}},
		},
		{
			name:  "mid-stream from a server port: its receiver is the client",
			steps: []step{tcp(0, S, C, pa, 1000), tcp(5, C, S, ack, 52), flush()},
			want: []want{{proto: 6, src: C, dst: S, sp: 1, sb: 52, dp: 1, db: 1000, end: 5,
				sf: ack, df: pa, dir: flow.Outbound, final: true}},
		},
		{
			name:  "mid-stream between client ports: first sender initiated",
			steps: []step{tcp(0, B, A, pa, 100), tcp(1, A, B, ack, 52), flush()},
			want: []want{{proto: 6, src: B, dst: A, sp: 1, sb: 100, dp: 1, db: 52, end: 1,
				sf: pa, df: ack, dir: flow.Inbound, final: true}},
		},
		{
			name:  "SYN after the first packet, before any export, corrects the initiator",
			steps: []step{tcp(0, B, A, ack, 52), tcp(1, A, B, syn, 60), flush()},
			want: []want{{proto: 6, src: A, dst: B, sp: 1, sb: 60, dp: 1, db: 52, end: 1,
				sf: syn, df: ack, dir: flow.Outbound, syn: true, final: true}},
		},
		{
			name:  "SYN after an export does not flip the flow",
			steps: []step{tcp(0, B, A, ack, 52), tick(10_000), tcp(10_001, A, B, syn, 60), flush()},
			want: []want{
				{proto: 6, src: B, dst: A, sp: 1, sb: 52, sf: ack, dir: flow.Inbound},
				{proto: 6, src: B, dst: A, dp: 1, db: 60, start: 10_001, end: 10_001, df: syn, dir: flow.Inbound, final: true},
			},
		},
		{
			name: "RST closes; a new SYN on the tuple starts a new flow",
			steps: []step{
				tcp(0, C, S, syn, 60), tcp(10, S, C, ra, 40),
				tcp(1000, C, S, syn, 60), tcp(1010, S, C, sa, 60), flush(),
			},
			want: []want{
				{proto: 6, src: C, dst: S, sp: 1, sb: 60, dp: 1, db: 40, end: 10, sf: syn, df: ra, dir: flow.Outbound, syn: true, final: true},
				{proto: 6, src: C, dst: S, sp: 1, sb: 60, dp: 1, db: 60, start: 1000, end: 1010, fstart: 1000, sf: syn, df: sa, dir: flow.Outbound, syn: true, final: true},
			},
		},
		{
			name: "FIN both ways closes; port reuse starts a new flow",
			steps: []step{
				tcp(0, C, S, syn, 60), tcp(1, S, C, sa, 60), tcp(2, C, S, fa, 52), tcp(3, S, C, fa, 52), tcp(4, C, S, ack, 52),
				tcp(500, C, S, syn, 60), flush(),
			},
			want: []want{
				{proto: 6, src: C, dst: S, sp: 3, sb: 164, dp: 2, db: 112, end: 4, sf: syn | fa, df: sa | fin, dir: flow.Outbound, syn: true, final: true},
				{proto: 6, src: C, dst: S, sp: 1, sb: 60, start: 500, end: 500, fstart: 500, sf: syn, dir: flow.Outbound, syn: true, final: true},
			},
		},
		{
			name:  "retransmitted SYN on an open flow stays in the flow",
			steps: []step{tcp(0, C, S, syn, 60), tcp(1000, C, S, syn, 60), flush()},
			want:  []want{{proto: 6, src: C, dst: S, sp: 2, sb: 120, end: 1000, sf: syn, dir: flow.Outbound, syn: true, final: true}},
		},
		{
			name:  "FIN from one side only keeps the TCP idle timeout",
			cfg:   noActive,
			steps: []step{tcp(0, C, S, fa, 52), tick(20_000), tick(299_000), tick(300_000)},
			want:  []want{{proto: 6, src: C, dst: S, sp: 1, sb: 52, sf: fa, dir: flow.Outbound, final: true}},
		},
		{
			name:  "UDP idle timeout counts from the last packet",
			cfg:   noActive,
			steps: []step{udp(0, C2, U, 100), udp(30_000, U, C2, 200), tick(60_000), tick(89_999), tick(90_000)},
			want:  []want{{proto: 17, src: C2, dst: U, sp: 1, sb: 100, dp: 1, db: 200, end: 30_000, dir: flow.Outbound, final: true}},
		},
		{
			name:  "TCP idle timeout",
			cfg:   noActive,
			steps: []step{tcp(0, C, S, pa, 100), tick(299_999), tick(300_000)},
			want:  []want{{proto: 6, src: C, dst: S, sp: 1, sb: 100, sf: pa, dir: flow.Outbound, final: true}},
		},
		{
			name: "ICMP idle timeout",
			cfg:  noActive,
			steps: []step{addPkt(pk(0, "10.0.0.5:0", "8.8.8.8:0", 1, 0, 84)), addPkt(pk(1, "8.8.8.8:0", "10.0.0.5:0", 1, 0, 84)),
				tick(60_000), tick(61_000)},
			want: []want{{proto: 1, src: "10.0.0.5:0", dst: "8.8.8.8:0", sp: 1, sb: 84, dp: 1, db: 84, end: 1, dir: flow.Outbound, final: true}},
		},
		{
			name:  "other protocol idle timeout",
			cfg:   noActive,
			steps: []step{addPkt(pk(0, "203.0.113.1:0", "10.0.0.5:0", 47, 0, 500)), tick(59_000), tick(60_000)},
			want:  []want{{proto: 47, src: "203.0.113.1:0", dst: "10.0.0.5:0", sp: 1, sb: 500, dir: flow.Inbound, final: true}},
		},
		{
			name:  "RST-closed flow expires after the closed timeout",
			cfg:   noActive,
			steps: []step{tcp(0, C, S, syn, 60), tcp(1, S, C, ra, 40), tick(10_000), tick(11_000)},
			want:  []want{{proto: 6, src: C, dst: S, sp: 1, sb: 60, dp: 1, db: 40, end: 1, sf: syn, df: ra, dir: flow.Outbound, syn: true, final: true}},
		},
		{
			name: "eviction of the least recently seen flow when full",
			cfg:  Config{MaxFlows: 2},
			steps: []step{
				udp(0, C2, "198.51.100.1:9999", 100), udp(1, C2, "198.51.100.2:9999", 100),
				udp(2, C2, "198.51.100.1:9999", 100), udp(3, C2, "198.51.100.3:9999", 100), flush(),
			},
			want: []want{
				{proto: 17, src: C2, dst: "198.51.100.2:9999", sp: 1, sb: 100, start: 1, end: 1, fstart: 1, dir: flow.Outbound, final: true},
				{proto: 17, src: C2, dst: "198.51.100.1:9999", sp: 2, sb: 200, end: 2, dir: flow.Outbound, final: true},
				{proto: 17, src: C2, dst: "198.51.100.3:9999", sp: 1, sb: 100, start: 3, end: 3, fstart: 3, dir: flow.Outbound, final: true},
			},
		},
		{
			name: "IPv6 handshake",
			steps: []step{
				tcp(0, "[fd00::5]:40000", "[2001:db8::1]:443", syn, 80), tcp(1, "[2001:db8::1]:443", "[fd00::5]:40000", sa, 80),
				tcp(2, "[fd00::5]:40000", "[2001:db8::1]:443", ack, 72), flush(),
			},
			want: []want{{proto: 6, src: "[fd00::5]:40000", dst: "[2001:db8::1]:443", sp: 2, sb: 152, dp: 1, db: 80, end: 2,
				sf: syn | ack, df: sa, dir: flow.Outbound, syn: true, final: true}},
		},
		{
			name:  "VLANs separate flows with the same tuple",
			steps: []step{udp(0, C2, U, 100, vlan(10)), udp(1, C2, U, 200, vlan(20)), udp(2, U, C2, 300, vlan(10)), flush()},
			want: []want{
				{proto: 17, vlan: 20, src: C2, dst: U, sp: 1, sb: 200, start: 1, end: 1, fstart: 1, dir: flow.Outbound, final: true},
				{proto: 17, vlan: 10, src: C2, dst: U, sp: 1, sb: 100, dp: 1, db: 300, end: 2, dir: flow.Outbound, final: true},
			},
		},
		{
			name: "direction of each combination",
			steps: []step{
				udp(0, "10.0.0.5:5000", "8.8.8.8:6000", 10), udp(1, "8.8.8.8:5000", "10.0.0.5:6000", 20),
				udp(2, "10.0.0.5:5000", "192.168.1.1:6000", 30), udp(3, "1.1.1.1:5000", "8.8.4.4:6000", 40), flush(),
			},
			want: []want{
				{proto: 17, src: "10.0.0.5:5000", dst: "8.8.8.8:6000", sp: 1, sb: 10, dir: flow.Outbound, final: true},
				{proto: 17, src: "8.8.8.8:5000", dst: "10.0.0.5:6000", sp: 1, sb: 20, start: 1, end: 1, fstart: 1, dir: flow.Inbound, final: true},
				{proto: 17, src: "10.0.0.5:5000", dst: "192.168.1.1:6000", sp: 1, sb: 30, start: 2, end: 2, fstart: 2, dir: flow.Internal, final: true},
				{proto: 17, src: "1.1.1.1:5000", dst: "8.8.4.4:6000", sp: 1, sb: 40, start: 3, end: 3, fstart: 3, dir: flow.External, final: true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := run(t, tc.cfg, nil, tc.steps)
			checkRecords(t, got, tc.want)
		})
	}
}

func TestActiveIntervalDeltasSumToTotals(t *testing.T) {
	var steps []step
	for s := int64(0); s < 25; s++ {
		steps = append(steps, udp(s*1000, C2, U, 100), udp(s*1000, U, C2, 50), tick(s*1000))
	}
	// The last packets are exported when due (30s); the idle timeout at
	// 84s then has nothing left to send, so no record says Final.
	steps = append(steps, tick(29_000), tick(30_000), tick(84_000))
	tb, got := run(t, Config{}, nil, steps)
	checkRecords(t, got, []want{
		{proto: 17, src: C2, dst: U, sp: 11, sb: 1100, dp: 11, db: 550, end: 10_000, dir: flow.Outbound},
		{proto: 17, src: C2, dst: U, sp: 10, sb: 1000, dp: 10, db: 500, start: 11_000, end: 20_000, dir: flow.Outbound},
		{proto: 17, src: C2, dst: U, sp: 4, sb: 400, dp: 4, db: 200, start: 21_000, end: 24_000, dir: flow.Outbound},
	})
	if n := tb.Stats().Entries; n != 0 {
		t.Errorf("%d entries left after the idle timeout", n)
	}
	var sp, sb uint64
	for _, r := range got {
		sp += r.SrcPackets + r.DstPackets
		sb += r.SrcBytes + r.DstBytes
	}
	st := tb.Stats()
	if sp != st.Packets || sb != st.Bytes || sp != 50 {
		t.Errorf("deltas sum to %d packets %d bytes, table counted %d / %d", sp, sb, st.Packets, st.Bytes)
	}
}

func TestStats(t *testing.T) {
	tb, _ := run(t, Config{MaxFlows: 2}, nil, []step{
		udp(0, C2, "198.51.100.1:9999", 100), udp(1, C2, "198.51.100.2:9999", 100), udp(2, C2, "198.51.100.3:9999", 100),
		tcp(3, C, S, syn, 60), tcp(4, S, C, ra, 40), tcp(5, C, S, syn, 60), tick(70_000),
	})
	got := tb.Stats()
	want := Stats{Entries: 1, Capacity: 2, Created: 5, Evictions: 2, Expired: 1, Closed: 1, Reused: 1,
		Packets: 6, Bytes: 460, Records: 5}
	if got != want {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
	// The remaining flow's SYN went out in an active export at 70s.
	tb.Flush()
	if s := tb.Stats(); s.Entries != 0 || s.Flushed != 1 || s.Records != 5 {
		t.Errorf("after flush: %+v", s)
	}
}

// fakeNamer learns "DNS" payloads as a DNS answer and returns the name
// after "SNI:" in a payload.
type fakeNamer struct {
	dns      map[netip.Addr]string
	observed int
}

func (n *fakeNamer) Observe(p *decode.Packet) string {
	n.observed++
	if string(p.Payload) == "DNS" {
		n.dns[netip.MustParseAddr("93.184.216.34")] = "dns.example"
	}
	if name, ok := bytes.CutPrefix(p.Payload, []byte("SNI:")); ok {
		return string(name)
	}
	return ""
}

func (n *fakeNamer) Lookup(a netip.Addr) string { return n.dns[a] }

func TestNames(t *testing.T) {
	namer := &fakeNamer{dns: map[netip.Addr]string{netip.MustParseAddr("8.8.8.8"): "dns.google"}}
	const D = "8.8.8.8:53"
	_, got := run(t, Config{}, namer, []step{
		// The DNS answer teaches the namer S's name before the connection.
		udp(0, C2, D, 60), udp(1, D, C2, 120, payload("DNS")),
		tcp(100, C, S, syn, 60), tcp(110, S, C, sa, 60), tcp(120, C, S, ack, 52),
		// Payloads from the responder never go to Observe.
		tcp(125, S, C, pa, 100, payload("SNI:wrong.example")),
		tcp(130, C, S, pa, 300, payload("SNI:sni.example")),
		// An initiator without SNI or Host is observed at most maxObserve times.
		tcp(200, A, B, syn, 60),
		tcp(201, A, B, pa, 100, payload("x")), tcp(202, A, B, pa, 100, payload("x")), tcp(203, A, B, pa, 100, payload("x")),
		tcp(204, A, B, pa, 100, payload("x")), tcp(205, A, B, pa, 100, payload("x")), tcp(206, A, B, pa, 100, payload("x")),
		flush(),
	})
	checkRecords(t, got, []want{
		{proto: 17, src: C2, dst: D, sp: 1, sb: 60, dp: 1, db: 120, end: 1, dir: flow.Outbound, final: true, dname: "dns.google"},
		{proto: 6, src: C, dst: S, sp: 3, sb: 412, dp: 2, db: 160, start: 100, end: 130, fstart: 100, sf: syn | pa, df: sa | pa,
			dir: flow.Outbound, syn: true, final: true, dname: "sni.example"},
		{proto: 6, src: A, dst: B, sp: 7, sb: 660, start: 200, end: 206, fstart: 200, sf: syn | pa, dir: flow.Outbound, syn: true, final: true},
	})
	// 1 DNS response + 1 SNI + maxObserve for A→B.
	if want := 2 + maxObserve; namer.observed != want {
		t.Errorf("Observe called %d times, want %d", namer.observed, want)
	}
}

// TestReusedPacket checks that a decoder reusing its Packet for an IPv4
// packet after an IPv6 one (stale bytes 4..15) still finds the flow.
func TestReusedPacket(t *testing.T) {
	var n int
	tb := New(Config{}, nil, nil, func(*flow.Record) { n++ })
	p := pk(0, C2, U, protoUDP, 0, 100)
	tb.Add(p)
	copy(p.Src[4:], "stale bytes!")
	copy(p.Dst[4:], "stale bytes!")
	p.Timestamp++
	tb.Add(p)
	tb.Flush()
	if n != 1 || tb.Stats().Created != 1 {
		t.Errorf("got %d records, %d flows, want 1", n, tb.Stats().Created)
	}
}
