// Package bpf is the gateway sensor's kernel side: a TCX program on
// ingress and egress of an interface that counts every packet into one
// map entry per bidirectional flow (canonical key, per-direction packets,
// IP bytes and TCP flags, first/last time, initiator), plus per-CPU
// counters for what it could not count. It owns the C source, the
// bpf2go output committed beside it, loading, attaching and reading the
// maps. It must not interpret flows (direction, export, timeouts): that is
// sensor/'s job; user space also owns deleting finished flows.
package bpf
