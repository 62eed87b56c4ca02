//go:build linux

package sweep

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/outflowhq/outflow/bpf"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/names"
	"golang.org/x/sys/unix"
)

// TCP flag bits as the kernel program ORs them.
const (
	flagFIN = 0x01
	flagRST = 0x04
)

// Config is what a Sweeper needs besides the map.
type Config struct {
	Internal *flow.Networks
	// FlowTable gives the packet path's timeouts and active interval, so
	// both sources end and report flows alike. MaxFlows is not used: the
	// kernel map's size bounds the sweeper.
	FlowTable flowtable.Config
	// HighWater is the fill fraction of the map above which a pass
	// evicts the least recently active flows, down to LowWater, so new
	// flows still find room (defaults 0.9 and 0.8).
	HighWater, LowWater float64
}

// Flows is the kernel side the sweeper reads: *bpf.Objects.
type Flows interface {
	ReadFlows(fn func(*bpf.Key, *bpf.Value)) (int, error)
	Take(k bpf.Key) (bpf.Value, bool, error)
	MaxFlows() int
}

// Stats are cumulative counters, except Entries and Capacity.
type Stats struct {
	Passes    uint64
	Entries   int    // flows in the map at the last pass
	Capacity  int    // the map's size
	Created   uint64 // flows seen for the first time
	Expired   uint64 // flows removed after their idle or closed timeout
	Evictions uint64 // flows removed early because the map was nearly full
	Flushed   uint64 // flows ended by a flushing pass (sensor stop)
	Restarted uint64 // flows whose counters went back: the entry was recreated between passes
	Records   uint64 // deltas emitted
	Packets   uint64 // packets in emitted deltas
	Bytes     uint64 // IP bytes in emitted deltas
	Names     uint64 // names (TLS SNI, HTTP Host) attached to flows from name events
	NamesLost uint64 // names (and queries) dropped because too many flows were waiting for one
	Queries   uint64 // DNS query names attached to flows from response events
	Errors    uint64 // failed reads or removals (logged by the caller)
}

// state is what the sweeper remembers of one kernel flow.
type state struct {
	prev       bpf.Value // the counters already exported
	readAt     uint64    // monotonic time of the pass that set prev
	lastExport uint64    // monotonic; the flow's first packet before its first export
	last       uint64    // LastNs at the latest read (eviction order)
	flowStart  int64     // wall ns of FirstNs, fixed at the first read
	names      [2]string // lo, hi: names the flow's own requests asked for
	query      string    // DNS question of the latest response on the flow
	gen        uint32    // pass that last saw the flow in the map
	init       bpf.Side  // decided at the first export
	fromSYN    bool
	exported   bool
	seen       bool // false while only a name event knows the flow
}

// Sweeper turns the kernel's cumulative per-flow counters into the same
// delta records the packet path's flow table emits. Pass does the work;
// Name and Pass may be called from different goroutines.
type Sweeper struct {
	cfg      Config
	idle     [3]uint64 // tcp, other, closed, in ns
	active   uint64
	kernel   Flows
	namer    *names.Cache
	emit     func(*flow.Record)
	internal *flow.Networks

	mu     sync.Mutex // guards everything below and the namer
	flows  map[bpf.Key]*state
	gen    uint32
	take   []bpf.Key
	rec    flow.Record
	stats  Stats
	events EventStats
	errs   []error
}

// New returns a sweeper over kernel. emit receives every delta; the
// Record is only valid during the call. namer, the packet path's name
// cache, may be nil; the sweeper's lock guards it from then on.
func New(cfg Config, kernel Flows, namer *names.Cache, emit func(*flow.Record)) *Sweeper {
	ft := cfg.FlowTable.WithDefaults()
	if cfg.HighWater <= 0 || cfg.HighWater > 1 {
		cfg.HighWater = 0.9
	}
	if cfg.LowWater <= 0 || cfg.LowWater >= cfg.HighWater {
		cfg.LowWater = cfg.HighWater - 0.1
	}
	if cfg.Internal == nil {
		cfg.Internal = flow.MustParseNetworks(flow.DefaultInternal)
	}
	s := &Sweeper{
		cfg:      cfg,
		idle:     [3]uint64{uint64(ft.TCPIdle), uint64(ft.OtherIdle), uint64(ft.ClosedIdle)},
		active:   uint64(ft.ActiveInterval),
		kernel:   kernel,
		namer:    namer,
		emit:     emit,
		internal: cfg.Internal,
		flows:    make(map[bpf.Key]*state),
	}
	s.stats.Capacity = kernel.MaxFlows()
	return s
}

// Stats returns the counters.
func (s *Sweeper) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Monotonic is CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns.
func Monotonic() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

// Pass reads the map once at the current time; see PassAt.
func (s *Sweeper) Pass(flush bool) error {
	mono := Monotonic()
	return s.PassAt(mono, time.Now().UnixNano()-int64(mono), flush)
}

// PassAt reads every flow in the map as if the monotonic clock read now,
// with wall = monotonic + offset (ns):
//   - a flow idle past its timeout (TCP 5m, other 1m, closed TCP 10s by
//     default) is removed from the map and its last delta emitted, Final;
//   - a flow with new packets whose previous export is ActiveInterval old
//     emits a delta;
//   - with flush, every flow is removed and emitted, Final (sensor stop);
//   - when the map is fuller than HighWater, the least recently active
//     flows are removed and emitted until it is at LowWater.
//
// Errors are returned after the pass has done what it could.
func (s *Sweeper) PassAt(now uint64, offset int64, flush bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.stats.Passes++
	s.take = s.take[:0]
	s.errs = s.errs[:0]
	n, err := s.kernel.ReadFlows(func(k *bpf.Key, v *bpf.Value) {
		st := s.flows[*k]
		if st == nil {
			st = &state{}
			s.flows[*k] = st
		}
		if !st.seen {
			st.seen = true
			st.lastExport = v.FirstNs
			st.flowStart = int64(v.FirstNs) + offset
			s.stats.Created++
		}
		st.gen = s.gen
		st.last = v.LastNs
		if flush || v.LastNs+s.idle[class(k, v)] <= now {
			s.take = append(s.take, *k)
			return
		}
		if st.lastExport+s.active <= now {
			s.export(k, v, st, now, offset, false)
		}
	})
	if err != nil {
		s.stats.Errors++
		s.errs = append(s.errs, err)
	}
	s.stats.Entries = n
	for _, k := range s.take {
		if flush {
			s.stats.Flushed++
		} else {
			s.stats.Expired++
		}
		s.remove(k, now, offset)
	}
	s.stats.Entries -= len(s.take)
	if !flush && float64(s.stats.Entries) > s.cfg.HighWater*float64(s.stats.Capacity) {
		s.evict(now, offset)
	}
	// Forget flows the map no longer holds (removed by someone else) and
	// name-only entries whose flow never showed up within a pass.
	for k, st := range s.flows {
		if st.gen+1 < s.gen || st.seen && st.gen != s.gen {
			delete(s.flows, k)
		}
	}
	return errors.Join(s.errs...)
}

// class is the flow's timeout class, as in the flow table.
func class(k *bpf.Key, v *bpf.Value) int {
	if k.Proto != 6 {
		return 1
	}
	if (v.LoFlags|v.HiFlags)&flagRST != 0 || v.LoFlags&v.HiFlags&flagFIN != 0 {
		return 2
	}
	return 0
}

// remove takes k out of the map and emits what it counted since the last
// export, including packets that arrived after this pass read it.
func (s *Sweeper) remove(k bpf.Key, now uint64, offset int64) {
	st := s.flows[k]
	delete(s.flows, k)
	v, ok, err := s.kernel.Take(k)
	if err != nil {
		s.stats.Errors++
		s.errs = append(s.errs, err)
		return
	}
	if !ok || st == nil {
		return
	}
	s.export(&k, &v, st, now, offset, true)
}

// evict removes the least recently active flows until the map is at
// LowWater.
func (s *Sweeper) evict(now uint64, offset int64) {
	target := int(s.cfg.LowWater * float64(s.stats.Capacity))
	s.take = s.take[:0]
	for k, st := range s.flows {
		if st.seen && st.gen == s.gen {
			s.take = append(s.take, k)
		}
	}
	// Times are precise to a kernel tick: flows alike in them go in key
	// order, so the choice does not depend on map order.
	slices.SortFunc(s.take, func(a, b bpf.Key) int {
		fa, fb := s.flows[a], s.flows[b]
		return cmp.Or(cmp.Compare(fa.last, fb.last), cmp.Compare(fa.flowStart, fb.flowStart),
			a.LoAddr.Compare(b.LoAddr), a.HiAddr.Compare(b.HiAddr), cmp.Compare(a.LoPort, b.LoPort),
			cmp.Compare(a.HiPort, b.HiPort), cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.VLAN, b.VLAN))
	})
	excess := s.stats.Entries - target
	for _, k := range s.take[:min(excess, len(s.take))] {
		s.stats.Evictions++
		s.remove(k, now, offset)
		s.stats.Entries--
	}
}

// export emits the delta between v and what was already exported.
func (s *Sweeper) export(k *bpf.Key, v *bpf.Value, st *state, now uint64, offset int64, final bool) {
	p := &st.prev
	if v.LoPackets < p.LoPackets || v.HiPackets < p.HiPackets || v.LoBytes < p.LoBytes || v.HiBytes < p.HiBytes {
		s.stats.Restarted++
		*p = bpf.Value{}
		st.flowStart = int64(v.FirstNs) + offset
	}
	pk := [2]uint64{v.LoPackets - p.LoPackets, v.HiPackets - p.HiPackets}
	by := [2]uint64{v.LoBytes - p.LoBytes, v.HiBytes - p.HiBytes}
	if pk[0]|pk[1] == 0 {
		return
	}
	if !st.exported {
		st.init, st.fromSYN = initiator(k, v)
	}
	start := v.FirstNs
	if st.exported {
		start = max(start, st.readAt)
	}
	start = min(start, v.LastNs)

	addr := [2]netip.Addr{k.LoAddr, k.HiAddr}
	port := [2]uint16{k.LoPort, k.HiPort}
	flags := [2]uint8{v.LoFlags, v.HiFlags}
	var name [2]string
	for i := range name {
		name[i] = st.names[i]
		if name[i] == "" && s.namer != nil {
			name[i] = s.namer.Lookup(addr[i])
		}
	}
	src := int(st.init) - 1
	dst := 1 - src
	r := &s.rec
	*r = flow.Record{
		Proto:            k.Proto,
		VLAN:             k.VLAN,
		SrcAddr:          addr[src],
		DstAddr:          addr[dst],
		SrcPort:          port[src],
		DstPort:          port[dst],
		SrcBytes:         by[src],
		DstBytes:         by[dst],
		SrcPackets:       pk[src],
		DstPackets:       pk[dst],
		Start:            time.Unix(0, int64(start)+offset).UTC(),
		End:              time.Unix(0, int64(v.LastNs)+offset).UTC(),
		FlowStart:        time.Unix(0, st.flowStart).UTC(),
		SrcFlags:         flags[src],
		DstFlags:         flags[dst],
		InitiatorFromSYN: st.fromSYN,
		Final:            final,
		SrcName:          name[src],
		DstName:          name[dst],
		Query:            st.query,
	}
	r.Direction = s.internal.Classify(r.SrcAddr, r.DstAddr)
	*p = *v
	st.readAt = now
	st.lastExport = now
	st.exported = true
	s.stats.Records++
	s.stats.Packets += pk[0] + pk[1]
	s.stats.Bytes += by[0] + by[1]
	s.emit(r)
}

// initiator orients a flow at its first export, as the flow table does:
// from the handshake when the kernel saw one, else the first packet's
// sender, turned around when that packet came from a server port.
func initiator(k *bpf.Key, v *bpf.Value) (bpf.Side, bool) {
	if v.Initiator != bpf.SideUnknown {
		return v.Initiator, true
	}
	first := v.FirstSender
	if first == bpf.SideUnknown {
		first = bpf.SideLo
	}
	sport, dport := k.LoPort, k.HiPort
	if first == bpf.SideHi {
		sport, dport = dport, sport
	}
	if flow.FirstSenderIsResponder(k.Proto, sport, dport) {
		return 3 - first, false
	}
	return first, false
}

func addr(b [16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}
