//go:build linux

package bpf

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/internal/netnstest"
)

// BenchmarkProgram is the kernel's cost per packet: of an existing flow
// (parse, lookup, atomic adds), timed by BPF_PROG_TEST_RUN's repeat loop,
// and of a new flow (lookup miss, insert) in "new-flow". It loads the
// programs twice: "root" with every capability, "sensor" as the sensor
// runs, with only CAP_BPF and CAP_NET_ADMIN effective (no CAP_PERFMON:
// the verifier adds its Spectre mitigations). Running them stays root.
func BenchmarkProgram(b *testing.B) {
	for _, ld := range []struct {
		name string
		load func(testing.TB, uint32) *Objects
	}{
		{"root", load},
		{"sensor", loadAsSensor},
	} {
		b.Run(ld.name, func(b *testing.B) {
			netnstest.RequireRoot(b, "eBPF program benchmarks")
			benchmarkProgram(b, ld.load(b, 0))
		})
	}
}

func benchmarkProgram(b *testing.B, o *Objects) {
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
	b.Run("new-flow", func(b *testing.B) { benchmarkNewFlows(b, o) })
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
	var keys []flowFlowKey
	var k flowFlowKey
	var v flowFlowValue
	it := o.objs.Flows.Iterate()
	for it.Next(&k, &v) {
		keys = append(keys, k)
	}
	if err := it.Err(); err != nil {
		b.Fatal(err)
	}
	for i := range keys {
		if err := o.objs.Flows.Delete(&keys[i]); err != nil {
			b.Fatal(err)
		}
	}
}
