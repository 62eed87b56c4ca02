package engine

import "math"

// The new_destination detector: a host that has been known for at least the
// learning period (LearningWindows × Window, event time) sends more than
// NewDestMinBytes, within NewDestFor of the first time it sent anything to
// it, to a remote that at most MaxPrevalence internal hosts (itself included)
// send to. It fires once per host, remote and window.

// checkNewDest raises new_destination evidence for remote rk of h.
// r is the window's entry for rk, written back by the caller.
func (e *Engine) checkNewDest(h *host, w *window, rk addrKey, r *winRemote, d dest, at int64) {
	if r.newFired || d.bytes < e.cfg.NewDestMinBytes {
		return
	}
	first := int64(d.first) * 1e9
	if at-first >= int64(e.cfg.NewDestFor) {
		return
	}
	if h.first > first || first-h.first < int64(e.cfg.LearningWindows)*int64(e.cfg.Window) {
		return // everything is new to a host we only just met
	}
	n := e.prevalence(rk)
	if n > e.cfg.MaxPrevalence {
		return
	}
	r.newFired = true
	e.raise(h, w, evidence{
		detector:   detNewDest,
		window:     w.start,
		at:         at,
		remote:     rk,
		firstSeen:  first,
		prevalence: n,
		limit:      float64(e.cfg.NewDestMinBytes),
	})
}

// newDestScore is 50 at the minimum and 100 at a hundred times it.
func newDestScore(bytes uint64, minimum float64) float64 {
	return clampScore(50 + 25*math.Log10(float64(bytes)/minimum))
}
