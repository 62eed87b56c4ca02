package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/outflowhq/outflow/internal/netnstest"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// testNet is the test's own network (netnstest): va (192.0.2.1) in
// namespace 0, vb (192.0.2.2) in namespace 1, with the helpers these tests
// share. Test traffic never leaves it.
type testNet struct{ *netnstest.Net }

func newTestNet(t *testing.T) *testNet {
	t.Helper()
	netnstest.RequireRoot(t, "AF_PACKET test")
	return &testNet{netnstest.New(t)}
}

func (n *testNet) open(t *testing.T, cfg AFPacketConfig) Source {
	t.Helper()
	var src Source
	var err error
	n.In(t, 0, func() { src, err = OpenAFPacket(cfg) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// listen opens a UDP socket in ns[0] so test datagrams get no ICMP reply.
func (n *testNet) listen(t *testing.T, addr string) {
	n.In(t, 0, func() {
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	})
}

// send sends count datagrams from each source port in ns[1].
func (n *testNet) send(t *testing.T, dst string, srcPorts []int, count int) {
	n.In(t, 1, func() {
		for _, sp := range srcPorts {
			c, err := net.DialUDP("udp4", &net.UDPAddr{Port: sp}, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(dst)))
			if err != nil {
				t.Fatal(err)
			}
			for i := range count {
				if _, err := fmt.Fprintf(c, "outflow test %d", i); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()
		}
	})
}

// sendTagged writes count hand-made 802.1Q-tagged IPv4/UDP frames to
// port 9999 on vb with a packet socket (VLAN devices need the 8021q
// module, which containers often lack). The receiving veth strips the tag
// before AF_PACKET sees the frame, as a NIC with VLAN offload does.
func (n *testNet) sendTagged(t *testing.T, vlan, srcPort uint16, count int) {
	frame := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2, // broadcast, from a local MAC
		0x81, 0x00, byte(vlan >> 8), byte(vlan), 0x08, 0x00,
		0x45, 0, 0, 36, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1, // IPv4, 36 bytes
		byte(srcPort >> 8), byte(srcPort), 0x27, 0x0f, 0, 16, 0, 0, 'o', 'u', 't', 'f', 'l', 'o', 'w', '!', // UDP to 9999
	}
	n.In(t, 1, func() {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		ifi, err := net.InterfaceByName("vb")
		if err != nil {
			t.Fatal(err)
		}
		to := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
		for range count {
			if err := unix.Sendto(fd, frame, 0, to); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// testUDP parses an Ethernet frame (optionally 802.1Q-tagged) carrying
// IPv4/UDP to port 9999; ok is false for anything else (ARP, IPv6 ND).
func testUDP(data []byte) (vlan uint16, srcPort uint16, ok bool) {
	if len(data) < 14 {
		return 0, 0, false
	}
	eth, rest := binary.BigEndian.Uint16(data[12:14]), data[14:]
	if eth == 0x8100 && len(rest) >= 4 {
		vlan, eth, rest = binary.BigEndian.Uint16(rest[0:2])&0xfff, binary.BigEndian.Uint16(rest[2:4]), rest[4:]
	}
	if eth != 0x0800 || len(rest) < 28 || rest[9] != 17 {
		return 0, 0, false
	}
	udp := rest[int(rest[0]&0xf)*4:]
	if len(udp) < 8 || binary.BigEndian.Uint16(udp[2:4]) != 9999 {
		return 0, 0, false
	}
	return vlan, binary.BigEndian.Uint16(udp[0:2]), true
}

// capture reads from src until total (shared by the sockets of a fanout
// group) reaches want or 5s passed, and counts test datagrams per (VLAN,
// source port).
func capture(t *testing.T, src Source, want int64, total *atomic.Int64) map[[2]uint16]int {
	seen := map[[2]uint16]int{}
	deadline := time.Now().Add(5 * time.Second)
	for total.Load() < want && time.Now().Before(deadline) {
		data, info, err := src.Next()
		if errors.Is(err, ErrTimeout) {
			continue
		}
		if err != nil {
			t.Error(err)
			return seen
		}
		if info.LinkType != layers.LinkTypeEthernet || info.CaptureLen != len(data) || info.WireLen != len(data) {
			t.Errorf("info %+v for a %d-byte frame", info, len(data))
		}
		if d := time.Since(time.Unix(0, info.Timestamp)); d < 0 || d > time.Minute {
			t.Errorf("timestamp %v is %v off", time.Unix(0, info.Timestamp), d)
		}
		if vlan, sp, ok := testUDP(data); ok {
			seen[[2]uint16{vlan, sp}]++
			total.Add(1)
		}
	}
	return seen
}

var testRing = AFPacketConfig{Interface: "va", BlockSize: 1 << 16, NumBlocks: 4, BlockTimeout: 5 * time.Millisecond, PollTimeout: 100 * time.Millisecond}

func TestAFPacket(t *testing.T) {
	n := newTestNet(t)
	src := n.open(t, testRing)
	n.listen(t, "192.0.2.1:9999")
	n.send(t, "192.0.2.1:9999", []int{40001}, 20)
	n.sendTagged(t, 10, 40002, 5)

	seen := capture(t, src, 25, new(atomic.Int64))
	want := map[[2]uint16]int{{0, 40001}: 20, {10, 40002}: 5}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("captured %v, want %v (VLAN, source port: datagrams)", seen, want)
	}
	st := src.Stats()
	if st.Packets < 25 || st.Drops != 0 {
		t.Errorf("stats %+v, want ≥25 packets, no drops", st)
	}
	if src.Kind() != "afpacket" {
		t.Errorf("kind %q", src.Kind())
	}

	// A quiet link: Next gives up after PollTimeout (stray IPv6 neighbour
	// discovery may come first).
	for i := 0; ; i++ {
		_, _, err := src.Next()
		if errors.Is(err, ErrTimeout) {
			break
		}
		if err != nil || i == 50 {
			t.Fatalf("no ErrTimeout on a quiet link after %d frames: %v", i, err)
		}
	}
}

func TestAFPacketFanout(t *testing.T) {
	n := newTestNet(t)
	cfg := testRing
	cfg.Fanout, cfg.FanoutGroup = true, 4242
	srcs := []Source{n.open(t, cfg), n.open(t, cfg)}
	n.listen(t, "192.0.2.1:9999")
	ports := []int{41001, 41002, 41003, 41004, 41005, 41006, 41007, 41008}
	n.send(t, "192.0.2.1:9999", ports, 5)

	// Each socket reads until both together have every datagram.
	var total atomic.Int64
	var wg sync.WaitGroup
	seen := make([]map[[2]uint16]int, len(srcs))
	for i, src := range srcs {
		wg.Go(func() { seen[i] = capture(t, src, 40, &total) })
	}
	wg.Wait()
	sum := 0
	for _, p := range ports {
		k := [2]uint16{0, uint16(p)}
		a, b := seen[0][k], seen[1][k]
		if a+b != 5 || a != 0 && b != 0 {
			t.Errorf("port %d: %d datagrams on socket 0, %d on socket 1; want 5 on one socket", p, a, b)
		}
		sum += a + b
	}
	if sum != 40 {
		t.Errorf("fanout group captured %d datagrams, want 40", sum)
	}
}

// Untagged frames cost no allocation. A VLAN-tagged frame costs gopacket
// two (the frame with its tag put back, and CaptureInfo.AncillaryData);
// this test notices if either grows.
func TestAFPacketAllocs(t *testing.T) {
	n := newTestNet(t)
	src := n.open(t, testRing)
	n.listen(t, "192.0.2.1:9999")
	// Resolve the neighbour first: the kernel queues only a few datagrams
	// while ARP is pending.
	n.send(t, "192.0.2.1:9999", []int{40000}, 1)
	capture(t, src, 1, new(atomic.Int64))
	const frames = 200
	for _, tc := range []struct {
		tagged bool
		most   uint64
	}{{false, frames / 20}, {true, 2*frames + frames/20}} {
		if tc.tagged {
			n.sendTagged(t, 10, 40002, frames)
		} else {
			n.send(t, "192.0.2.1:9999", []int{40001}, frames)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got := 0
		for deadline := time.Now().Add(5 * time.Second); got < frames && time.Now().Before(deadline); {
			data, _, err := src.Next()
			if errors.Is(err, ErrTimeout) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if vlan, _, ok := testUDP(data); ok && vlan == 0 == !tc.tagged {
				got++
			}
		}
		runtime.ReadMemStats(&after)
		if m := after.Mallocs - before.Mallocs; got != frames || m > tc.most {
			t.Errorf("tagged %v: %d allocations for %d frames (want %d frames, at most %d)", tc.tagged, m, got, frames, tc.most)
		}
	}
}
