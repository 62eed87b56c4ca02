// Package zeekconn compares Outflow's flow records with Zeek's conn.log,
// for tests: it reads conn.log, sums flow records (deltas) into
// connections, and matches the two per endpoint — Zeek decides its
// originator its own way, so columns are compared by address and port,
// not by name.
package zeekconn

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/flow"
)

// Endpoint is one side of a connection and what it sent.
type Endpoint struct {
	Addr    netip.Addr
	Port    uint16
	Packets uint64
	IPBytes uint64
}

// Conn is a connection with its endpoints in canonical order.
type Conn struct {
	Proto string // "tcp", "udp", "icmp"
	A, B  Endpoint
}

// New orders the endpoints canonically.
func New(proto string, x, y Endpoint) Conn {
	if y.Addr.Less(x.Addr) || y.Addr == x.Addr && y.Port < x.Port {
		x, y = y, x
	}
	return Conn{Proto: proto, A: x, B: y}
}

// Tuple is the connection's key without counts.
func (c Conn) Tuple() string {
	return fmt.Sprintf("%s %s:%d %s:%d", c.Proto, c.A.Addr, c.A.Port, c.B.Addr, c.B.Port)
}

func (c Conn) String() string {
	return fmt.Sprintf("%s  %d pkts/%d B  |  %d pkts/%d B", c.Tuple(), c.A.Packets, c.A.IPBytes, c.B.Packets, c.B.IPBytes)
}

// KnownDifferences lists connections where Outflow and Zeek legitimately
// count differently, by capture name and tuple, with the reason; every
// Zeek comparison in the tests skips exactly these. It is empty: every
// connection of every shared capture matches. Things that could have
// differed and do not (docs/flows.md says more):
//   - originator: compared per endpoint, so Zeek's choice (handshake,
//     likely server ports) does not matter;
//   - Ethernet padding (tcp-http-with-padding): IP bytes come from the IP
//     header, as Zeek's *_ip_bytes do;
//   - missing SYNs (tcp_missing-syn, ...-missing-syn): both count the
//     mid-stream flow as one connection;
//   - VLAN/QinQ/MPLS/PPPoE: Zeek's key has no VLAN; FromRecords merges
//     per-VLAN flows of one tuple (none of these captures has one tuple on
//     two VLANs);
//   - ICMP: the decoder gives Zeek's pseudo-ports (type, counterpart type).
var KnownDifferences = map[string]map[string]string{}

var protoNames = map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmp"}

// ReadLog reads a Zeek conn.log (TSV with a #fields header).
func ReadLog(path string) ([]Conn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cols map[string]int
	var out []Conn
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
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
		var perr error
		num := func(name string) uint64 {
			i, ok := cols[name]
			if !ok || i >= len(v) {
				perr = fmt.Errorf("%s:%d: no column %s", path, n, name)
				return 0
			}
			x, err := strconv.ParseUint(v[i], 10, 64)
			if err != nil {
				perr = fmt.Errorf("%s:%d: %s=%q: %w", path, n, name, v[i], err)
			}
			return x
		}
		ep := func(h, p, pkts, bytes string) Endpoint {
			a, err := netip.ParseAddr(v[cols[h]])
			if err != nil {
				perr = fmt.Errorf("%s:%d: %s: %w", path, n, h, err)
			}
			return Endpoint{Addr: a, Port: uint16(num(p)), Packets: num(pkts), IPBytes: num(bytes)}
		}
		c := New(v[cols["proto"]], ep("id.orig_h", "id.orig_p", "orig_pkts", "orig_ip_bytes"), ep("id.resp_h", "id.resp_p", "resp_pkts", "resp_ip_bytes"))
		if perr != nil {
			return nil, perr
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// FromRecords sums flow records (deltas) into connections: records with the
// same tuple, VLAN and flow start are one flow. Flows that differ only by
// VLAN are then merged, because Zeek's connection key has no VLAN.
func FromRecords(recs []flow.Record) []Conn {
	type flowID struct {
		tuple string
		vlan  uint16
		start int64
	}
	sums := map[flowID]*Conn{}
	var order []flowID
	for i := range recs {
		r := &recs[i]
		c := New(protoNames[r.Proto],
			Endpoint{Addr: r.SrcAddr, Port: r.SrcPort, Packets: r.SrcPackets, IPBytes: r.SrcBytes},
			Endpoint{Addr: r.DstAddr, Port: r.DstPort, Packets: r.DstPackets, IPBytes: r.DstBytes})
		id := flowID{c.Tuple(), r.VLAN, r.FlowStart.UnixNano()}
		s := sums[id]
		if s == nil {
			s = &Conn{Proto: c.Proto, A: Endpoint{Addr: c.A.Addr, Port: c.A.Port}, B: Endpoint{Addr: c.B.Addr, Port: c.B.Port}}
			sums[id] = s
			order = append(order, id)
		}
		s.add(c)
	}
	var out []Conn
	merged := map[string]int{}
	for _, id := range order {
		k := fmt.Sprint(id.tuple, id.start)
		if i, ok := merged[k]; ok {
			out[i].add(*sums[id])
			continue
		}
		merged[k] = len(out)
		out = append(out, *sums[id])
	}
	return out
}

func (c *Conn) add(o Conn) {
	c.A.Packets += o.A.Packets
	c.A.IPBytes += o.A.IPBytes
	c.B.Packets += o.B.Packets
	c.B.IPBytes += o.B.IPBytes
}

// Compare matches connections by tuple (several per tuple when a port is
// reused, compared as multisets). It returns how many Zeek connections
// matched exactly and a description of every tuple that did not and is not
// in known (tuple → reason).
func Compare(zeek, ours []Conn, known map[string]string) (matched int, mismatches []string) {
	group := func(cs []Conn) map[string][]string {
		m := map[string][]string{}
		for _, c := range cs {
			m[c.Tuple()] = append(m[c.Tuple()], c.String())
		}
		for _, v := range m {
			slices.Sort(v)
		}
		return m
	}
	z, o := group(zeek), group(ours)
	tuples := map[string]bool{}
	for k := range z {
		tuples[k] = true
	}
	for k := range o {
		tuples[k] = true
	}
	for _, tuple := range slices.Sorted(func(yield func(string) bool) {
		for k := range tuples {
			if !yield(k) {
				return
			}
		}
	}) {
		if slices.Equal(z[tuple], o[tuple]) {
			matched += len(z[tuple])
			continue
		}
		if _, ok := known[tuple]; ok {
			continue
		}
		mismatches = append(mismatches, fmt.Sprintf("%s\n  zeek:    %v\n  outflow: %v", tuple, z[tuple], o[tuple]))
	}
	return matched, mismatches
}

// ProtoName is Zeek's name for an IP protocol number ("" when Zeek logs it
// by number only).
func ProtoName(p uint8) string { return protoNames[p] }

// SumByTuple merges the connections of each tuple (Zeek splits a tuple into
// several connections on timeouts and port reuse): for comparisons without
// a flow table, such as per-packet decoding.
func SumByTuple(cs []Conn) []Conn {
	idx := map[string]int{}
	var out []Conn
	for _, c := range cs {
		if i, ok := idx[c.Tuple()]; ok {
			out[i].add(c)
			continue
		}
		idx[c.Tuple()] = len(out)
		out = append(out, c)
	}
	return out
}

// Trace is one capture with its Zeek conn.log.
type Trace struct {
	Name    string // file name without extension, the key of KnownDifferences
	Capture string // NAME.pcap or NAME.pcapng
	Log     string // NAME.conn.log
}

// Traces lists the captures in dir (shared/testdata/zeek-conn) that have a
// conn.log.
func Traces(dir string) ([]Trace, error) {
	logs, err := filepath.Glob(filepath.Join(dir, "*.conn.log"))
	if err != nil {
		return nil, err
	}
	var out []Trace
	for _, log := range logs {
		base := strings.TrimSuffix(log, ".conn.log")
		capture := base + ".pcap"
		if _, err := os.Stat(capture); err != nil {
			capture += "ng"
		}
		out = append(out, Trace{Name: filepath.Base(base), Capture: capture, Log: log})
	}
	return out, nil
}

// Check compares ours with the trace's conn.log and reports every mismatch
// not in KnownDifferences as a test error.
func (tr Trace) Check(t testing.TB, ours []Conn) {
	t.Helper()
	zeek, err := ReadLog(tr.Log)
	if err != nil {
		t.Fatal(err)
	}
	matched, bad := Compare(zeek, ours, KnownDifferences[tr.Name])
	for _, b := range bad {
		t.Error(b)
	}
	if matched+len(KnownDifferences[tr.Name]) < len(zeek) || matched == 0 {
		t.Errorf("%s: %d of %d Zeek connections match exactly", tr.Name, matched, len(zeek))
	}
}
