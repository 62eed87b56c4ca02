//go:build linux

package bpf

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// sensorCaps is the effective capability set the sensor runs with.
const sensorCaps = uint64(1)<<unix.CAP_BPF | uint64(1)<<unix.CAP_NET_ADMIN

// withEffectiveCaps runs fn on a locked OS thread whose effective
// capability set is exactly eff, then restores the thread's set.
// Capabilities are per thread on Linux and cilium/ebpf issues bpf() on the
// calling goroutine's thread, so a LoadWith inside fn is verified as a
// process holding only eff would be: without CAP_PERFMON the verifier
// applies its Spectre mitigations (nospec barriers, no pointer arithmetic
// with a register on packet pointers). The permitted set is kept, so the
// effective set can be raised back. If restoring fails the thread stays
// locked, and Go ends it with the goroutine rather than reuse it.
func withEffectiveCaps(eff uint64, fn func() error) error {
	runtime.LockOSThread()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var old [2]unix.CapUserData
	if err := unix.Capget(&hdr, &old[0]); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("capget: %w", err)
	}
	perm := uint64(old[0].Permitted) | uint64(old[1].Permitted)<<32
	if eff&^perm != 0 {
		runtime.UnlockOSThread()
		return fmt.Errorf("capabilities %#x not permitted (permitted %#x)", eff, perm)
	}
	set := old
	set[0].Effective, set[1].Effective = uint32(eff), uint32(eff>>32)
	if err := unix.Capset(&hdr, &set[0]); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("capset %#x: %w", eff, err)
	}
	ferr := fn()
	if err := unix.Capset(&hdr, &old[0]); err != nil {
		return fmt.Errorf("restore capabilities: %w", err) // thread stays locked: discarded
	}
	runtime.UnlockOSThread()
	return ferr
}

// threadEffectiveCaps is the calling thread's effective set.
func threadEffectiveCaps() (uint64, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var d [2]unix.CapUserData
	if err := unix.Capget(&hdr, &d[0]); err != nil {
		return 0, err
	}
	return uint64(d[0].Effective) | uint64(d[1].Effective)<<32, nil
}

// loadAsSensor loads the programs as the sensor does: with only CAP_BPF
// and CAP_NET_ADMIN effective. Running them (BPF_PROG_TEST_RUN) and
// reading the maps afterwards stays privileged.
func loadAsSensor(t testing.TB, maxFlows uint32) *Objects {
	t.Helper()
	o := loadWithCaps(t, maxFlows, sensorCaps)
	return o
}

func loadWithCaps(t testing.TB, maxFlows uint32, eff uint64) *Objects {
	t.Helper()
	var o *Objects
	err := withEffectiveCaps(eff, func() error {
		got, err := threadEffectiveCaps()
		if err != nil {
			return err
		}
		if got != eff {
			return fmt.Errorf("effective capabilities %#x, want %#x", got, eff)
		}
		o, err = LoadWith(Options{MaxFlows: maxFlows})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// nospecCount is the number of speculation barriers (BPF_ST | BPF_NOSPEC)
// the verifier put into a loaded program, from its translated
// instructions.
func nospecCount(t testing.TB, o *Objects) (nospec, insns int) {
	t.Helper()
	info, err := o.objs.FlowEgress.Info()
	if err != nil {
		t.Fatal(err)
	}
	ins, err := info.Instructions()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		if in.OpCode == asm.OpCode(unix.BPF_ST|0xc0) { // BPF_NOSPEC
			nospec++
		}
	}
	return nospec, len(ins)
}

// TestSensorCapsLoad checks that loadAsSensor really loads without
// CAP_PERFMON: the verifier then inserts speculation barriers that a
// root-loaded program does not have, and the thread's capabilities are
// back to what they were afterwards.
func TestSensorCapsLoad(t *testing.T) {
	root := load(t, 0)
	before, err := threadEffectiveCaps()
	if err != nil {
		t.Fatal(err)
	}
	sensor := loadAsSensor(t, 0)
	after, err := threadEffectiveCaps()
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Errorf("effective capabilities %#x after loadAsSensor, %#x before", after, before)
	}
	// A program only CAP_PERFMON may load (bpf_probe_read_kernel) must
	// fail with the sensor's set and load with the full one.
	if err := withEffectiveCaps(sensorCaps, loadPerfmonProgram); err == nil {
		t.Errorf("a CAP_PERFMON program loaded with only CAP_BPF+CAP_NET_ADMIN effective")
	}
	if err := loadPerfmonProgram(); err != nil {
		t.Errorf("CAP_PERFMON program as root: %v", err)
	}
	rn, ri := nospecCount(t, root)
	sn, si := nospecCount(t, sensor)
	t.Logf("root: %d insns, %d nospec; sensor (CAP_BPF+CAP_NET_ADMIN): %d insns, %d nospec", ri, rn, si, sn)
	if rn != 0 {
		t.Errorf("root-loaded program has %d nospec, want 0", rn)
	}
	if si <= ri {
		t.Logf("sensor-loaded program is not longer than the root-loaded one (no spills left?)")
	}
}

// loadPerfmonProgram loads a socket filter calling bpf_probe_read_kernel,
// which the verifier offers only with CAP_PERFMON.
func loadPerfmonProgram() error {
	p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type:    ebpf.SocketFilter,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, -8),
			asm.Mov.Imm(asm.R2, 8),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnProbeReadKernel.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		},
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return err
	}
	return p.Close()
}
