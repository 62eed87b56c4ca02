//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/outflowhq/outflow/bpf"
	"github.com/outflowhq/outflow/internal/netnstest"
	"golang.org/x/sys/unix"
)

// unitCapabilities reads the capabilities deploy/outflow-sensor.service
// grants, so this test runs the sensor with exactly those.
func unitCapabilities(t *testing.T) []uintptr {
	t.Helper()
	unit, err := os.ReadFile("../../deploy/outflow-sensor.service")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]uintptr{"CAP_BPF": unix.CAP_BPF, "CAP_NET_ADMIN": unix.CAP_NET_ADMIN, "CAP_PERFMON": unix.CAP_PERFMON}
	var ambient, bounding string
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "AmbientCapabilities="); ok {
			ambient = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "CapabilityBoundingSet="); ok {
			bounding = v
		}
	}
	if ambient == "" || ambient != bounding {
		t.Fatalf("unit: AmbientCapabilities %q and CapabilityBoundingSet %q must be set and equal", ambient, bounding)
	}
	var caps []uintptr
	for _, name := range strings.Fields(ambient) {
		c, ok := byName[name]
		if !ok {
			t.Fatalf("unit grants %s, which this test does not know", name)
		}
		caps = append(caps, c)
	}
	return caps
}

// TestEBPFSensorLeastPrivilege runs `outflow sensor -ebpf va` as an
// unprivileged user holding only the capabilities the systemd unit
// grants, checks through its /metrics that it attached and exported the
// test's flow, then kills it with SIGKILL and checks that the kernel
// released its programs: a crashed sensor leaves nothing attached.
func TestEBPFSensorLeastPrivilege(t *testing.T) {
	caps := unitCapabilities(t)
	tn := netnstest.New(t)

	// The test binary plays outflow; the unprivileged user must be able
	// to run it and to write its flow lines.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "outflow")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}

	// Short intervals so the flow is exported within a second.
	conf := filepath.Join(dir, "outflow.yaml")
	if err := os.WriteFile(conf, []byte("sensor:\n  flowtable:\n    active_interval: 1s\n  export:\n    interval: 250ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const metricsAddr = "127.0.0.1:9199"
	cmd := exec.Command(bin, "sensor", "-config", conf, "-id", "captest", "-ebpf", "va", "-nats", "nats://127.0.0.1:1",
		"-internal", netnstest.AddrA+"/32", "-listen", metricsAddr)
	cmd.Env = append(os.Environ(), "OUTFLOW_TEST_MAIN=1", "HOME="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: 65534, Gid: 65534},
		AmbientCaps: caps,
		Pdeathsig:   syscall.SIGKILL,
	}
	// Started from a thread inside namespace 0, the sensor lives there.
	tn.In(t, 0, func() { err = cmd.Start() })
	if err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	if got := procCaps(t, cmd.Process.Pid); got != capMask(caps) {
		t.Errorf("sensor's effective capabilities %#x, want %#x", got, capMask(caps))
	}

	scrape := func() map[string]float64 {
		var m map[string]float64
		tn.In(t, 0, func() { m = scrapeMetrics(metricsAddr) })
		return m
	}
	waitFor(t, &stderr, func() bool { return scrape()[`outflow_sensor_ebpf_attached{interface="va",mode="tcx"}`] == 1 })
	if n := attachedPrograms(t, tn); n != 2 {
		t.Fatalf("%d programs attached to va, want 2", n)
	}

	// One UDP datagram from the peer; a sweep exports it a second later.
	tn.In(t, 0, func() {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp4", netnstest.AddrA+":9000"); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	tn.In(t, 1, func() {
		var c net.Conn
		if c, err = net.Dial("udp4", netnstest.AddrA+":9000"); err == nil {
			_, err = c.Write([]byte("least privilege"))
			c.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, &stderr, func() bool {
		m := scrape()
		return m["outflow_sensor_flow_records_total"] >= 1 && m["outflow_sensor_packets_total"] >= 1
	})

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true
	deadline := time.Now().Add(5 * time.Second)
	for attachedPrograms(t, tn) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("programs still attached to va after the sensor was killed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func capMask(caps []uintptr) uint64 {
	var m uint64
	for _, c := range caps {
		m |= 1 << c
	}
	return m
}

// procCaps reads a process's effective capability set.
func procCaps(t *testing.T, pid int) uint64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no CapEff in /proc/PID/status")
	return 0
}

func attachedPrograms(t *testing.T, tn *netnstest.Net) int {
	n := 0
	tn.In(t, 0, func() {
		var err error
		if n, err = bpf.TCXPrograms("va"); err != nil {
			t.Fatal(err)
		}
	})
	return n
}

// scrapeMetrics reads /metrics at addr into name{labels} → value; nil
// when the page cannot be read (yet). It dials on the calling thread (an
// http.Client would dial from another one, outside the test's namespace).
func scrapeMetrics(addr string) map[string]float64 {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(conn, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

func waitFor(t *testing.T, stderr *bytes.Buffer, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; sensor's log:\n%s", stderr.String())
		}
	}
}
