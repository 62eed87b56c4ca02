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
	remotes     map[addrKey]winRemote
	sensors     []string // sensors that reported the host's flows, at most maxSensorsPerWindow

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
	if h.remotesHint > 0 { // size the map like the last window: no regrowth
		w.remotes = make(map[addrKey]winRemote, h.remotesHint)
	}
	e.setLimits(h, w)
	h.wins = slices.Insert(h.wins, i, w)
	return w
}

// add counts one record in w. It returns the remote's entry, updated, and
// whether the remote is tracked (the per-window remote table is bounded);
// the caller writes a tracked entry back into w.remotes once its detectors
// have run (one map write per record).
func (e *Engine) addToWindow(w *window, sensor string, rk addrKey, name string, bytes uint64, start, end int64) (winRemote, bool) {
	w.bytes = addSat(w.bytes, bytes)
	w.first = min(w.first, start)
	w.last = max(w.last, end)
	if !slices.Contains(w.sensors, sensor) && len(w.sensors) < maxSensorsPerWindow {
		w.sensors = append(w.sensors, sensor)
	}
	if w.remotes == nil {
		w.remotes = make(map[addrKey]winRemote, 4)
	}
	r, ok := w.remotes[rk]
	if !ok {
		if len(w.remotes) >= e.cfg.MaxRemotesPerHost {
			e.m.windowRemotesDropped.Inc()
			return r, false
		}
		r.first = start
	}
	r.bytes = addSat(r.bytes, bytes)
	r.first = min(r.first, start)
	r.last = max(r.last, end)
	if name != "" {
		r.name = name
	}
	return r, true
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
	for rk, r := range w.remotes {
		e.m.namesEvicted.Add(e.names.set(rk, r.name))
	}
	h.base.Observe(w.start/1e9, v)
	h.remotesHint = uint16(min(len(w.remotes), 1024))
	if w.inboundBytes >= e.cfg.InboundMinBytes && h.served < 65535 {
		h.served++
	}
	e.m.windowsClosed.Inc()
}
