// Package sweep is the user-space half of the eBPF gateway sensor: it
// reads the kernel's flow map (bpf/) on every export interval and turns
// each flow's cumulative counters into the delta records the packet path
// emits (flow.Record), with the same timeouts, orientation, direction and
// names, so everything after it (export, wire, collector) cannot tell the
// sources apart.
//
// What differs from the packet path, by construction:
//   - A delta's flags are those the flow has seen so far, not only in the
//     delta: the kernel keeps one OR per side.
//   - A delta's Start is the later of the flow's first packet and the
//     pass that read the previous delta: the kernel keeps no per-delta
//     first time.
//   - A TCP tuple reused within the closed timeout (10 s) stays one flow:
//     the kernel adds to the existing entry.
//   - Non-first IP fragments are a flow of their own with ports 0 (the
//     program keeps no fragment table).
package sweep
