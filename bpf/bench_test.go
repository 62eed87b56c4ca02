//go:build linux

package bpf

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// BenchmarkProgram is the kernel's cost per packet of an existing flow
// (parse, lookup, atomic adds), timed by BPF_PROG_TEST_RUN's repeat loop.
func BenchmarkProgram(b *testing.B) {
	o := load(b, 0)
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
}
