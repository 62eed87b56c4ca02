package engine

import (
	"cmp"
	"sort"

	"github.com/outflowhq/outflow/flow"
)

// Records are not processed as they arrive but in one canonical order, once
// the watermark has passed them. Sensors cut batches partly on wall time
// and a batch's clock moves the watermark, so "what had arrived when the
// watermark moved" differs between two replays of the same capture. Which
// records ended before a given event time does not: a record that is on
// time (it ends after the watermark in force when it arrives) can only come
// after every record already released. So the engine holds each record
// until the watermark reaches its End, then feeds it to the windows and
// detectors in (End, host, remote, arrival) order. Everything downstream —
// which window a record lands in, when windows close and baselines learn,
// which record crosses a limit, which evidence joins which group, what an
// alert reports — is then a function of the records alone.

// maxHeld bounds the records waiting for the watermark (≈ 140 B each). In
// normal operation the queue holds AllowedLateness worth of records plus
// one batch; a sensor that lags just short of SensorIdle can hold it back
// longer. Past the bound the oldest are processed before the watermark
// reaches them (counted in held_overflow_total), which keeps memory bounded
// at the price of the replay guarantee for those records.
const maxHeld = 1 << 20

// held is a record waiting for the watermark, reduced to what the engine
// uses: an outbound byte count from an internal host to a remote, or (only
// for the DNS detector) a query a host asked an internal resolver.
type held struct {
	end, start   int64 // ns; start <= end
	flowStart    int64 // ns, first packet of the connection; <= start
	bytes        uint64
	in           uint64 // bytes the host received in the same record
	host, remote addrKey
	name         string // name the sensor learned for the remote, "" when none
	sensor       string
	hostPort     uint16
	remotePort   uint16
	proto        uint8
	inbound      bool   // the remote initiated the connection
	dnsOnly      bool   // a query to an internal server: only checkDNS looks at it
	query        string // DNS query name the host asked in this record, "" when none
}

// compareHeld is the processing order. Ties on End are broken by host and
// remote so that records of different hosts (or from different sensors,
// whose batches interleave arbitrarily) ending at the same instant are
// processed in the same order in every run; what remains tied keeps its
// arrival order.
func compareHeld(a, b *held) int {
	if a.end != b.end {
		return cmp.Compare(a.end, b.end)
	}
	return cmp.Or(compareKeys(a.host, b.host), compareKeys(a.remote, b.remote))
}

// holdQueue keeps held records in processing order. q[head:] are waiting;
// the processed prefix is reclaimed lazily so the common case (a batch that
// ends after everything waiting) is an append.
type holdQueue struct {
	q     []held
	head  int
	tmp   []held // merge scratch, reused
	limit int    // most records waiting after a batch (maxHeld; tests lower it)
}

func (h *holdQueue) len() int { return len(h.q) - h.head }

// waiting returns the records not processed yet, in order.
func (h *holdQueue) waiting() []held { return h.q[h.head:] }

// hold reduces r to a held record and appends it (unordered; see order).
// It reports false for records the engine ignores: internal or external
// only, nothing sent by the internal host, or no end time. An internal
// record that carries a DNS query is kept for the DNS detector: the host
// that asked is its initiator (Src), the remote its resolver.
func (h *holdQueue) hold(sensor string, r *flow.Record) bool {
	hostAddr, remote, out, in, name, ok := r.Local()
	query, dnsOnly := "", false
	if r.Query != "" && r.SrcPackets > 0 { // a delta with only the answer asked nothing
		switch r.Direction {
		case flow.Outbound:
			query = r.Query
		case flow.Internal:
			query, dnsOnly = r.Query, true
			hostAddr, remote, out, in, name, ok = r.SrcAddr, r.DstAddr, r.SrcBytes, r.DstBytes, r.DstName, true
		}
	}
	if !ok || out == 0 || r.End.IsZero() {
		return false
	}
	end := r.End.UnixNano()
	start := end
	if !r.Start.IsZero() {
		start = min(r.Start.UnixNano(), end)
	}
	flowStart := start
	if !r.FlowStart.IsZero() {
		flowStart = min(r.FlowStart.UnixNano(), start)
	}
	hp, rp := r.SrcPort, r.DstPort
	if r.Direction == flow.Inbound {
		hp, rp = rp, hp
	}
	h.q = append(h.q, held{end: end, start: start, flowStart: flowStart, bytes: out, in: in,
		host: keyOf(hostAddr), remote: keyOf(remote), name: name, sensor: sensor,
		hostPort: hp, remotePort: rp, proto: r.Proto, inbound: r.Direction == flow.Inbound,
		dnsOnly: dnsOnly, query: query})
	return true
}

// order puts the records appended since the queue had n entries into
// place: a stable sort of the new ones, then a merge with the waiting ones
// they overlap (earlier arrivals first on ties).
func (h *holdQueue) order(n int) {
	in := h.q[n:]
	if len(in) == 0 {
		return
	}
	// By pointer: a held record is ~140 bytes, and the comparison
	// functions of slices copy both arguments.
	for i := 1; i < len(in); i++ {
		if compareHeld(&in[i-1], &in[i]) > 0 {
			sort.Stable(heldOrder(in))
			break
		}
	}
	old := h.q[h.head:n]
	if len(old) == 0 || compareHeld(&old[len(old)-1], &in[0]) <= 0 {
		return // the usual case: the batch ends after everything waiting
	}
	// Only the waiting records after in[0] need to move: copy them aside
	// and merge them with the batch back into place. The write index never
	// passes the read index into the batch, so this is safe in place.
	pos := h.head + sort.Search(len(old), func(i int) bool { return compareHeld(&old[i], &in[0]) > 0 })
	left := append(h.tmp[:0], h.q[pos:n]...)
	w, i, j := pos, 0, n
	for i < len(left) && j < len(h.q) {
		if compareHeld(&h.q[j], &left[i]) < 0 {
			h.q[w] = h.q[j]
			j++
		} else {
			h.q[w] = left[i]
			i++
		}
		w++
	}
	w += copy(h.q[w:], left[i:])
	clear(left)
	h.tmp = left[:0]
}

// next returns the first waiting record if it ends at or before limit.
func (h *holdQueue) next(limit int64) (*held, bool) {
	if h.head < len(h.q) && h.q[h.head].end <= limit {
		r := &h.q[h.head]
		h.head++
		return r, true
	}
	return nil, false
}

// compact reclaims the processed prefix once it is at least half the
// queue, so each record is moved O(1) times on average.
func (h *holdQueue) compact() {
	if h.head == 0 || h.head < len(h.q)-h.head {
		return
	}
	n := copy(h.q, h.q[h.head:])
	clear(h.q[n:]) // drop string references
	h.q = h.q[:n]
	h.head = 0
}

// heldOrder sorts held records by compareHeld without copying them to
// compare.
type heldOrder []held

func (h heldOrder) Len() int           { return len(h) }
func (h heldOrder) Less(i, j int) bool { return compareHeld(&h[i], &h[j]) < 0 }
func (h heldOrder) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
