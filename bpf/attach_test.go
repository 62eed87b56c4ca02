//go:build linux

package bpf

import (
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/internal/netnstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestAttachCountsVethTraffic attaches to a veth and counts real UDP and
// TCP traffic sent from the peer namespace.
func TestAttachCountsVethTraffic(t *testing.T) {
	for _, mode := range []Mode{ModeTCX, ModeTC} {
		t.Run(string(mode), func(t *testing.T) { testAttach(t, mode) })
	}
}

func testAttach(t *testing.T, want Mode) {
	o := load(t, 0)
	tn := netnstest.New(t)

	var (
		l    io.Closer
		mode Mode
		err  error
		udp  net.PacketConn
		tcp  net.Listener
	)
	tn.In(t, 0, func() {
		l, mode, err = o.AttachMode("va", want)
		if err != nil {
			return
		}
		if udp, err = net.ListenPacket("udp4", "192.0.2.1:9000"); err != nil {
			return
		}
		tcp, err = net.Listen("tcp4", "192.0.2.1:8080")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	defer tcp.Close()
	if mode != want {
		t.Errorf("mode %q, want %q", mode, want)
	}
	if n := attached(t, tn, want); n != 2 {
		t.Errorf("%d programs attached to va, want 2", n)
	}

	accepted := make(chan error, 1)
	go func() {
		c, err := tcp.Accept()
		if err == nil {
			_, err = io.ReadAll(c)
			c.Close()
		}
		accepted <- err
	}()

	tn.In(t, 1, func() {
		var c net.Conn
		c, err = net.DialUDP("udp4", &net.UDPAddr{Port: 5000}, net.UDPAddrFromAddrPort(netip.MustParseAddrPort("192.0.2.1:9000")))
		if err != nil {
			return
		}
		for range 3 {
			if _, err = c.Write([]byte("outflow")); err != nil {
				return
			}
		}
		c.Close()
		if c, err = net.Dial("tcp4", "192.0.2.1:8080"); err != nil {
			return
		}
		_, err = c.Write([]byte("hello"))
		c.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}

	got := map[Key]Value{}
	if err := o.Flows(func(k Key, v Value) { got[k] = v }); err != nil {
		t.Fatal(err)
	}
	u := got[key(17, "192.0.2.1", 9000, "192.0.2.2", 5000, 0)]
	if u.HiPackets != 3 || u.HiBytes != 3*(20+8+7) || u.LoPackets != 0 {
		t.Errorf("UDP flow %+v, want 3 packets of 35 bytes from the hi side", u)
	}
	var tc *Value
	for k, v := range got {
		if k.Proto == 6 && k.LoPort == 8080 {
			tc = &v
		}
	}
	if tc == nil {
		t.Fatalf("no TCP flow in %v", got)
	}
	if tc.Initiator != SideHi || tc.HiFlags&(syn|fin) != syn|fin || tc.LoFlags&(syn|ack) != syn|ack || tc.HiPackets < 3 || tc.LoPackets < 2 {
		t.Errorf("TCP flow %+v, want a handshake and close initiated by the hi side", *tc)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := attached(t, tn, want); n != 0 {
		t.Errorf("%d programs still attached to va after Close", n)
	}
}

// attached counts Outflow's programs on va, as the kernel lists them.
func attached(t *testing.T, tn *netnstest.Net, mode Mode) int {
	n := 0
	tn.In(t, 0, func() {
		if mode == ModeTC {
			names, err := TCFilters("va")
			if err != nil {
				t.Fatal(err)
			}
			n = len(names)
			return
		}
		var err error
		if n, err = TCXPrograms("va"); err != nil {
			t.Fatal(err)
		}
	})
	return n
}

// TestAttachTCReplacesStaleFilters: legacy tc filters outlive a crashed
// sensor; the next attach replaces them instead of adding a second pair,
// and a foreign filter at Outflow's priority is refused, not replaced.
func TestAttachTCReplacesStaleFilters(t *testing.T) {
	o := load(t, 0)
	tn := netnstest.New(t)
	tn.In(t, 0, func() {
		stale, _, err := o.AttachMode("va", ModeTC)
		if err != nil {
			t.Fatal(err)
		}
		_ = stale // not closed: what a crash leaves
		l, _, err := o.AttachMode("va", ModeTC)
		if err != nil {
			t.Fatal("attach over stale filters: ", err)
		}
		names, err := TCFilters("va")
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != 2 {
			t.Errorf("filters after re-attach: %v, want one ingress and one egress", names)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}

		iface, _ := net.InterfaceByName("va")
		foreign := &netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{LinkIndex: iface.Index, Parent: netlink.HANDLE_MIN_EGRESS,
				Handle: tcHandle, Priority: tcPriority, Protocol: unix.ETH_P_ALL},
			Fd: o.objs.FlowEgress.FD(), Name: "someone_else", DirectAction: true,
		}
		if err := netlink.FilterAdd(foreign); err != nil {
			t.Fatal(err)
		}
		_, _, err = o.AttachMode("va", ModeTC)
		if err == nil || !strings.Contains(err.Error(), "another filter holds priority") {
			t.Errorf("attach over a foreign filter: %v, want a refusal", err)
		}
		if names, _ := TCFilters("va"); len(names) != 0 {
			t.Errorf("refused attach left filters %v", names)
		}
	})
}
