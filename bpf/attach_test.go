//go:build linux

package bpf

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// vethPair makes two network namespaces joined by a veth pair: va
// (192.0.2.1) in the first, vb (192.0.2.2) in the second, and returns
// their names. Test traffic never leaves them.
func vethPair(t *testing.T) [2]string {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("iproute2 (ip) is needed: ", err)
	}
	base := fmt.Sprintf("outflow-bpf-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	ns := [2]string{base + "-a", base + "-b"}
	t.Cleanup(func() {
		for _, n := range ns {
			exec.Command("ip", "netns", "del", n).Run() // also removes the veth pair
		}
	})
	for _, args := range [][]string{
		{"netns", "add", ns[0]},
		{"netns", "add", ns[1]},
		{"link", "add", "va", "netns", ns[0], "type", "veth", "peer", "name", "vb", "netns", ns[1]},
		{"-n", ns[0], "addr", "add", "192.0.2.1/24", "dev", "va"},
		{"-n", ns[1], "addr", "add", "192.0.2.2/24", "dev", "vb"},
		{"-n", ns[0], "link", "set", "va", "up"},
		{"-n", ns[1], "link", "set", "vb", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return ns
}

// inNetns runs fn on a thread switched into the named namespace.
func inNetns(t *testing.T, name string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal("setns: ", err)
	}
	fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal("setns back: ", err) // the thread stays locked and dies with the goroutine
	}
	runtime.UnlockOSThread()
}

// TestAttachCountsVethTraffic attaches to a veth and counts real UDP and
// TCP traffic sent from the peer namespace.
func TestAttachCountsVethTraffic(t *testing.T) {
	o := load(t, 0)
	ns := vethPair(t)

	var (
		l    io.Closer
		mode Mode
		err  error
		udp  net.PacketConn
		tcp  net.Listener
	)
	inNetns(t, ns[0], func() {
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

	inNetns(t, ns[1], func() {
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
