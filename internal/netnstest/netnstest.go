//go:build linux

// Package netnstest gives tests their own network: two network namespaces
// joined by a veth pair, created for the test and deleted when it ends, so
// test traffic never reaches any other address. It also holds the rule for
// tests that need root: they skip without it, and fail when CI=true.
package netnstest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Addresses of the two ends (documentation range, never routed).
const (
	AddrA = "192.0.2.1" // on interface "va" in namespace 0
	AddrB = "192.0.2.2" // on interface "vb" in namespace 1
)

// RequireRoot skips t without root, or fails it when CI=true: CI runs as
// root, so a skip there would hide a test that did not run.
func RequireRoot(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(what + " needs root in CI")
	}
	t.Skip(what + " needs root")
}

// Net is the pair: interface "va" (AddrA/24) in namespace 0, "vb"
// (AddrB/24) in namespace 1. The link carries IPv4 only and needs no ARP.
type Net struct {
	NS [2]string
}

var seq atomic.Int64

// New creates the namespaces and the veth pair; they are deleted in
// t.Cleanup, also when the test fails.
func New(t testing.TB) *Net {
	t.Helper()
	RequireRoot(t, "a network-namespace test")
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("iproute2 (ip) is needed: ", err)
	}
	base := fmt.Sprintf("outflow-%d-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
	n := &Net{NS: [2]string{base + "-a", base + "-b"}}
	t.Cleanup(func() {
		for _, ns := range n.NS {
			exec.Command("ip", "netns", "del", ns).Run() // also removes the veth pair
		}
	})
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", n.NS[0])
	ip("netns", "add", n.NS[1])
	ip("link", "add", "va", "address", MACA, "netns", n.NS[0], "type", "veth", "peer", "name", "vb", "address", MACB, "netns", n.NS[1])
	// A quiet link: no IPv6 (no DAD, router or multicast listener
	// messages) and static neighbours (no ARP), so what crosses it is
	// only what the test sends, and the interfaces' counters are the
	// test's truth.
	for i, dev := range []string{"va", "vb"} {
		n.In(t, i, func() {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+dev+"/disable_ipv6", []byte("1"), 0); err != nil {
				t.Fatal(err)
			}
		})
	}
	ip("-n", n.NS[0], "addr", "add", AddrA+"/24", "dev", "va")
	ip("-n", n.NS[1], "addr", "add", AddrB+"/24", "dev", "vb")
	ip("-n", n.NS[0], "neigh", "replace", AddrB, "lladdr", MACB, "dev", "va", "nud", "permanent")
	ip("-n", n.NS[1], "neigh", "replace", AddrA, "lladdr", MACA, "dev", "vb", "nud", "permanent")
	ip("-n", n.NS[0], "link", "set", "lo", "up")
	ip("-n", n.NS[1], "link", "set", "lo", "up")
	ip("-n", n.NS[0], "link", "set", "va", "up")
	ip("-n", n.NS[1], "link", "set", "vb", "up")
	return n
}

// MAC addresses of the two ends.
const (
	MACA = "02:00:00:00:00:0a"
	MACB = "02:00:00:00:00:0b"
)

// In runs fn on a thread switched into namespace i; sockets and links fn
// creates belong to that namespace.
func (n *Net) In(t testing.TB, i int, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + n.NS[i])
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
