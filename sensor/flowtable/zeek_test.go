package flowtable_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/source"
)

const zeekDir = "../../../shared/testdata/zeek-conn"

// endpoint is one side of a connection with what it sent.
type endpoint struct {
	addr         netip.Addr
	port         uint16
	pkts, ipByte uint64
}

// conn is a connection in a comparable form: proto, then its two
// endpoints in canonical order.
type conn struct {
	proto string
	a, b  endpoint
}

func (c conn) tuple() string {
	return fmt.Sprintf("%s %s:%d %s:%d", c.proto, c.a.addr, c.a.port, c.b.addr, c.b.port)
}

func (c conn) String() string {
	return fmt.Sprintf("%s  %d pkts/%d B  |  %d pkts/%d B", c.tuple(), c.a.pkts, c.a.ipByte, c.b.pkts, c.b.ipByte)
}

func newConn(proto string, x, y endpoint) conn {
	if y.addr.Less(x.addr) || y.addr == x.addr && y.port < x.port {
		x, y = y, x
	}
	return conn{proto: proto, a: x, b: y}
}

var protoNames = map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmp"}

// readConnLog reads Zeek's conn.log into conns.
func readConnLog(t *testing.T, path string) []conn {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cols map[string]int
	var out []conn
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "#fields\t"); ok {
			cols = map[string]int{}
			for i, name := range strings.Split(rest, "\t") {
				cols[name] = i
			}
			continue
		}
		if strings.HasPrefix(line, "#") || cols == nil {
			continue
		}
		v := strings.Split(line, "\t")
		num := func(name string) uint64 {
			n, err := strconv.ParseUint(v[cols[name]], 10, 64)
			if err != nil {
				t.Fatalf("%s: %s=%q: %v", path, name, v[cols[name]], err)
			}
			return n
		}
		ep := func(h, p, pkts, bytes string) endpoint {
			return endpoint{addr: netip.MustParseAddr(v[cols[h]]), port: uint16(num(p)), pkts: num(pkts), ipByte: num(bytes)}
		}
		out = append(out, newConn(v[cols["proto"]],
			ep("id.orig_h", "id.orig_p", "orig_pkts", "orig_ip_bytes"),
			ep("id.resp_h", "id.resp_p", "resp_pkts", "resp_ip_bytes")))
	}
	return out
}

// countCapture runs a capture through source → decode → flowtable, with
// a Tick per packet as a live sensor does, and sums the deltas of each flow
// (records with the same tuple, VLAN and FlowStart). VLANs are then merged:
// Zeek's connection key has none.
func countCapture(t *testing.T, path string, cfg flowtable.Config) []conn {
	src, err := source.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	type flowID struct {
		tuple string
		vlan  uint16
		start int64
	}
	sums := map[flowID]*conn{}
	var order []flowID
	emit := func(r *flow.Record) {
		c := newConn(protoNames[r.Proto],
			endpoint{addr: r.SrcAddr, port: r.SrcPort, pkts: r.SrcPackets, ipByte: r.SrcBytes},
			endpoint{addr: r.DstAddr, port: r.DstPort, pkts: r.DstPackets, ipByte: r.DstBytes})
		id := flowID{c.tuple(), r.VLAN, r.FlowStart.UnixNano()}
		s := sums[id]
		if s == nil {
			zero := c
			zero.a.pkts, zero.a.ipByte, zero.b.pkts, zero.b.ipByte = 0, 0, 0, 0
			s = &zero
			sums[id] = s
			order = append(order, id)
		}
		s.a.pkts += c.a.pkts
		s.a.ipByte += c.a.ipByte
		s.b.pkts += c.b.pkts
		s.b.ipByte += c.b.ipByte
	}
	tb := flowtable.New(cfg, nil, nil, emit)
	dec := decode.New(decode.Config{})
	var p decode.Packet
	for {
		data, info, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := dec.Decode(data, info.LinkType, info.Timestamp, &p); err != nil {
			continue // ARP, PPPoE discovery...: not flows, for Zeek either
		}
		tb.Tick(p.Timestamp)
		tb.Add(&p)
	}
	tb.Flush()

	// Merge flows that differ only by VLAN, in order of first export.
	var out []conn
	merged := map[[2]any]int{}
	for _, id := range order {
		c := *sums[id]
		k := [2]any{id.tuple, id.start}
		if i, ok := merged[k]; ok {
			t.Logf("merged VLANs of %s", id.tuple)
			out[i].a.pkts += c.a.pkts
			out[i].a.ipByte += c.a.ipByte
			out[i].b.pkts += c.b.pkts
			out[i].b.ipByte += c.b.ipByte
			continue
		}
		merged[k] = len(out)
		out = append(out, c)
	}
	return out
}

// knownDifferences are connections where Outflow and Zeek legitimately
// count differently, by capture and tuple, with the reason. It is empty:
// every connection of every capture matches. Things that could have
// differed and do not:
//   - originator: compared per endpoint, so Zeek's choice (handshake,
//     likely server ports) does not matter;
//   - Ethernet padding (tcp-http-with-padding): IP bytes come from the IP
//     header, as Zeek's *_ip_bytes do;
//   - missing SYNs (tcp_missing-syn, ...-missing-syn): both count the
//     mid-stream flow as one connection;
//   - VLAN/QinQ/MPLS/PPPoE: Zeek's key has no VLAN; countCapture would
//     merge our per-VLAN flows of one tuple (none of these captures has
//     one tuple on two VLANs);
//   - ICMP: the decoder gives Zeek's pseudo-ports (type, counterpart type).
var knownDifferences = map[string]map[string]string{}

func TestZeekConnLog(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(zeekDir, "*.conn.log"))
	if len(logs) == 0 {
		t.Skip("shared Zeek test data not found")
	}
	for _, log := range logs {
		name := strings.TrimSuffix(filepath.Base(log), ".conn.log")
		t.Run(name, func(t *testing.T) {
			capture := strings.TrimSuffix(log, ".conn.log") + ".pcap"
			if _, err := os.Stat(capture); err != nil {
				capture += "ng"
			}
			zeek := readConnLog(t, log)
			compare(t, zeek, countCapture(t, capture, flowtable.Config{}), knownDifferences[name])
			// Deltas every 100ms must add up to the same totals.
			compare(t, zeek, countCapture(t, capture, flowtable.Config{ActiveInterval: 100 * time.Millisecond}), knownDifferences[name])
		})
	}
}

// compare matches connections by tuple (several per tuple when a port is
// reused, matched as multisets) and reports every mismatch not explained
// in known.
func compare(t *testing.T, zeek, ours []conn, known map[string]string) {
	group := func(cs []conn) map[string][]string {
		m := map[string][]string{}
		for _, c := range cs {
			m[c.tuple()] = append(m[c.tuple()], c.String())
		}
		for _, v := range m {
			slices.Sort(v)
		}
		return m
	}
	z, o := group(zeek), group(ours)
	matched := 0
	for _, tuple := range slices.Sorted(mapsKeys(z, o)) {
		if slices.Equal(z[tuple], o[tuple]) {
			matched += len(z[tuple])
			continue
		}
		if why, ok := known[tuple]; ok {
			t.Logf("known difference %s: %s\n  zeek:    %v\n  outflow: %v", tuple, why, z[tuple], o[tuple])
			continue
		}
		t.Errorf("%s\n  zeek:    %v\n  outflow: %v", tuple, z[tuple], o[tuple])
	}
	t.Logf("%d of %d Zeek connections match exactly", matched, len(zeek))
}

func mapsKeys(ms ...map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}
