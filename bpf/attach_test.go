//go:build linux

package bpf

import (
	"github.com/outflowhq/outflow/internal/netnstest"
	"io"
	"net"
	"net/netip"
	"testing"

)

// TestAttachCountsVethTraffic attaches to a veth and counts real UDP and
// TCP traffic sent from the peer namespace.
func TestAttachCountsVethTraffic(t *testing.T) {
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
		l, mode, err = o.Attach("va")
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
	defer l.Close()
	defer udp.Close()
	defer tcp.Close()
	if mode != ModeTCX {
		t.Errorf("mode %q, want %q", mode, ModeTCX)
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
}
