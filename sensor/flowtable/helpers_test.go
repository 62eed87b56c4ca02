package flowtable

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/decode"
)

const (
	fin = flagFIN
	syn = flagSYN
	rst = flagRST
	psh = 0x08
	ack = flagACK
	sa  = syn | ack
	pa  = psh | ack
	fa  = fin | ack
	ra  = rst | ack
)

// step is one action of a test scenario.
type step func(*Table)

type pktOpt func(*decode.Packet)

func vlan(id uint16) pktOpt        { return func(p *decode.Packet) { p.VLAN = id } }
func payload(s string) pktOpt      { return func(p *decode.Packet) { p.Payload = []byte(s) } }
func addPkt(p *decode.Packet) step { return func(t *Table) { t.Add(p) } }
func tick(ms int64) step           { return func(t *Table) { t.Tick(ms * 1e6) } }
func flush() step                  { return func(t *Table) { t.Flush() } }

// pk builds a packet at ms milliseconds from "addr:port" to "addr:port".
func pk(ms int64, src, dst string, proto, flags uint8, ipBytes uint32, opts ...pktOpt) *decode.Packet {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	p := &decode.Packet{Timestamp: ms * 1e6, SrcPort: s.Port(), DstPort: d.Port(), Proto: proto, IPBytes: ipBytes}
	if proto == protoTCP {
		p.TCPFlags = flags
	}
	p.IsV6 = s.Addr().Is6()
	if p.IsV6 {
		p.Src, p.Dst = s.Addr().As16(), d.Addr().As16()
	} else {
		a, b := s.Addr().As4(), d.Addr().As4()
		copy(p.Src[:], a[:])
		copy(p.Dst[:], b[:])
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func tcp(ms int64, src, dst string, flags uint8, n uint32, opts ...pktOpt) step {
	return addPkt(pk(ms, src, dst, protoTCP, flags, n, opts...))
}

func udp(ms int64, src, dst string, n uint32, opts ...pktOpt) step {
	return addPkt(pk(ms, src, dst, protoUDP, 0, n, opts...))
}

// want is an expected Record in a compact form; times in milliseconds.
type want struct {
	proto              uint8
	src, dst           string // addr:port
	sp, sb, dp, db     uint64
	start, end, fstart int64
	sf, df             uint8
	dir                flow.Direction
	syn, final         bool
	vlan               uint16
	sname, dname       string
	query              string
}

func ms(v int64) time.Time { return time.Unix(0, v*1e6).UTC() }

func (w want) record() flow.Record {
	s, d := netip.MustParseAddrPort(w.src), netip.MustParseAddrPort(w.dst)
	return flow.Record{
		Proto: w.proto, VLAN: w.vlan,
		SrcAddr: s.Addr(), DstAddr: d.Addr(), SrcPort: s.Port(), DstPort: d.Port(),
		SrcPackets: w.sp, SrcBytes: w.sb, DstPackets: w.dp, DstBytes: w.db,
		Start: ms(w.start), End: ms(w.end), FlowStart: ms(w.fstart),
		SrcFlags: w.sf, DstFlags: w.df, Direction: w.dir,
		InitiatorFromSYN: w.syn, Final: w.final,
		SrcName: w.sname, DstName: w.dname, Query: w.query,
	}
}

// run plays steps on a fresh table and returns every emitted Record.
func run(t *testing.T, cfg Config, namer Namer, steps []step) (*Table, []flow.Record) {
	t.Helper()
	var got []flow.Record
	tb := New(cfg, nil, namer, func(r *flow.Record) { got = append(got, *r) })
	for _, s := range steps {
		s(tb)
	}
	return tb, got
}

func checkRecords(t *testing.T, got []flow.Record, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Errorf("got %d records, want %d", len(got), len(wants))
	}
	for i := range max(len(got), len(wants)) {
		switch {
		case i >= len(got):
			t.Errorf("record %d missing, want %s", i, fmtRec(wants[i].record()))
		case i >= len(wants):
			t.Errorf("record %d unexpected: %s", i, fmtRec(got[i]))
		case !reflect.DeepEqual(got[i], wants[i].record()):
			t.Errorf("record %d\n got %s\nwant %s", i, fmtRec(got[i]), fmtRec(wants[i].record()))
		}
	}
}

func fmtRec(r flow.Record) string {
	return fmt.Sprintf("%d vlan%d %s:%d->%s:%d src %dp/%dB dst %dp/%dB [%d..%d] start %d flags %#x/%#x %s syn=%v final=%v names %q/%q query %q",
		r.Proto, r.VLAN, r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort, r.SrcPackets, r.SrcBytes, r.DstPackets, r.DstBytes,
		r.Start.UnixMilli(), r.End.UnixMilli(), r.FlowStart.UnixMilli(), r.SrcFlags, r.DstFlags, r.Direction,
		r.InitiatorFromSYN, r.Final, r.SrcName, r.DstName, r.Query)
}
