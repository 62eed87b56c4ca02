package engine

import (
	"math"
	"slices"
)

// window is one host's bytes out in one tumbling window. Once closed it is
// immutable; a pending group may still hold it to build its alert.
type window struct {
	start       int64 // ns, aligned to the window length
	bytes       uint64
	net         uint64 // bytes beyond what the host received on the same connections: what volume measures
	first, last int64  // earliest record start, latest record end (ns)
	// rems is every remote the host sent to in the window, in order of
	// first record, at most MaxRemotesPerHost. The host's destination entry
	// for a remote remembers its slot here (dest.win, dest.slot), so a
	// record costs no lookup of its own in the window.
	rems []winRemote
	// lostSlots: a destination entry holding a slot here was evicted, so a
	// remote without one may still have an entry (found by scanning).
	lostSlots bool
	sensors   []string // sensors that reported the host's flows, at most maxSensorsPerWindow

	// volume limits, from the host's baseline when the window opened
	// (every earlier window had closed by then).
	limit   float64 // bytes above which the window is unusual
	typical float64 // exp(median) of the baseline, 0 while learning
	basis   basis   // where the limit comes from

	volumeFired bool

	// p2p: remotes spoken to with both ports high, those that connected
	// in, and the bytes to and from them.
	p2pPeers, p2pInPeers int
	p2pUp, p2pDown       uint64
	p2pFired             bool // evidence raised (a client, or serving)
	p2pServing           bool // evidence of serving raised
	// inbound_pull: bytes the host sent on connections remotes opened.
	inboundBytes uint64
}

// winRemote is what a host sent to one remote in one window.
type winRemote struct {
	key         addrKey
	bytes       uint64
	first, last int64
	name        string // latest name the sensors learned for the remote
	newFired    bool   // new_destination raised for it in this window

	inbound   uint64 // bytes sent on connections the remote opened
	longBytes uint64 // bytes sent on connections older than LongLivedAge
	p2p       bool   // counted as a p2p peer (both ports high)
	p2pIn     bool   // ... that connected in
	inFired   bool   // inbound_pull raised for it
	longFired bool   // long_lived raised for it
}

const maxSensorsPerWindow = 8

// remote returns w's entry for k, nil when it has none. It scans: for
// building alerts and explanations, not for every record.
func (w *window) remote(k addrKey) *winRemote {
	for i := range w.rems {
		if w.rems[i].key == k {
			return &w.rems[i]
		}
	}
	return nil
}

// get returns w's entry for k, the zero entry when it has none.
func (w *window) get(k addrKey) winRemote {
	if r := w.remote(k); r != nil {
		return *r
	}
	return winRemote{}
}

// remoteName is the name learned for k in w, "" when none.
func (w *window) remoteName(k addrKey) string {
	if r := w.remote(k); r != nil {
		return r.name
	}
	return ""
}

// linkSlots points the host's destination entries at their slots in its
// open window w (after a restore: slots are not stored).
func (e *Engine) linkSlots(h *host, w *window) {
	id := e.winID(w.start)
	for i := range w.rems {
		k := w.rems[i].key
		d, ok := h.dests.m[k]
		if !ok {
			w.lostSlots = true
			continue
		}
		d.win, d.slot = id, int32(i)
		h.dests.m[k] = d
	}
}

// winID names the window starting at start (ns) in a destination entry:
// its index since the epoch, plus one (0: no window).
func (e *Engine) winID(start int64) uint32 {
	return uint32(max(start/int64(e.cfg.Window), 0)) + 1
}

// windowStart aligns ns down to the window length (floor, also before 1970).
func (e *Engine) windowStart(ns int64) int64 {
	w := int64(e.cfg.Window)
	if ns < math.MinInt64+w {
		return math.MinInt64
	}
	s := ns - ns%w
	if ns < 0 && s != ns {
		s -= w
	}
	return s
}

// windowFor returns h's open window starting at start, opening it when
// needed.
func (e *Engine) windowFor(h *host, start int64) *window {
	if n := len(h.wins); n > 0 && h.wins[n-1].start == start {
		return h.wins[n-1] // the usual case: the host's current window
	}
	i, found := slices.BinarySearchFunc(h.wins, start, func(w *window, s int64) int {
		switch {
		case w.start < s:
			return -1
		case w.start > s:
			return 1
		}
		return 0
	})
	if found {
		return h.wins[i]
	}
	w := &window{start: start, first: math.MaxInt64, last: math.MinInt64}
	if h.remotesHint > 0 { // size the table like the last window: no regrowth
		w.rems = make([]winRemote, 0, h.remotesHint)
	}
	e.setLimits(h, w)
	h.wins = slices.Insert(h.wins, i, w)
	return w
}

// addToWindow counts one record in w. d is the host's destination entry
// for rk, already updated for the record; it remembers rk's slot in w (and
// is written back to the host's table when the slot is new). It returns
// the remote's entry in w, or nil when the window's remote table is full
// (the record still counts in the window's totals). The entry is valid
// until the next record of the host.
func (e *Engine) addToWindow(h *host, w *window, sensor string, rk addrKey, d *dest, name string, bytes uint64, start, end int64) *winRemote {
	w.bytes = addSat(w.bytes, bytes)
	w.first = min(w.first, start)
	w.last = max(w.last, end)
	if !slices.Contains(w.sensors, sensor) && len(w.sensors) < maxSensorsPerWindow {
		w.sensors = append(w.sensors, sensor)
	}
	i := -1
	if id := e.winID(w.start); d.win == id {
		i = int(d.slot)
	} else {
		if w.lostSlots {
			i = slices.IndexFunc(w.rems, func(r winRemote) bool { return r.key == rk })
		}
		if i < 0 {
			if len(w.rems) >= e.cfg.MaxRemotesPerHost {
				e.m.windowRemotesDropped.Inc()
				return nil
			}
			i = len(w.rems)
			w.rems = append(w.rems, winRemote{key: rk, first: start})
		}
		d.win, d.slot = id, int32(i)
		h.dests.m[rk] = *d
	}
	r := &w.rems[i]
	r.bytes = addSat(r.bytes, bytes)
	r.first = min(r.first, start)
	r.last = max(r.last, end)
	if name != "" {
		r.name = name
	}
	return r
}

// closeThrough closes every host window that ends at or before c (ns,
// aligned): its volume enters the baseline, clipped to the window's limit
// when it was anomalous so an exfiltration does not teach the baseline that
// exfiltration is normal. Records are processed in event-time order and
// this runs before the first record of a later window, so when a window
// opens every earlier one has closed: a host has at most one open window,
// and its limit is final from the start.
func (e *Engine) closeThrough(c int64) {
	e.seriesBegin(c)
	w := int64(e.cfg.Window)
	for _, h := range e.hosts {
		e.seriesConsider(h, c)
		n := 0
		for n < len(h.wins) && h.wins[n].start+w <= c {
			e.closeWindow(h, h.wins[n])
			n++
		}
		if n == 0 {
			continue
		}
		h.wins = slices.Delete(h.wins, 0, n)
		e.markDirty(h)
	}
	e.seriesEnd(c)
	e.closed = c
	e.saveDue = true // saved once the batch is done, never halfway through it
}

func (e *Engine) closeWindow(h *host, w *window) {
	v := math.Log1p(float64(w.net))
	if float64(w.net) > w.limit {
		v = math.Log1p(w.limit)
		h.addPeak(w.start/1e9, w.net)
	}
	for i := range w.rems {
		e.m.namesEvicted.Add(e.names.set(w.rems[i].key, w.rems[i].name))
	}
	h.base.Observe(w.start/1e9, v)
	h.remotesHint = uint16(min(len(w.rems), 1024))
	if w.inboundBytes >= e.cfg.InboundMinBytes && h.served < 65535 {
		h.served++
	}
	e.m.windowsClosed.Inc()
}
