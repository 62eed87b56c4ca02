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
// (AddrB/24) in namespace 1.
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
	for _, args := range [][]string{
		{"netns", "add", n.NS[0]},
		{"netns", "add", n.NS[1]},
		{"link", "add", "va", "netns", n.NS[0], "type", "veth", "peer", "name", "vb", "netns", n.NS[1]},
		{"-n", n.NS[0], "addr", "add", AddrA + "/24", "dev", "va"},
		{"-n", n.NS[1], "addr", "add", AddrB + "/24", "dev", "vb"},
		{"-n", n.NS[0], "link", "set", "va", "up"},
		{"-n", n.NS[1], "link", "set", "vb", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return n
}

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
