//go:build linux

package bpf

import (
	"testing"
	"time"
)

// TestLastTimes: a flow's first and last times, counted in jiffies by the
// kernel, come back as CLOCK_MONOTONIC within one tick of their packets,
// and the tick measured is one Linux is built with.
func TestLastTimes(t *testing.T) {
	o := load(t, 64)
	frame := udp4(t, "10.0.0.1", "192.0.2.1", 40000, 53, "q")
	before := monotonic(t)
	run(t, o.objs.FlowEgress, frame)
	after := monotonic(t)
	time.Sleep(300 * time.Millisecond)
	before2 := monotonic(t)
	run(t, o.objs.FlowEgress, frame)
	after2 := monotonic(t)

	got := map[Key]Value{}
	if _, err := o.ReadFlows(func(k *Key, v *Value) { got[*k] = *v }); err != nil {
		t.Fatal(err)
	}
	v, ok := got[key(17, "10.0.0.1", 40000, "192.0.2.1", 53, 0)]
	if !ok || len(got) != 1 {
		t.Fatalf("flows %v", got)
	}
	tick := uint64(o.clk.tick)
	hz := 1e9 / o.clk.tick
	if !(hz == 100 || hz == 250 || hz == 300 || hz == 1000) {
		t.Errorf("measured HZ %.1f, want one of 100, 250, 300, 1000 (x86 kernels)", hz)
	}
	if v.FirstNs+tick < before || v.FirstNs > after+tick {
		t.Errorf("first %d not within a tick (%d ns) of the first packet's run [%d, %d]", v.FirstNs, tick, before, after)
	}
	if v.LastNs+tick < before2 || v.LastNs > after2+tick {
		t.Errorf("last %d not within a tick (%d ns) of the second packet's run [%d, %d]", v.LastNs, tick, before2, after2)
	}
	if v.LoPackets+v.HiPackets != 2 {
		t.Errorf("packets %d, want 2", v.LoPackets+v.HiPackets)
	}
}
