package engine

import (
	"cmp"
	"slices"
)

// detector identifies a detector in evidence and in the store.
type detector uint8

const (
	detVolume detector = iota + 1
	detNewDest
	numDetectors = 2
)

var detectorNames = [...]string{detVolume: "volume", detNewDest: "new_destination"}

func (d detector) String() string {
	if int(d) < len(detectorNames) && d > 0 {
		return detectorNames[d]
	}
	return "unknown"
}

// evidence is one detector's finding as raised; the byte counts and times
// are read from the window when the alert is built, so the alert shows
// what the host had sent by then.
type evidence struct {
	detector   detector
	window     int64 // start of the window it was raised in (ns)
	at         int64 // end of the record that raised it (ns)
	remote     addrKey
	firstSeen  int64   // new_destination: when the host first sent to remote (ns)
	prevalence int     // new_destination: hosts sending to remote
	baseline   float64 // volume: typical bytes per window, 0 while learning
	limit      float64 // bytes it had to exceed
	learning   bool    // volume: limit is the backstop
}

// group is a host's evidence waiting for GroupWait so that detectors firing
// close together make one alert.
type group struct {
	deadline int64 // emit when the watermark reaches it (ns)
	evs      []evidence
	wins     []*window // windows the evidence was raised in, oldest first
}

// raise adds evidence to h's pending group, opening one if needed.
func (e *Engine) raise(h *host, w *window, ev evidence) {
	e.m.evidence[ev.detector].Inc()
	g := h.pending
	if g == nil {
		g = &group{deadline: ev.at + int64(e.cfg.GroupWait)}
		h.pending = g
		e.pending = append(e.pending, h)
	}
	g.evs = append(g.evs, ev)
	if !slices.Contains(g.wins, w) {
		g.wins = append(g.wins, w)
		slices.SortFunc(g.wins, func(a, b *window) int { return cmp.Compare(a.start, b.start) })
	}
	e.markDirty(h)
}

// emitReady turns every group whose deadline the watermark has reached into
// an alert, in deadline then host order so replays emit in the same order.
func (e *Engine) emitReady(wm int64) {
	var ready []*host
	keep := e.pending[:0]
	for _, h := range e.pending {
		if h.pending == nil {
			continue // emitted on eviction
		}
		if h.pending.deadline <= wm {
			ready = append(ready, h)
		} else {
			keep = append(keep, h)
		}
	}
	clear(e.pending[len(keep):])
	e.pending = keep
	slices.SortFunc(ready, func(a, b *host) int {
		return cmp.Or(cmp.Compare(a.pending.deadline, b.pending.deadline), compareKeys(a.key, b.key))
	})
	for _, h := range ready {
		e.emit(h)
	}
}

// emit builds h's pending group into an alert and appends it to the output.
func (e *Engine) emit(h *host) {
	a := e.buildAlert(h, h.pending)
	h.pending = nil
	e.markDirty(h)
	for _, d := range a.Detectors {
		e.m.alertCounter(d, a.Severity).Inc()
	}
	e.out = append(e.out, a)
}
