//go:build linux

package sweep

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/bpf"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/internal/netnstest"
	"github.com/outflowhq/outflow/sensor/flowtable"
)

// load loads the kernel programs (root; fails without it when CI=true).
func load(t testing.TB, maxFlows uint32) *bpf.Objects {
	t.Helper()
	netnstest.RequireRoot(t, "the sweeper's tests (they load the eBPF programs)")
	o, err := bpf.LoadWith(bpf.Options{MaxFlows: maxFlows})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

var mac = net.HardwareAddr{2, 0, 0, 0, 0, 1}

// frame is an Ethernet/IPv4 frame with a TCP (flags "SAFRP") or UDP
// (flags "udp") header and payload.
func frame(t testing.TB, src string, sport uint16, dst string, dport uint16, flags string, payload int) []byte {
	t.Helper()
	return framePayload(t, src, sport, dst, dport, flags, make([]byte, payload))
}

// framePayload is frame with the given payload bytes.
func framePayload(t testing.TB, src string, sport uint16, dst string, dport uint16, flags string, payload []byte) []byte {
	t.Helper()
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
	var l4 gopacket.SerializableLayer
	if flags == "udp" {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		u.SetNetworkLayerForChecksum(ip)
		l4 = u
	} else {
		ip.Protocol = layers.IPProtocolTCP
		tc := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Window: 1024}
		for _, f := range flags {
			switch f {
			case 'S':
				tc.SYN = true
			case 'A':
				tc.ACK = true
			case 'F':
				tc.FIN = true
			case 'R':
				tc.RST = true
			case 'P':
				tc.PSH = true
			}
		}
		tc.SetNetworkLayerForChecksum(ip)
		l4 = tc
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true},
		&layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}, ip, l4,
		gopacket.Payload(payload))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func inject(t testing.TB, o *bpf.Objects, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		if err := o.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
}

// recorder keeps copies of emitted records.
type recorder struct{ recs []flow.Record }

func (r *recorder) emit(rec *flow.Record) { r.recs = append(r.recs, *rec) }

func (r *recorder) take() []flow.Record {
	out := r.recs
	r.recs = nil
	return out
}

const offset = int64(1_700_000_000_000_000_000) // wall = monotonic + offset in these tests

func wall(mono uint64) time.Time { return time.Unix(0, int64(mono)+offset).UTC() }

// kernelTimes reads the flow's first and last time from the map.
func kernelTimes(t *testing.T, o *bpf.Objects) map[uint16][2]uint64 {
	t.Helper()
	out := map[uint16][2]uint64{}
	if _, err := o.ReadFlows(func(k *bpf.Key, v *bpf.Value) {
		out[min(k.LoPort, k.HiPort)] = [2]uint64{v.FirstNs, v.LastNs}
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustPass(t *testing.T, s *Sweeper, now uint64, flush bool) {
	t.Helper()
	if err := s.PassAt(now, offset, flush); err != nil {
		t.Fatal(err)
	}
}

// TestTCPFlowLifecycle follows one TCP connection: a delta after the
// active interval, nothing before it, a second delta with only the new
// packets, and the final delta once the connection closed and the closed
// timeout passed, which also removes it from the kernel map.
func TestTCPFlowLifecycle(t *testing.T) {
	o := load(t, 0)
	var rec recorder
	s := New(Config{}, o, nil, rec.emit)
	const (
		cli = "10.1.2.3"
		srv = "203.0.113.9"
	)
	inject(t, o,
		frame(t, cli, 40000, srv, 443, "S", 0),
		frame(t, srv, 443, cli, 40000, "SA", 0),
		frame(t, cli, 40000, srv, 443, "A", 0),
		frame(t, cli, 40000, srv, 443, "PA", 1000),
		frame(t, srv, 443, cli, 40000, "A", 0),
	)
	times := kernelTimes(t, o)[443]
	first, last := times[0], times[1]

	mustPass(t, s, first+uint64(9*time.Second), false) // not due yet
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("records before the active interval: %+v", got)
	}
	at := first + uint64(10*time.Second)
	mustPass(t, s, at, false)
	want := flow.Record{
		Proto: 6, SrcAddr: netip.MustParseAddr(cli), DstAddr: netip.MustParseAddr(srv), SrcPort: 40000, DstPort: 443,
		SrcPackets: 3, DstPackets: 2, SrcBytes: 40 + 40 + 1040, DstBytes: 40 + 40,
		Start: wall(first), End: wall(last), FlowStart: wall(first),
		SrcFlags: 0x02 | 0x10 | 0x08, DstFlags: 0x02 | 0x10,
		Direction: flow.Outbound, InitiatorFromSYN: true,
	}
	got := rec.take()
	if len(got) != 1 || got[0] != want {
		t.Fatalf("first delta:\n got %+v\nwant %+v", got, want)
	}

	inject(t, o,
		frame(t, cli, 40000, srv, 443, "PA", 500),
		frame(t, cli, 40000, srv, 443, "FA", 0),
		frame(t, srv, 443, cli, 40000, "FA", 0),
		frame(t, cli, 40000, srv, 443, "A", 0),
	)
	last2 := kernelTimes(t, o)[443][1]
	mustPass(t, s, last2+uint64(10*time.Second)-1, false) // closed, but neither due nor past the closed timeout
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("records before the closed timeout: %+v", got)
	}
	mustPass(t, s, last2+uint64(10*time.Second), false)
	want.SrcPackets, want.DstPackets, want.SrcBytes, want.DstBytes = 3, 1, 540+40+40, 40
	// The delta starts at the pass that read the previous one, here a
	// pass dated in the future: clamped to the delta's last packet.
	want.Start, want.End = wall(min(at, last2)), wall(last2)
	want.SrcFlags, want.DstFlags = 0x02|0x10|0x08|0x01, 0x02|0x10|0x01
	want.Final = true
	got = rec.take()
	if len(got) != 1 || got[0] != want {
		t.Fatalf("final delta:\n got %+v\nwant %+v", got, want)
	}
	if n, _ := o.ReadFlows(func(*bpf.Key, *bpf.Value) {}); n != 0 {
		t.Errorf("%d flows left in the map after the closed timeout", n)
	}
	st := s.Stats()
	if st.Created != 1 || st.Expired != 1 || st.Records != 2 || st.Packets != 9 || st.Entries != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestUDPOrientationAndIdle: a DNS answer seen before its query still
// makes the client the initiator (the packet path's rule), and an idle
// UDP flow ends after the other-protocols timeout.
func TestUDPOrientationAndIdle(t *testing.T) {
	o := load(t, 0)
	var rec recorder
	s := New(Config{FlowTable: flowtable.Config{OtherIdle: 30 * time.Second}}, o, nil, rec.emit)
	inject(t, o,
		frame(t, "198.51.100.53", 53, "10.0.0.7", 51000, "udp", 60),
		frame(t, "10.0.0.7", 51000, "198.51.100.53", 53, "udp", 30),
	)
	tm := kernelTimes(t, o)[53]
	mustPass(t, s, tm[1]+uint64(30*time.Second)-1, false)
	if got := rec.take(); len(got) != 1 || got[0].Final {
		t.Fatalf("at the active interval: %+v, want one non-final delta", got)
	}
	mustPass(t, s, tm[1]+uint64(30*time.Second), false)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("idle flow with nothing new emitted %+v", got)
	}
	if n, _ := o.ReadFlows(func(*bpf.Key, *bpf.Value) {}); n != 0 {
		t.Fatalf("idle flow still in the map")
	}
	inject(t, o, frame(t, "198.51.100.53", 53, "10.0.0.7", 51000, "udp", 60))
	tm = kernelTimes(t, o)[53]
	mustPass(t, s, tm[1]+uint64(30*time.Second), false)
	got := rec.take()
	want := flow.Record{
		Proto: 17, SrcAddr: netip.MustParseAddr("10.0.0.7"), DstAddr: netip.MustParseAddr("198.51.100.53"),
		SrcPort: 51000, DstPort: 53, DstPackets: 1, DstBytes: 88,
		Start: wall(tm[0]), End: wall(tm[1]), FlowStart: wall(tm[0]), Direction: flow.Outbound, Final: true,
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("answer-only flow:\n got %+v\nwant %+v", got, want)
	}
}

// TestFlushAndEviction: a flushing pass empties the map; a nearly full
// map loses its least recently active flows first.
func TestFlushAndEviction(t *testing.T) {
	o := load(t, 16)
	var rec recorder
	s := New(Config{}, o, nil, rec.emit)
	for i := range 15 {
		inject(t, o, frame(t, "10.0.0.1", uint16(1000+i), "192.0.2.1", 80, "udp", 10))
		time.Sleep(11 * time.Millisecond) // a tick apart (HZ >= 100): their times differ
	}
	now := Monotonic()
	mustPass(t, s, now, false)
	got := rec.take()
	// 15 of 16 is past 90%: down to 80% (12), the three oldest go.
	if len(got) != 3 {
		t.Fatalf("evicted %d flows, want 3: %+v", len(got), got)
	}
	for i, r := range got {
		if r.SrcPort != uint16(1000+i) || !r.Final || r.SrcPackets != 1 {
			t.Errorf("eviction %d: %+v, want the flow from port %d, final", i, r, 1000+i)
		}
	}
	if st := s.Stats(); st.Evictions != 3 || st.Entries != 12 {
		t.Errorf("stats %+v, want 3 evictions and 12 entries", st)
	}
	mustPass(t, s, now, true)
	if got := rec.take(); len(got) != 12 {
		t.Fatalf("flush emitted %d records, want 12", len(got))
	}
	if n, _ := o.ReadFlows(func(*bpf.Key, *bpf.Value) {}); n != 0 {
		t.Errorf("%d flows left after flush", n)
	}
}
