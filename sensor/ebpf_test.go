//go:build linux

package sensor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/internal/netnstest"
	"github.com/vishvananda/netlink"
)

const (
	upload   = 10 << 20 // bytes the internal host sends
	download = 1 << 20  // bytes it receives
)

// liveSensor is a sensor.Run in namespace 0 of a test network.
type liveSensor struct {
	out  bytes.Buffer
	set  *metrics.Set
	stop context.CancelFunc
	done chan error
}

func startSensor(t *testing.T, tn *netnstest.Net, ebpf bool) *liveSensor {
	t.Helper()
	cfg := &config.Sensor{
		ID:       "test",
		Internal: []string{netnstest.AddrA + "/32"},
		Fanout:   1,
		FlowTable: config.FlowTable{MaxFlows: 4096, TCPIdle: 5 * time.Minute, OtherIdle: time.Minute,
			ClosedIdle: 10 * time.Second, ActiveInterval: time.Second},
		Export: config.Export{Interval: 200 * time.Millisecond, BatchSize: 2048, Queue: 64, Partitions: 1},
	}
	cfg.EBPF.Attach = "auto"
	cfg.EBPF.NameEvents.Rate, cfg.EBPF.NameEvents.Burst = 1000, 1000
	if ebpf {
		cfg.EBPF.Interfaces = []string{"va"}
	} else {
		cfg.Interfaces = []string{"va"}
	}
	s := &liveSensor{set: metrics.NewSet(), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go tn.In(t, 0, func() {
		s.done <- Run(ctx, cfg, Options{Flows: &s.out, Metrics: s.set})
	})
	deadline := time.Now().Add(10 * time.Second)
	for !hasMetric(s.set, "outflow_sensor_packets_total") {
		select {
		case err := <-s.done:
			t.Fatalf("sensor (ebpf=%v) ended before it started: %v", ebpf, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sensor (ebpf=%v) did not start", ebpf)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

func hasMetric(set *metrics.Set, name string) bool {
	for _, n := range set.ListMetricNames() {
		if n == name {
			return true
		}
	}
	return false
}

// records stops the sensor and returns what it exported.
func (s *liveSensor) records(t *testing.T) []flow.Record {
	t.Helper()
	s.stop()
	if err := <-s.done; err != nil {
		t.Fatal(err)
	}
	var out []flow.Record
	sc := bufio.NewScanner(&s.out)
	for sc.Scan() {
		var r flow.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("flow line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// linkStats are va's own counters, read in namespace 0.
func linkStats(t *testing.T, tn *netnstest.Net) (s netlink.LinkStatistics) {
	t.Helper()
	tn.In(t, 0, func() {
		l, err := netlink.LinkByName("va")
		if err != nil {
			t.Fatal(err)
		}
		s = *l.Attrs().Statistics
	})
	return s
}

// TestEBPFSourceOnVeth: the gateway source and the AF_PACKET source
// watch the same veth while the internal host (192.0.2.1) asks a DNS
// server for a name, uploads 10 MiB over HTTP and downloads 1 MiB. The
// eBPF source's flows must add up exactly to what the interface itself
// counted, and equal the AF_PACKET source's flow by flow.
func TestEBPFSourceOnVeth(t *testing.T) {
	tn := netnstest.New(t)
	kern := startSensor(t, tn, true)
	pkt := startSensor(t, tn, false)
	before := linkStats(t, tn)

	t0 := time.Now()
	traffic(t, tn)
	t.Logf("traffic took %v", time.Since(t0))

	// Wait until the link is quiet and the AF_PACKET ring delivered
	// every frame the interface counted.
	after := linkStats(t, tn)
	for deadline := time.Now().Add(10 * time.Second); ; {
		time.Sleep(200 * time.Millisecond)
		now := linkStats(t, tn)
		seen := pkt.set.GetOrCreateCounter("outflow_sensor_packets_total").Get()
		if now == after && seen >= now.TxPackets+now.RxPackets-before.TxPackets-before.RxPackets {
			break
		}
		after = now
		if time.Now().After(deadline) {
			t.Fatalf("AF_PACKET saw %d packets, the link counted %d", seen, now.TxPackets+now.RxPackets-before.TxPackets-before.RxPackets)
		}
	}
	t0 = time.Now()
	kr := kern.records(t)
	t.Logf("ebpf sensor stopped in %v", time.Since(t0))
	t0 = time.Now()
	pr := pkt.records(t)
	t.Logf("af_packet sensor stopped in %v", time.Since(t0))

	// Every byte that crossed the link, per direction: the interface
	// counts frames (IP + 14 bytes of Ethernet header).
	tx, rx := after.TxPackets-before.TxPackets, after.RxPackets-before.RxPackets
	want := totals{
		outPackets: tx, outBytes: after.TxBytes - before.TxBytes - 14*tx,
		inPackets: rx, inBytes: after.RxBytes - before.RxBytes - 14*rx,
	}
	for name, recs := range map[string][]flow.Record{"ebpf": kr, "af_packet": pr} {
		if got := sumByHost(recs, netip.MustParseAddr(netnstest.AddrA)); got != want {
			t.Errorf("%s: flows add up to %+v, the link counted %+v", name, got, want)
		}
	}

	kf, pf := byFlow(kr), byFlow(pr)
	if len(kf) != 3 {
		t.Errorf("eBPF source reported %d flows, want 3 (DNS, upload, download):\n%s", len(kf), dump(kf))
	}
	for k, p := range pf {
		e, ok := kf[k]
		if !ok {
			t.Errorf("flow %s only in AF_PACKET records", k)
			continue
		}
		if d := e.FlowStart.Sub(p.FlowStart); d < -50*time.Millisecond || d > 50*time.Millisecond {
			t.Errorf("flow %s: start %v (ebpf) vs %v (af_packet)", k, e.FlowStart, p.FlowStart)
		}
		e.FlowStart, p.FlowStart = time.Time{}, time.Time{}
		if e != p {
			t.Errorf("flow %s differs:\n ebpf      %+v\n af_packet %+v", k, e, p)
		}
	}
	for k := range kf {
		if _, ok := pf[k]; !ok {
			t.Errorf("flow %s only in eBPF records", k)
		}
	}

	// What the flows must say, exactly where the sizes are known.
	dns := kf["udp 192.0.2.1:40053 > 192.0.2.2:53"]
	q := dnsQuery(t)
	qlen, alen := uint64(len(q)), uint64(len(dnsAnswer(t, q)))
	if dns.SrcPackets != 1 || dns.DstPackets != 1 || dns.SrcBytes != 20+8+qlen || dns.DstBytes != 20+8+alen ||
		dns.Direction != flow.Outbound || dns.DstName != "drop.example.test" {
		t.Errorf("DNS flow %+v", dns)
	}
	for _, c := range []struct {
		port       uint16
		name       string
		up, down   uint64
		upIsClient bool
	}{{8080, "drop.example.test", upload, 0, true}, {8081, "cdn.example.test", 0, download, true}} {
		var f summary
		for k, v := range kf {
			if strings.HasSuffix(k, fmt.Sprintf(":%d", c.port)) {
				f = v
			}
		}
		if f.DstName != c.name || !f.InitiatorFromSYN || f.Direction != flow.Outbound ||
			f.SrcBytes < c.up || f.DstBytes < c.down || f.SrcFlags&0x03 != 0x03 || f.DstFlags&0x13 != 0x13 {
			t.Errorf("TCP flow to port %d: %+v", c.port, f)
		}
	}
	if n := kern.set.GetOrCreateCounter("outflow_sensor_ebpf_map_insert_failures_total").Get(); n != 0 {
		t.Errorf("%d insert failures", n)
	}
	if n := kern.set.GetOrCreateCounter(`outflow_sensor_ebpf_name_events_total{result="sent"}`).Get(); n != 3 {
		t.Errorf("%d name events, want 3 (the DNS answer and two HTTP requests)", n)
	}
}

type totals struct{ outPackets, outBytes, inPackets, inBytes uint64 }

// sumByHost adds up what host sent and received over all records.
func sumByHost(recs []flow.Record, host netip.Addr) (s totals) {
	for _, r := range recs {
		switch host {
		case r.SrcAddr:
			s.outPackets += r.SrcPackets
			s.outBytes += r.SrcBytes
			s.inPackets += r.DstPackets
			s.inBytes += r.DstBytes
		case r.DstAddr:
			s.outPackets += r.DstPackets
			s.outBytes += r.DstBytes
			s.inPackets += r.SrcPackets
			s.inBytes += r.SrcBytes
		}
	}
	return s
}

// summary is one flow's deltas added up, without the per-delta times.
type summary struct {
	SrcPackets, DstPackets, SrcBytes, DstBytes uint64
	SrcFlags, DstFlags                         uint8
	Direction                                  flow.Direction
	InitiatorFromSYN                           bool
	SrcName, DstName                           string
	FlowStart                                  time.Time
}

func byFlow(recs []flow.Record) map[string]summary {
	out := map[string]summary{}
	for _, r := range recs {
		proto := map[uint8]string{6: "tcp", 17: "udp"}[r.Proto]
		k := fmt.Sprintf("%s %s > %s", proto, netip.AddrPortFrom(r.SrcAddr, r.SrcPort), netip.AddrPortFrom(r.DstAddr, r.DstPort))
		s, seen := out[k]
		s.SrcPackets += r.SrcPackets
		s.DstPackets += r.DstPackets
		s.SrcBytes += r.SrcBytes
		s.DstBytes += r.DstBytes
		s.SrcFlags |= r.SrcFlags
		s.DstFlags |= r.DstFlags
		s.Direction = r.Direction
		s.InitiatorFromSYN = r.InitiatorFromSYN
		s.SrcName = cmpOr(r.SrcName, s.SrcName)
		s.DstName = cmpOr(r.DstName, s.DstName)
		if !seen {
			s.FlowStart = r.FlowStart
		}
		out[k] = s
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func dump(m map[string]summary) string {
	var b strings.Builder
	for k, v := range m {
		fmt.Fprintf(&b, "  %s %+v\n", k, v)
	}
	return b.String()
}

// traffic runs the test's conversations, all between the two namespaces:
// a DNS query and answer, an HTTP upload and an HTTP download.
func traffic(t *testing.T, tn *netnstest.Net) {
	t.Helper()
	var (
		dnsSrv  net.PacketConn
		up, dn  net.Listener
		err     error
		srvDone = make(chan error, 3)
	)
	tn.In(t, 1, func() {
		if dnsSrv, err = net.ListenPacket("udp4", netnstest.AddrB+":53"); err != nil {
			return
		}
		if up, err = net.Listen("tcp4", netnstest.AddrB+":8080"); err != nil {
			return
		}
		dn, err = net.Listen("tcp4", netnstest.AddrB+":8081")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dnsSrv.Close()
	defer up.Close()
	defer dn.Close()
	go func() { // DNS: answer the one query
		buf := make([]byte, 512)
		n, from, err := dnsSrv.ReadFrom(buf)
		if err == nil {
			_, err = dnsSrv.WriteTo(dnsAnswer(t, buf[:n]), from)
		}
		srvDone <- err
	}()
	go func() { // upload: read everything
		c, err := up.Accept()
		if err == nil {
			_, err = io.Copy(io.Discard, c)
			c.Close()
		}
		srvDone <- err
	}()
	go func() { // download: read the request head, send 1 MiB, close
		c, err := dn.Accept()
		if err == nil {
			buf := make([]byte, 512)
			if _, err = c.Read(buf); err == nil {
				_, err = c.Write(make([]byte, download))
			}
			c.Close()
		}
		srvDone <- err
	}()

	tn.In(t, 0, func() {
		err = func() error {
			c, err := net.DialUDP("udp4", &net.UDPAddr{Port: 40053}, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(netnstest.AddrB+":53")))
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.Write(dnsQuery(t)); err != nil {
				return err
			}
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 512)); err != nil {
				return fmt.Errorf("DNS answer: %w", err)
			}

			u, err := net.Dial("tcp4", netnstest.AddrB+":8080")
			if err != nil {
				return err
			}
			head := fmt.Sprintf("POST /u HTTP/1.1\r\nHost: drop.example.test\r\nContent-Length: %d\r\n\r\n", upload)
			if _, err := u.Write(append([]byte(head), make([]byte, upload)...)); err != nil {
				return err
			}
			u.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, u) // until the server closes: FIN both ways
			u.Close()

			d, err := net.Dial("tcp4", netnstest.AddrB+":8081")
			if err != nil {
				return err
			}
			if _, err := d.Write([]byte("GET /d HTTP/1.1\r\nHost: cdn.example.test\r\n\r\n")); err != nil {
				return err
			}
			n, err := io.Copy(io.Discard, d)
			d.Close()
			if err == nil && n != download {
				err = fmt.Errorf("downloaded %d bytes, want %d", n, download)
			}
			return err
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-srvDone; err != nil {
			t.Fatal(err)
		}
	}
}

func dnsQuery(t *testing.T) []byte {
	return serializeDNS(t, &layers.DNS{ID: 7, RD: true, QDCount: 1,
		Questions: []layers.DNSQuestion{{Name: []byte("drop.example.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}})
}

func dnsAnswer(t *testing.T, query []byte) []byte {
	q := &layers.DNS{}
	if err := q.DecodeFromBytes(query, gopacket.NilDecodeFeedback); err != nil {
		t.Error(err)
	}
	return serializeDNS(t, &layers.DNS{ID: q.ID, QR: true, RD: true, RA: true, QDCount: 1, ANCount: 1,
		Questions: q.Questions,
		Answers: []layers.DNSResourceRecord{{Name: []byte("drop.example.test"), Type: layers.DNSTypeA, Class: layers.DNSClassIN,
			TTL: 60, IP: net.ParseIP(netnstest.AddrB).To4()}}})
}

func serializeDNS(t *testing.T, d *layers.DNS) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Error(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}
