//go:build linux

package bpf

import (
	"errors"
	"io"
	"net"
	"os/exec"
	"testing"

	"github.com/outflowhq/outflow/internal/netnstest"
)

// perOp is what the client sends per op, in writes of writeSize.
const (
	perOp     = 16 << 20
	writeSize = 1 << 20
)

// BenchmarkVethTCP is one TCP transfer over a veth pair with and without
// the programs attached to "va" (ingress and egress), so the two results
// give the programs' cost on real traffic. Namespaces, loading and
// attaching are outside the timer.
//
// The gso sub-benchmarks let the sender hand the veth 64 KB segments (the
// usual case on a host); the mtu ones limit the sender to one MSS per
// packet (gso_max_size 1500), so the programs run once per 1,500-byte frame,
// as on a gateway forwarding a wire's traffic without GRO.
func BenchmarkVethTCP(b *testing.B) {
	for _, mtu := range []bool{false, true} {
		name := "gso"
		if mtu {
			name = "mtu"
		}
		b.Run(name+"/detached", func(b *testing.B) { benchVethTCP(b, false, mtu) })
		b.Run(name+"/attached", func(b *testing.B) { benchVethTCP(b, true, mtu) })
	}
}

func benchVethTCP(b *testing.B, attach, mtu bool) {
	tn := netnstest.New(b)
	if mtu {
		for i, dev := range []string{"va", "vb"} {
			if out, err := exec.Command("ip", "-n", tn.NS[i], "link", "set", dev, "gso_max_size", "1500").CombinedOutput(); err != nil {
				b.Fatalf("ip link set %s gso_max_size 1500: %v: %s", dev, err, out)
			}
		}
	}
	var o *Objects
	if attach {
		o = load(b, 0)
	}

	var (
		ln  net.Listener
		c   net.Conn
		err error
	)
	tn.In(b, 0, func() {
		if attach {
			var l io.Closer
			if l, _, err = o.Attach("va"); err != nil {
				return
			}
			b.Cleanup(func() { l.Close() })
		}
		ln, err = net.Listen("tcp4", netnstest.AddrA+":0")
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	served := make(chan error, 1)
	go func() { served <- discard(ln) }()

	tn.In(b, 1, func() {
		c, err = net.Dial("tcp4", ln.Addr().String())
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })

	buf := make([]byte, writeSize)
	reply := make([]byte, 1)
	// One op: perOp bytes out, then the server's one-byte ack, so the timer
	// covers bytes delivered, not bytes left in socket buffers.
	send := func() {
		for sent := 0; sent < perOp; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := io.ReadFull(c, reply); err != nil {
			b.Fatal(err)
		}
	}
	send() // past slow start before the timer starts
	ops := 1
	b.SetBytes(perOp)
	for b.Loop() {
		send()
		ops++
	}

	c.Close()
	if err := <-served; err != nil {
		b.Fatal(err)
	}
	if attach {
		checkCounted(b, o, c, uint64(ops)*perOp)
	}
}

// discard accepts one connection and reads it to the end, acking every
// perOp bytes.
func discard(ln net.Listener) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, writeSize)
	for {
		for n := 0; n < perOp; {
			m, err := c.Read(buf[:min(len(buf), perOp-n)])
			if errors.Is(err, io.EOF) && n == 0 {
				return nil
			}
			if err != nil {
				return err
			}
			n += m
		}
		if _, err := c.Write([]byte{1}); err != nil {
			return err
		}
	}
}

// checkCounted checks that the flow map holds the client's flow with at
// least the payload it sent: proof the attached program saw the transfer.
func checkCounted(b *testing.B, o *Objects, c net.Conn, payload uint64) {
	b.Helper()
	srv, cli := c.RemoteAddr().(*net.TCPAddr), c.LocalAddr().(*net.TCPAddr)
	// AddrA < AddrB, so the server is the lo side and the client hi.
	want := key(6, netnstest.AddrA, uint16(srv.Port), netnstest.AddrB, uint16(cli.Port), 0)
	var (
		got   Value
		found bool
	)
	if err := o.Flows(func(k Key, v Value) {
		if k == want {
			got, found = v, true
		}
	}); err != nil {
		b.Fatal(err)
	}
	if !found {
		b.Fatalf("no flow %+v in the map", want)
	}
	if got.HiBytes < payload {
		b.Fatalf("flow %+v counted %d bytes from the client, sent %d", want, got.HiBytes, payload)
	}
}
