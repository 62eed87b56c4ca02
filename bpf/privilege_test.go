//go:build linux

package bpf

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/outflowhq/outflow/internal/netnstest"
	"golang.org/x/sys/unix"
)

// helperEnv makes TestHelperLoad do its work; unset, it returns at once.
const helperEnv = "OUTFLOW_BPF_HELPER_LOAD"

// TestLoadWithoutPerfmon loads the programs as the sensor runs in
// deployment: an unprivileged user holding only CAP_BPF and CAP_NET_ADMIN
// (no CAP_PERFMON, no CAP_SYS_ADMIN). Without CAP_PERFMON the verifier
// forbids pointer arithmetic on packet pointers with a register operand,
// so this catches a flow.c that only verifies as root.
func TestLoadWithoutPerfmon(t *testing.T) {
	netnstest.RequireRoot(t, "loading as an unprivileged user")

	// go test keeps the binary in a 0700 directory: copy it where uid
	// 65534 can execute it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "bpf.test")
	if err := copyFile(self, bin); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "-test.run", "^TestHelperLoad$", "-test.count", "1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: 65534, Gid: 65534},
		AmbientCaps: []uintptr{unix.CAP_BPF, unix.CAP_NET_ADMIN},
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("load as uid 65534 with CAP_BPF+CAP_NET_ADMIN: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "helper: loaded") {
		t.Fatalf("helper did not run:\n%s", out)
	}
}

// TestHelperLoad is TestLoadWithoutPerfmon's child: it runs only with
// helperEnv set, checks its capabilities and loads the programs.
func TestHelperLoad(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper for TestLoadWithoutPerfmon")
	}
	if uid := os.Geteuid(); uid != 65534 {
		t.Fatalf("helper runs as uid %d, want 65534", uid)
	}
	eff, err := capEff()
	if err != nil {
		t.Fatal(err)
	}
	want := uint64(1)<<unix.CAP_BPF | uint64(1)<<unix.CAP_NET_ADMIN
	if eff != want {
		t.Fatalf("CapEff %#x, want exactly CAP_BPF|CAP_NET_ADMIN (%#x)", eff, want)
	}
	o, err := LoadWith(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	r, err := o.NameEvents()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	fmt.Println("helper: loaded")
}

// capEff is the effective capability set from /proc/self/status.
func capEff() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no CapEff in /proc/self/status")
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
