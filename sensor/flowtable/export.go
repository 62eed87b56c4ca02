package flowtable

import (
	"time"

	"github.com/outflowhq/outflow/flow"
)

// Tick tells the table that event time reached now (Unix ns). At most once
// per granule (a tenth of the shortest timeout, at most 1s) it expires idle
// and closed flows, emitting their final deltas, and exports the pending
// deltas of flows whose previous export is at least ActiveInterval old.
// Calling it for every packet is cheap.
func (t *Table) Tick(now int64) {
	if now < t.nextWork {
		return
	}
	t.nextWork = (floorDiv(now, t.gran) + 1) * t.gran
	t.expire(now)
	t.runWheel(now)
}

// expire removes flows idle past their class's timeout, oldest first. Each
// LRU list is ordered by last packet, so only expired heads are visited.
func (t *Table) expire(now int64) {
	for {
		best := none
		for c := range t.lru {
			h := t.lru[c].head
			if h == none || t.slab[h].last+t.idle[c] > now {
				continue
			}
			if best == none || t.slab[h].last < t.slab[best].last {
				best = h
			}
		}
		if best == none {
			return
		}
		t.stats.Expired++
		t.remove(best, now)
	}
}

// export emits flow i's pending delta, if it has packets, and starts a new
// one. now becomes the flow's last export time.
func (t *Table) export(i int32, now int64, final bool) {
	e := &t.slab[i]
	if !e.pending() {
		return
	}
	src, dst := e.init, 1-e.init
	k := &e.key
	if t.namer != nil {
		// A DNS answer may have arrived after the flow started.
		for s := range e.names {
			if e.names[s] == "" {
				e.names[s] = t.namer.Lookup(k.addr(uint8(s)))
			}
		}
	}
	r := &t.rec
	*r = flow.Record{
		Proto:            k.proto,
		VLAN:             k.vlan,
		SrcAddr:          k.addr(src),
		DstAddr:          k.addr(dst),
		SrcPort:          k.port(src),
		DstPort:          k.port(dst),
		SrcBytes:         e.bytes[src],
		DstBytes:         e.bytes[dst],
		SrcPackets:       e.pkts[src],
		DstPackets:       e.pkts[dst],
		Start:            eventTime(e.dStart),
		End:              eventTime(e.dEnd),
		FlowStart:        eventTime(e.first),
		SrcFlags:         e.flags[src],
		DstFlags:         e.flags[dst],
		InitiatorFromSYN: e.fromSYN,
		Final:            final,
		SrcName:          e.names[src],
		DstName:          e.names[dst],
		Query:            e.query,
	}
	r.Direction = t.internal.Classify(r.SrcAddr, r.DstAddr)
	e.pkts, e.bytes, e.flags = [2]uint64{}, [2]uint64{}, [2]uint8{}
	e.exported = true
	e.lastExport = now
	t.stats.Records++
	t.emitFn(r)
}

func eventTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
