//go:build linux

package bpf

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// Inject runs the egress program on one Ethernet frame with
// BPF_PROG_TEST_RUN: the kernel counts it exactly as if it had left an
// attached interface, at the current monotonic time. It lets tests and
// benchmarks of the code above the map (the sweeper) use the real program
// and map without a network.
func (o *Objects) Inject(frame []byte) error {
	ret, err := o.objs.FlowEgress.Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		return fmt.Errorf("inject frame: %w", err)
	}
	if int32(ret) != -1 {
		return fmt.Errorf("inject frame: program returned %d, want TCX_NEXT (-1)", int32(ret))
	}
	return nil
}
