package sensor

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/outflowhq/outflow/scenario"
)

// Captures the stage tests build: a synthetic scenario, IP fragments
// interleaved with other traffic and with frames that fail to decode, and
// a link type the decoder does not know.

// scenarioCapture writes a two-day synthetic capture with an upload.
func scenarioCapture(t *testing.T, dir string) string {
	t.Helper()
	cfg := scenario.DemoConfig()
	cfg.Hosts, cfg.Days = 6, 2
	cfg.Incidents[0].Host = scenario.HostAddr(3)
	cfg.Incidents[0].At = cfg.Start.Add(24*time.Hour + 2*time.Hour)
	cfg.Incidents[0].Bytes = 20_000_000
	path := filepath.Join(dir, "scenario.pcap")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scenario.Generate(cfg, fh); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Flows of the fragment capture: UDP datagrams fragmented in IPv4 and
// IPv6, two of them between the same hosts on other ports, interleaved
// with each other and with TCP.
var (
	fragV4A = flowKey{netip.MustParseAddr("10.1.0.5"), 5000, netip.MustParseAddr("198.51.100.7"), 6000}
	fragV4B = flowKey{netip.MustParseAddr("10.1.0.5"), 5001, netip.MustParseAddr("198.51.100.7"), 6001}
	fragV6  = flowKey{netip.MustParseAddr("fd00::5"), 7000, netip.MustParseAddr("2001:db8::9"), 8000}
	fragTCP = flowKey{netip.MustParseAddr("10.1.0.6"), 40000, netip.MustParseAddr("198.51.100.8"), 443}
)

type flowKey struct {
	src     netip.Addr
	srcPort uint16
	dst     netip.Addr
	dstPort uint16
}

func (k flowKey) String() string {
	return netip.AddrPortFrom(k.src, k.srcPort).String() + ">" + netip.AddrPortFrom(k.dst, k.dstPort).String()
}

// fragmentCapture writes the fragment capture (Ethernet, pcap) and returns
// its path.
func fragmentCapture(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "fragments.pcap")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriterNanos(fh)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, f := range fragmentFrames(t) {
		ts := time.Unix(1700000000, 0).Add(time.Duration(i) * 3 * time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(f.data), Length: len(f.data)}, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// fragFrame is a frame of the fragment capture, with the flow its IP bytes
// belong to (ip 0: none).
type fragFrame struct {
	data []byte
	key  flowKey
	ip   int
}

func fragmentFrames(tb testing.TB) []fragFrame {
	ser := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
			tb.Fatal(err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	ethType := func(et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: et}
	}
	// v4 splits one UDP datagram of n payload bytes into 3 fragments.
	v4 := func(k flowKey, id uint16, n int) [][]byte {
		dgram := ser(&layers.UDP{SrcPort: layers.UDPPort(k.srcPort), DstPort: layers.UDPPort(k.dstPort), Length: uint16(8 + n)}, gopacket.Payload(make([]byte, n)))
		var out [][]byte
		for off := 0; off < len(dgram); off += 496 {
			end := min(off+496, len(dgram))
			ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: id, Protocol: layers.IPProtocolUDP,
				SrcIP: k.src.AsSlice(), DstIP: k.dst.AsSlice(), FragOffset: uint16(off / 8)}
			if end < len(dgram) {
				ip.Flags = layers.IPv4MoreFragments
			}
			out = append(out, ser(ethType(layers.EthernetTypeIPv4), ip, gopacket.Payload(dgram[off:end])))
		}
		return out
	}
	v6 := func(k flowKey, id uint32, n int) [][]byte {
		dgram := ser(&layers.UDP{SrcPort: layers.UDPPort(k.srcPort), DstPort: layers.UDPPort(k.dstPort), Length: uint16(8 + n)}, gopacket.Payload(make([]byte, n)))
		var out [][]byte
		for off := 0; off < len(dgram); off += 600 {
			end := min(off+600, len(dgram))
			ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment, SrcIP: k.src.AsSlice(), DstIP: k.dst.AsSlice()}
			fr := &layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: uint16(off / 8), MoreFragments: end < len(dgram), Identification: id}
			out = append(out, ser(ethType(layers.EthernetTypeIPv6), ip, fr, gopacket.Payload(dgram[off:end])))
		}
		return out
	}
	tcp := func(seq uint32) []byte {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: fragTCP.src.AsSlice(), DstIP: fragTCP.dst.AsSlice()}
		tc := &layers.TCP{SrcPort: layers.TCPPort(fragTCP.srcPort), DstPort: layers.TCPPort(fragTCP.dstPort), Seq: seq, ACK: true, Window: 1000}
		if err := tc.SetNetworkLayerForChecksum(ip); err != nil {
			tb.Fatal(err)
		}
		return ser(ethType(layers.EthernetTypeIPv4), ip, tc, gopacket.Payload(make([]byte, 100)))
	}
	ipLen := func(frame []byte) int { return len(frame) - 14 }
	var out []fragFrame
	add := func(k flowKey, f []byte) { out = append(out, fragFrame{f, k, ipLen(f)}) }
	for i := range 40 {
		a := v4(fragV4A, uint16(100+i), 1200+i)
		b := v4(fragV4B, uint16(500+i), 1400)
		c := v6(fragV6, uint32(7000+i), 1500)
		// interleave: A1 B1 T C1 A2 C2 B2 T A3 C3 B3
		add(fragV4A, a[0])
		add(fragV4B, b[0])
		add(fragTCP, tcp(uint32(i)))
		add(fragV6, c[0])
		add(fragV4A, a[1])
		add(fragV6, c[1])
		add(fragV4B, b[1])
		add(fragTCP, tcp(uint32(i)+1000))
		add(fragV4A, a[2])
		add(fragV6, c[2])
		add(fragV4B, b[2])
		if i%10 == 3 {
			// frames that decode with an error, or only in part
			full := tcp(uint32(i) + 2000)
			out = append(out,
				fragFrame{data: ser(ethType(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
					HwAddressSize: 6, ProtAddressSize: 4, SourceHwAddress: make([]byte, 6), SourceProtAddress: make([]byte, 4),
					DstHwAddress: make([]byte, 6), DstProtAddress: make([]byte, 4)})}, // not IP
				fragFrame{data: full[:14+12]}, // cut inside the IPv4 header
				fragFrame{data: append(append([]byte(nil), full[:12]...), append([]byte{0x86, 0xdd, 0x45}, make([]byte, 40)...)...)}, // "IPv6" of version 4
				fragFrame{data: full[:14+20+6], key: fragTCP, ip: len(full) - 14},                                                    // TCP header cut: counts, with ports
			)
		}
	}
	return out
}

// oddLinkCapture writes a capture of a link type the decoder does not know.
func oddLinkCapture(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "odd-link.pcap")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(fh)
	if err := w.WriteFileHeader(65535, layers.LinkType(147)); err != nil { // DLT_USER0
		t.Fatal(err)
	}
	for i := range 5 {
		data := []byte{1, 2, 3, byte(i)}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1700000100, 0), CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
