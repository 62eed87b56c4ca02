//go:build linux

package bpf

import (
	"github.com/outflowhq/outflow/internal/netnstest"
	"net"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tcxNext is TCX_NEXT (-1) as BPF_PROG_TEST_RUN returns it.
const tcxNext = ^uint32(0)

// load loads the programs, or skips the test without root (fails in CI).
func load(t testing.TB, maxFlows uint32) *Objects {
	t.Helper()
	netnstest.RequireRoot(t, "eBPF program tests")
	o, err := LoadMaxFlows(maxFlows)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func run(t testing.TB, prog *ebpf.Program, frame []byte) {
	t.Helper()
	ret, err := prog.Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if ret != tcxNext {
		t.Fatalf("program returned %d, want TCX_NEXT", int32(ret))
	}
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

var mac = net.HardwareAddr{0, 1, 2, 3, 4, 5}

func ether(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: t}
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto,
		SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func ip6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next,
		SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

// tcp4 is an Ethernet/IPv4/TCP frame; flags name the TCP flags set.
func tcp4(t testing.TB, src, dst string, sport, dport uint16, flags string, payload string) []byte {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Window: 1024}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'P':
			tcp.PSH = true
		}
	}
	return serialize(t, ether(layers.EthernetTypeIPv4), ip4(src, dst, layers.IPProtocolTCP), tcp, gopacket.Payload(payload))
}

func udp4(t testing.TB, src, dst string, sport, dport uint16, payload string) []byte {
	return serialize(t, ether(layers.EthernetTypeIPv4), ip4(src, dst, layers.IPProtocolUDP),
		&layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}, gopacket.Payload(payload))
}

func key(proto uint8, lo string, loPort uint16, hi string, hiPort uint16, vlan uint16) Key {
	return Key{LoAddr: netip.MustParseAddr(lo), LoPort: loPort, HiAddr: netip.MustParseAddr(hi), HiPort: hiPort, Proto: proto, VLAN: vlan}
}

// flows reads the map, checks the times and zeroes them for comparison.
func flows(t *testing.T, o *Objects) map[Key]Value {
	t.Helper()
	got := map[Key]Value{}
	err := o.Flows(func(k Key, v Value) {
		if v.FirstNs == 0 || v.LastNs < v.FirstNs {
			t.Errorf("%v: first %d last %d", k, v.FirstNs, v.LastNs)
		}
		v.FirstNs, v.LastNs = 0, 0
		got[k] = v
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

const (
	fin = 0x01
	syn = 0x02
	psh = 0x08
	ack = 0x10
)

func TestProgramCountsFlows(t *testing.T) {
	o := load(t, 0)
	in, out := o.objs.FlowIngress, o.objs.FlowEgress

	// A TCP connection from 10.0.0.1:40000 (lo) to 192.0.2.7:443 (hi),
	// seen on both hooks: handshake, data, close.
	run(t, out, tcp4(t, "10.0.0.1", "192.0.2.7", 40000, 443, "S", ""))
	run(t, in, tcp4(t, "192.0.2.7", "10.0.0.1", 443, 40000, "SA", ""))
	run(t, out, tcp4(t, "10.0.0.1", "192.0.2.7", 40000, 443, "PA", "hello"))
	run(t, in, tcp4(t, "192.0.2.7", "10.0.0.1", 443, 40000, "FA", ""))
	// SYN from the hi side: the hi side initiates.
	run(t, in, tcp4(t, "192.0.2.9", "10.0.0.1", 50000, 22, "S", ""))
	// Only the SYN-ACK seen: its receiver (hi) initiated.
	run(t, out, tcp4(t, "10.0.0.5", "198.51.100.1", 80, 33000, "SA", ""))

	// IPv6/UDP, one packet each way.
	run(t, out, serialize(t, ether(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8:ffff::2", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 5353, DstPort: 53}, gopacket.Payload("hi")))
	run(t, in, serialize(t, ether(layers.EthernetTypeIPv6), ip6("2001:db8:ffff::2", "2001:db8::1", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 53, DstPort: 5353}, gopacket.Payload("answer")))
	// IPv6 with a hop-by-hop header (8 bytes: next UDP, length 0, PadN).
	hbh := []byte{17, 0, 1, 4, 0, 0, 0, 0}
	udp := serialize(t, &layers.UDP{SrcPort: 1000, DstPort: 2000, Length: 9}, gopacket.Payload("x"))
	run(t, out, serialize(t, ether(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolIPv6HopByHop),
		gopacket.Payload(append(hbh, udp...))))

	// IPv6 fragments: the first (fragment header, then UDP) has ports, a
	// later one (offset 64) has none. ICMPv6 echo gets pseudo-ports 128/129.
	udp = serialize(t, &layers.UDP{SrcPort: 3000, DstPort: 4000, Length: 11}, gopacket.Payload("abc"))
	run(t, out, serialize(t, ether(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolIPv6Fragment),
		gopacket.Payload(append([]byte{17, 0, 0x00, 0x01, 0, 0, 0, 9}, udp...))))
	run(t, out, serialize(t, ether(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolIPv6Fragment),
		gopacket.Payload(append([]byte{17, 0, 0x00, 0x40, 0, 0, 0, 9}, "0123456789"...))))
	run(t, out, serialize(t, ether(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolICMPv6),
		gopacket.Payload([]byte{128, 0, 0, 0, 0, 1, 0, 1})))

	// 802.1Q tag 100, and QinQ (outer 200, inner 300): the outermost id counts.
	run(t, out, serialize(t, ether(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4},
		ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolUDP), &layers.UDP{SrcPort: 1000, DstPort: 2000}, gopacket.Payload("x")))
	run(t, out, serialize(t, ether(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 300, Type: layers.EthernetTypeIPv4},
		ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolUDP), &layers.UDP{SrcPort: 1000, DstPort: 2000}, gopacket.Payload("x")))

	// ICMP echo and reply share a flow through the pseudo-ports 8 <-> 0.
	run(t, out, serialize(t, ether(layers.EthernetTypeIPv4), ip4("10.0.0.1", "192.0.2.7", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 1}, gopacket.Payload("ping")))
	run(t, in, serialize(t, ether(layers.EthernetTypeIPv4), ip4("192.0.2.7", "10.0.0.1", layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(0, 0), Id: 1, Seq: 1}, gopacket.Payload("ping")))

	// An IPv4 first fragment (ports) and a later one (no ports: ports 0).
	first := ip4("10.0.0.1", "192.0.2.7", layers.IPProtocolUDP)
	first.Flags = layers.IPv4MoreFragments
	run(t, out, serialize(t, ether(layers.EthernetTypeIPv4), first,
		&layers.UDP{SrcPort: 7000, DstPort: 8000, Length: 34}, gopacket.Payload("0123456789abcdef")))
	later := ip4("10.0.0.1", "192.0.2.7", layers.IPProtocolUDP)
	later.FragOffset = 3
	run(t, out, serialize(t, ether(layers.EthernetTypeIPv4), later, gopacket.Payload("0123456789")))

	// Cut inside the IPv4 header: a parse error, no flow. BPF_PROG_TEST_RUN
	// rejects an untagged IPv4 frame shorter than an IPv4 header, so the
	// cut frame is VLAN-tagged (the kernel does not look past the tag).
	tagged := serialize(t, ether(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4},
		ip4("10.0.0.1", "192.0.2.7", layers.IPProtocolUDP), &layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload("x"))
	run(t, out, tagged[:14+4+10])
	// An IPv4 header length below 20 bytes: invalid, no flow.
	bad := udp4(t, "10.0.0.1", "192.0.2.7", 1, 2, "x")
	bad[14] = 0x44
	run(t, out, bad)
	// Cut inside the TCP header: counted with ports 0.
	run(t, out, tcp4(t, "10.0.0.3", "192.0.2.7", 1234, 80, "A", "")[:14+20+2])
	// IPv4 total length 0 (BIG TCP, GSO): the bytes from the IP header on.
	big := udp4(t, "192.0.2.8", "10.0.0.1", 9, 9, "longer than Ethernet padding")
	big[16], big[17] = 0, 0
	run(t, in, big)
	// ARP: not IP.
	run(t, in, serialize(t, ether(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet,
		Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
		SourceHwAddress: mac, SourceProtAddress: []byte{10, 0, 0, 1}, DstHwAddress: mac, DstProtAddress: []byte{10, 0, 0, 2}}))

	want := map[Key]Value{
		key(6, "10.0.0.1", 40000, "192.0.2.7", 443, 0): {LoPackets: 2, LoBytes: 40 + 45, HiPackets: 2, HiBytes: 80,
			LoFlags: syn | ack | psh, HiFlags: syn | ack | fin, Initiator: SideLo, FirstSender: SideLo},
		key(6, "10.0.0.1", 22, "192.0.2.9", 50000, 0):           {HiPackets: 1, HiBytes: 40, HiFlags: syn, Initiator: SideHi, FirstSender: SideHi},
		key(6, "10.0.0.5", 80, "198.51.100.1", 33000, 0):        {LoPackets: 1, LoBytes: 40, LoFlags: syn | ack, Initiator: SideHi, FirstSender: SideLo},
		key(17, "2001:db8::1", 5353, "2001:db8:ffff::2", 53, 0): {LoPackets: 1, LoBytes: 50, HiPackets: 1, HiBytes: 54, FirstSender: SideLo},
		key(17, "2001:db8::1", 1000, "2001:db8::2", 2000, 0):    {LoPackets: 1, LoBytes: 40 + 8 + 9, FirstSender: SideLo},
		key(17, "2001:db8::1", 3000, "2001:db8::2", 4000, 0):    {LoPackets: 1, LoBytes: 40 + 8 + 8 + 3, FirstSender: SideLo},
		key(17, "2001:db8::1", 0, "2001:db8::2", 0, 0):          {LoPackets: 1, LoBytes: 40 + 8 + 10, FirstSender: SideLo},
		key(58, "2001:db8::1", 128, "2001:db8::2", 129, 0):      {LoPackets: 1, LoBytes: 48, FirstSender: SideLo},
		key(17, "10.0.0.1", 1000, "10.0.0.2", 2000, 100):        {LoPackets: 1, LoBytes: 29, FirstSender: SideLo},
		key(17, "10.0.0.1", 1000, "10.0.0.2", 2000, 200):        {LoPackets: 1, LoBytes: 29, FirstSender: SideLo},
		key(1, "10.0.0.1", 8, "192.0.2.7", 0, 0):                {LoPackets: 1, LoBytes: 32, HiPackets: 1, HiBytes: 32, FirstSender: SideLo},
		key(17, "10.0.0.1", 7000, "192.0.2.7", 8000, 0):         {LoPackets: 1, LoBytes: 44, FirstSender: SideLo},
		key(17, "10.0.0.1", 0, "192.0.2.7", 0, 0):               {LoPackets: 1, LoBytes: 30, FirstSender: SideLo},
		key(6, "10.0.0.3", 0, "192.0.2.7", 0, 0):                {LoPackets: 1, LoBytes: 40, FirstSender: SideLo},
		key(17, "10.0.0.1", 9, "192.0.2.8", 9, 0):               {HiPackets: 1, HiBytes: 20 + 8 + 28, FirstSender: SideHi},
	}
	got := flows(t, o)
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("missing flow %+v", k)
		} else if g != w {
			t.Errorf("flow %+v:\n got %+v\nwant %+v", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected flow %+v: %+v", k, g)
		}
	}

	c, err := o.Counters()
	if err != nil {
		t.Fatal(err)
	}
	// The DNS answer from port 53 is also a name event.
	wantC := Counters{Packets: 23, NotIP: 1, Truncated: 2, TransportTruncated: 1, Fragments: 2, Inserts: uint64(len(want)), NameEvents: 1}
	if c != wantC {
		t.Errorf("counters\n got %+v\nwant %+v", c, wantC)
	}
}

func TestFullMapCountsInsertFailures(t *testing.T) {
	o := load(t, 4)
	for port := range uint16(5) {
		run(t, o.objs.FlowEgress, udp4(t, "10.0.0.1", "192.0.2.7", 1000+port, 53, "x"))
	}
	// An existing flow is still counted when the map is full.
	run(t, o.objs.FlowIngress, udp4(t, "192.0.2.7", "10.0.0.1", 53, 1000, "y"))

	got := flows(t, o)
	if len(got) != 4 {
		t.Errorf("%d flows, want 4", len(got))
	}
	if v := got[key(17, "10.0.0.1", 1000, "192.0.2.7", 53, 0)]; v.HiPackets != 1 {
		t.Errorf("reply not counted in a full map: %+v", v)
	}
	c, err := o.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c.InsertFailed != 1 || c.Inserts != 4 || c.Packets != 6 {
		t.Errorf("counters %+v, want 1 insert failure, 4 inserts, 6 packets", c)
	}

	// After the sweeper deletes a flow there is room again.
	if err := o.Delete(key(17, "10.0.0.1", 1000, "192.0.2.7", 53, 0)); err != nil {
		t.Fatal(err)
	}
	run(t, o.objs.FlowEgress, udp4(t, "10.0.0.1", "192.0.2.7", 2000, 53, "x"))
	if c, _ := o.Counters(); c.InsertFailed != 1 || c.Inserts != 5 {
		t.Errorf("after delete: counters %+v, want 5 inserts", c)
	}
}
