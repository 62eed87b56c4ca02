package flowtable

import (
	"encoding/binary"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/names"
)

// TCP flag bits as in decode.Packet.TCPFlags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

const (
	protoTCP = 6
	protoUDP = 17
)

// LRU classes: each list holds flows with one idle timeout, so the oldest
// entry of each list is the first to expire.
const (
	classTCP = iota
	classOther
	classClosed
	nClasses
)

// maxObserve bounds how many payload packets of a TCP flow's initiator go
// to the Namer: SNI and Host are in the first request.
const maxObserve = 4

// maxQuerySplits bounds how many deltas a flow cuts for new DNS query names
// (see query) until an active export: a resolver asking thousands of names
// over one socket costs at most this many extra records per interval.
const maxQuerySplits = 255

type entry struct {
	key        key
	link       [2]links // linkLRU, linkWheel
	pkts       [2]uint64
	bytes      [2]uint64
	first      int64 // first packet of the flow
	last       int64 // last packet of the flow
	dStart     int64 // first packet of the pending delta
	dEnd       int64 // last packet of the pending delta
	lastExport int64 // when the previous delta was exported (flow start before)
	due        int64 // when the pending delta must be exported
	closedAt   int64
	names      [2]string
	query      string // DNS query name the initiator asked (latest), "" when none
	slot       int32  // wheel slot, when inWheel
	class      uint8
	init       uint8 // side of the initiator
	flags      [2]uint8
	fin        [2]bool
	fromSYN    bool
	exported   bool
	inWheel    bool
	observed   uint8
	splits     uint8 // deltas cut for a new query name since the last active export
}

func (e *entry) pending() bool { return e.pkts[0]|e.pkts[1] != 0 }

// Table is a bounded bidirectional flow table. It is not safe for
// concurrent use.
type Table struct {
	cfg      Config
	internal *flow.Networks
	namer    Namer
	emitFn   func(*flow.Record)

	index index
	slab  []entry
	free  []int32
	lru   [nClasses]dlist
	idle  [nClasses]int64
	wheel wheel

	gran     int64 // Tick does work at most once per granule
	nextWork int64
	rec      flow.Record // reused for every emit
	stats    Stats
}

// New returns an empty table. emit receives every delta; the Record is
// only valid during the call (the table reuses it), so emit must copy it.
// namer may be nil.
func New(cfg Config, internal *flow.Networks, namer Namer, emit func(*flow.Record)) *Table {
	cfg = cfg.WithDefaults()
	t := &Table{
		cfg:      cfg,
		internal: internal,
		namer:    namer,
		emitFn:   emit,
		gran:     cfg.granularity(),
	}
	if t.internal == nil {
		t.internal = flow.MustParseNetworks(flow.DefaultInternal)
	}
	t.index.init(cfg.MaxFlows)
	for c := range t.lru {
		t.lru[c].init()
	}
	t.idle = [nClasses]int64{classTCP: int64(cfg.TCPIdle), classOther: int64(cfg.OtherIdle), classClosed: int64(cfg.ClosedIdle)}
	t.wheel.init(int(int64(cfg.ActiveInterval)/t.gran) + 2)
	t.stats.Capacity = cfg.MaxFlows
	return t
}

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	s := t.stats
	s.Entries = t.index.n
	return s
}

// Add counts one packet at event time p.Timestamp.
func (t *Table) Add(p *decode.Packet) {
	t.stats.Packets++
	t.stats.Bytes += uint64(p.IPBytes)
	k, side := makeKey(p)
	h := t.index.hash(&k)
	ts := p.Timestamp
	isTCP := p.Proto == protoTCP
	syn := isTCP && p.TCPFlags&(flagSYN|flagACK) == flagSYN

	i := t.lookup(&k, h)
	ok := i != none
	if ok && syn && t.slab[i].class == classClosed {
		// Port reuse: a new connection on the tuple of a closed one.
		t.stats.Reused++
		t.remove(i, ts)
		ok = false
	}
	if !ok {
		i = t.create(&k, h, p, side)
	}
	e := &t.slab[i]

	if isTCP && !e.fromSYN && !e.exported && p.TCPFlags&flagSYN != 0 {
		// A handshake seen after the first packet (reordering across
		// interfaces) still decides the initiator, as long as no delta
		// went out under the old guess.
		e.init, e.fromSYN = initiatorFromSYN(p.TCPFlags, side), true
	}

	if p.DstPort == 53 && side == e.init && len(p.Payload) > 0 && t.namer != nil {
		t.query(i, e, p)
	}
	if !e.pending() {
		e.dStart, e.dEnd = ts, ts
		t.schedule(i, e.lastExport+int64(t.cfg.ActiveInterval))
	} else {
		e.dStart, e.dEnd = min(e.dStart, ts), max(e.dEnd, ts)
	}
	e.first, e.last = min(e.first, ts), max(e.last, ts)
	e.pkts[side]++
	e.bytes[side] += uint64(p.IPBytes)

	class := e.class
	if isTCP {
		e.flags[side] |= p.TCPFlags
		if p.TCPFlags&flagFIN != 0 {
			e.fin[side] = true
		}
		if class != classClosed && (p.TCPFlags&flagRST != 0 || e.fin[0] && e.fin[1]) {
			class = classClosed
			e.closedAt = ts
			t.stats.Closed++
		}
	}
	if class != e.class || t.lru[class].tail != i { // a busy flow is already last
		t.unlink(&t.lru[e.class], i, linkLRU)
		e.class = class
		t.pushBack(&t.lru[class], i, linkLRU)
	}

	if t.namer != nil && len(p.Payload) > 0 {
		t.observe(e, p, side)
	}
}

// observe hands payloads to the Namer: DNS responses so it learns answers,
// and the first payloads of a TCP initiator for the responder's SNI / Host.
func (t *Table) observe(e *entry, p *decode.Packet, side uint8) {
	switch {
	case p.Proto == protoUDP && p.SrcPort == 53:
		t.stats.Observed++
		t.namer.Observe(p)
	case p.Proto == protoTCP && side == e.init && e.observed < maxObserve:
		t.stats.Observed++
		e.observed++
		if n := t.namer.Observe(p); n != "" {
			// The name the client asked for beats what DNS said about
			// the address (shared CDN addresses have many names).
			e.names[1-e.init] = n
			e.observed = maxObserve
		}
	}
}

// query records the name of a DNS query the initiator sends (UDP, or the
// first message of a TCP connection, after its 2-byte length). A flow that
// asks a new name — one socket for many queries, as tunnels and some
// resolvers use — first exports what it counted under the previous name,
// so every delta's Query is the name its packets asked (at most
// maxQuerySplits cuts per active interval; beyond, a delta keeps the first
// name asked in it). Called before p is counted.
func (t *Table) query(i int32, e *entry, p *decode.Packet) {
	msg := p.Payload
	switch {
	case p.Proto == protoUDP:
	case p.Proto == protoTCP && e.query == "" && len(msg) >= 2:
		msg = msg[2:]
		if n := int(binary.BigEndian.Uint16(p.Payload)); n < len(msg) {
			msg = msg[:n]
		}
	default:
		return
	}
	if len(msg) >= 3 && msg[2]&0x80 != 0 {
		return // QR set: a response, not a query
	}
	name := names.QuestionName(msg)
	if name == "" || name == e.query {
		return
	}
	if e.query != "" && e.pending() {
		if e.splits == maxQuerySplits {
			return
		}
		e.splits++
		t.export(i, p.Timestamp, false)
	}
	e.query = name
	t.stats.Queries++
}

// initiatorFromSYN: a SYN's sender initiates; a SYN-ACK's receiver does.
func initiatorFromSYN(flags uint8, side uint8) uint8 {
	if flags&flagACK != 0 {
		return 1 - side
	}
	return side
}

// create inserts a new flow for p, evicting the least recently seen flow
// when the table is full.
func (t *Table) create(k *key, h uint64, p *decode.Packet, side uint8) int32 {
	if t.index.n >= t.cfg.MaxFlows {
		if victim := t.oldest(); victim != none {
			t.stats.Evictions++
			t.remove(victim, p.Timestamp)
		}
	}
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.slab = append(t.slab, entry{})
		t.index.grow()
		i = int32(len(t.slab) - 1)
	}
	t.stats.Created++
	ts := p.Timestamp
	e := &t.slab[i]
	*e = entry{key: *k, first: ts, last: ts, lastExport: ts, link: [2]links{{none, none}, {none, none}}}
	t.insert(i, h)
	if p.Proto == protoTCP && p.TCPFlags&flagSYN != 0 {
		e.init, e.fromSYN = initiatorFromSYN(p.TCPFlags, side), true
	} else {
		e.init = side
		if flow.FirstSenderIsResponder(p.Proto, p.SrcPort, p.DstPort) {
			e.init = 1 - side
		}
	}
	e.class = classOther
	if p.Proto == protoTCP {
		e.class = classTCP
	}
	t.pushBack(&t.lru[e.class], i, linkLRU)
	if t.namer != nil {
		e.names[0] = t.namer.Lookup(k.addr(0))
		e.names[1] = t.namer.Lookup(k.addr(1))
	}
	return i
}

// remove emits the flow's final delta and frees its entry.
func (t *Table) remove(i int32, now int64) {
	t.export(i, now, true)
	e := &t.slab[i]
	t.unschedule(i)
	t.unlink(&t.lru[e.class], i, linkLRU)
	t.delete(i)
	*e = entry{} // drop the name strings
	t.free = append(t.free, i)
}

// oldest returns the least recently seen flow of all classes, or none.
func (t *Table) oldest() int32 {
	best := none
	for c := range t.lru {
		h := t.lru[c].head
		if h != none && (best == none || t.slab[h].last < t.slab[best].last) {
			best = h
		}
	}
	return best
}

// Flush ends every flow, oldest first, emitting its final delta. The
// table is empty afterwards and can be reused.
func (t *Table) Flush() {
	for i := t.oldest(); i != none; i = t.oldest() {
		t.stats.Flushed++
		t.remove(i, t.slab[i].last)
	}
}
