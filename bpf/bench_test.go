//go:build linux

package bpf

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/internal/netnstest"
	"golang.org/x/sys/unix"
)

// BenchmarkProgram is the kernel's cost per packet: of an existing flow
// (parse, lookup, atomic adds), timed by BPF_PROG_TEST_RUN's repeat loop;
// of a new flow (lookup miss, insert) in "new-flow", the same repeat loop
// over the benchmark build (flowbench, -DFLOWBENCH) that varies the key on
// every run; and in "new-flow-cold" one BPF_PROG_TEST_RUN per new flow
// (repeat 1: the syscall's overhead and cold caches included). It loads
// the programs twice: "root" with every capability, "sensor" as the
// sensor runs, with only CAP_BPF and CAP_NET_ADMIN effective (no
// CAP_PERFMON: the verifier adds its Spectre mitigations). Running them
// stays root.
func BenchmarkProgram(b *testing.B) {
	for _, ld := range []struct {
		name  string
		load  func(testing.TB, uint32) *Objects
		bench func(testing.TB) *Objects
	}{
		{"root", load, func(tb testing.TB) *Objects { return loadBench(tb, 0) }},
		{"sensor", loadAsSensor, func(tb testing.TB) *Objects { return loadBench(tb, sensorCaps) }},
	} {
		b.Run(ld.name, func(b *testing.B) {
			netnstest.RequireRoot(b, "eBPF program benchmarks")
			benchmarkProgram(b, ld.load(b, 0), ld.bench(b))
		})
	}
}

// loadBench loads the benchmark build (flowbench) with the default
// options; eff, when not 0, is the effective capability set to load with.
func loadBench(tb testing.TB, eff uint64) *Objects {
	tb.Helper()
	var o *Objects
	ld := func() (err error) {
		o, err = loadSpecWith(loadFlowbench, Options{})
		return err
	}
	var err error
	if eff != 0 {
		err = withEffectiveCaps(eff, ld)
	} else {
		err = ld()
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { o.Close() })
	return o
}

func benchmarkProgram(b *testing.B, o, bench *Objects) {
	for _, bc := range []struct {
		name  string
		frame []byte
	}{
		{"ipv4-tcp", tcp4(b, "10.0.0.1", "192.0.2.7", 40000, 443, "PA", "hello")},
		{"ipv6-udp", serialize(b, ether(layers.EthernetTypeIPv6), ip6("2001:db8::1", "2001:db8:ffff::2", layers.IPProtocolUDP),
			&layers.UDP{SrcPort: 5353, DstPort: 53}, gopacket.Payload("hi"))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ret, d, err := o.objs.FlowEgress.Benchmark(bc.frame, b.N, b.ResetTimer)
			if err != nil {
				b.Fatal(err)
			}
			if ret != tcxNext {
				b.Fatalf("program returned %d", int32(ret))
			}
			b.ReportMetric(float64(d.Nanoseconds()), "kernel-ns/packet")
		})
	}
	b.Run("new-flow", func(b *testing.B) { benchmarkNewFlowsWarm(b, bench) })
	b.Run("new-flow-cold", func(b *testing.B) { benchmarkNewFlows(b, o) })
}

// benchmarkNewFlowsWarm times new flows in BPF_PROG_TEST_RUN's repeat
// loop: the benchmark build XORs a per-CPU counter into the IPv4 key, so
// every repetition inserts a flow. The map is emptied, outside the timer,
// before it fills.
func benchmarkNewFlowsWarm(b *testing.B, o *Objects) {
	frame := tcp4(b, "10.0.0.1", "192.0.2.7", 40000, 443, "S", "")
	const perRound = DefaultMaxFlows / 2
	// The counter is per CPU: on one CPU only, or two would repeat keys.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpus unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cpus); err != nil {
		b.Fatal(err)
	}
	var one unix.CPUSet
	for i := range 1024 {
		if cpus.IsSet(i) {
			one.Set(i)
			break
		}
	}
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		b.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &cpus)
	clearFlows(b, o)
	var total time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(perRound, b.N-done)
		ret, d, err := o.objs.FlowEgress.Benchmark(frame, n, nil)
		if err != nil {
			b.Fatal(err)
		}
		if ret != tcxNext {
			b.Fatalf("program returned %d", int32(ret))
		}
		total += d * time.Duration(n)
		done += n
		b.StopTimer()
		clearFlows(b, o)
		b.StartTimer()
	}
	b.StopTimer()
	if c, err := o.Counters(); err != nil || c.InsertFailed != 0 || c.Inserts != c.Packets {
		b.Fatalf("counters %+v, %v: want an insert per packet, no failures", c, err)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "kernel-ns/packet")
}

// benchmarkNewFlows runs each packet as a flow of its own: one
// BPF_PROG_TEST_RUN per packet (repeat 1), averaging the durations the
// kernel reports. The source address counts up; the map is emptied,
// outside the timer, before it fills.
func benchmarkNewFlows(b *testing.B, o *Objects) {
	frame := tcp4(b, "10.0.0.1", "192.0.2.7", 40000, 443, "S", "")
	const perRound = DefaultMaxFlows / 2
	var total time.Duration
	for i := range b.N {
		if i > 0 && i%perRound == 0 {
			b.StopTimer()
			clearFlows(b, o)
			b.StartTimer()
		}
		binary.BigEndian.PutUint32(frame[14+12:], 0x0a000000+uint32(i%perRound))
		ret, d, err := o.objs.FlowEgress.Benchmark(frame, 1, nil)
		if err != nil {
			b.Fatal(err)
		}
		if ret != tcxNext {
			b.Fatalf("program returned %d", int32(ret))
		}
		total += d
	}
	b.StopTimer()
	if c, err := o.Counters(); err != nil || c.InsertFailed != 0 {
		b.Fatalf("counters %+v, %v: want no insert failures", c, err)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "kernel-ns/packet")
	clearFlows(b, o)
}

func clearFlows(b *testing.B, o *Objects) {
	clearMap(b, o.objs.Flows4, make([]flowFlowKey4, 4096))
	clearMap(b, o.objs.Flows6, make([]flowFlowKey, 4096))
}

func clearMap[K any](b *testing.B, m *ebpf.Map, keys []K) {
	vals := make([]flowFlowValue, len(keys))
	var cursor ebpf.MapBatchCursor
	for {
		_, err := m.BatchLookupAndDelete(&cursor, keys, vals, nil)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
