package engine

import "math"

// The volume detector: a host's bytes out in the current window exceed
// max(VolumeMinBytes, exp(median + VolumeK·MAD·1.4826)) of its baseline, or,
// while the host has fewer than LearningWindows windows of history, the
// Backstop. It fires on the record that crosses the limit, once per window.

// setLimits computes w's volume limit from h's baseline as it is now.
func (e *Engine) setLimits(h *host, w *window) {
	est, scratch := h.base.Estimate(w.start/1e9, e.scratch)
	e.scratch = scratch
	if est.N < e.cfg.LearningWindows {
		w.limit, w.typical, w.learning = float64(max(e.cfg.Backstop, e.cfg.VolumeMinBytes)), 0, true
		return
	}
	w.limit = max(float64(e.cfg.VolumeMinBytes), est.Limit(e.cfg.VolumeK))
	w.typical = est.Typical()
	w.learning = false
}

// checkVolume raises volume evidence when w has just crossed its limit, on
// the record (to remote, ending at at) that crossed it.
func (e *Engine) checkVolume(h *host, w *window, remote addrKey, at int64) {
	if w.volumeFired || float64(w.bytes) <= w.limit {
		return
	}
	w.volumeFired = true
	e.raise(h, w, evidence{
		detector: detVolume,
		window:   w.start,
		at:       at,
		remote:   remote,
		baseline: w.typical,
		limit:    w.limit,
		learning: w.learning,
	})
}

// volumeScore is 50 at the limit and 100 at ten times the limit.
func volumeScore(bytes uint64, limit float64) float64 {
	return clampScore(50 + 50*math.Log10(float64(bytes)/limit))
}

func clampScore(s float64) float64 {
	return math.Round(min(max(s, 0), 100)*10) / 10
}
