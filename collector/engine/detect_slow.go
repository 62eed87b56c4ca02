package engine

import (
	"math"
	"slices"
)

// The low_and_slow detector: a drip of small uploads to one remote, none
// of them big enough for volume or new_destination, adding up over hours
// to days. For every remote, the host's net bytes to it decay with a
// half-life of LowSlowHalfLife (a sum that forgets slowly). For the
// host's established rare remotes (rare in the fleet, known since before
// the end of its learning period or for LowSlowNewFor) its largest such
// sum of each day is kept (14 days). Evidence when the sum of a young rare
// remote (first seen after the learning period, within LowSlowNewFor)
// reaches LowSlowMinBytes and LowSlowK times the median of those daily
// maxima (what the host usually accumulates with a rare server), once per
// host, remote and day.

// slowDays is how many daily maxima a host keeps.
const slowDays = 14

// slowHistory is a host's daily maxima of decayed bytes to rare remotes.
type slowHistory struct {
	days  [slowDays]float32 // ring, newest at (day-1) % slowDays
	n     uint8             // days held
	day   uint32            // unix day of today's maximum
	today float32
}

// push closes days up to (not including) day.
func (s *slowHistory) push(day uint32) {
	if s.day == 0 {
		s.day = day
		return
	}
	for d := s.day; d < day && d < s.day+slowDays+1; d++ {
		v := float32(0)
		if d == s.day {
			v = s.today
		}
		s.days[d%slowDays] = v
		if s.n < slowDays {
			s.n++
		}
	}
	if day > s.day {
		s.day, s.today = day, 0
	}
}

// normal is the median of the daily maxima held.
func (s *slowHistory) normal() float64 {
	if s.n == 0 {
		return 0
	}
	v := make([]float64, 0, slowDays)
	for i := uint32(1); i <= uint32(s.n); i++ {
		v = append(v, float64(s.days[(s.day-i)%slowDays]))
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// decay returns x decayed from t0 to t1 (unix s) with half-life hl (s).
func decay(x float32, t0, t1 uint32, hl float64) float32 {
	if t1 <= t0 || x == 0 {
		return x
	}
	return float32(float64(x) * math.Exp2(-float64(t1-t0)/hl))
}

// checkLowSlow raises evidence when d, r's remote's entry with the decayed
// sum already updated by dests.touch, is unusual.
func (e *Engine) checkLowSlow(h *host, w *window, r *held, d dest) {
	// A sum under LowSlowMinBytes/LowSlowK can neither fire nor raise the
	// limit above LowSlowMinBytes as a daily maximum: a day of such sums
	// counts as 0, which gives the same limit.
	if float64(d.slow)*e.cfg.LowSlowK < float64(e.cfg.LowSlowMinBytes) {
		return
	}
	now := unixSeconds(r.end)
	n := e.prevalence(r.remote)
	if n > e.cfg.MaxPrevalence {
		return
	}
	day := now / 86400
	h.slow.push(day)
	// Only a young relationship can be evidence: a remote first seen after
	// the host's learning period, within LowSlowNewFor. The host's normal
	// comes from the others, so a drip does not raise its own limit while
	// it builds up; a rare server the host has used since we met it (its
	// offsite backup) is its normal, not a drip.
	first := int64(d.first) * 1e9
	learned := h.first + int64(e.cfg.LearningWindows)*int64(e.cfg.Window)
	young := first >= learned && r.end-first < int64(e.cfg.LowSlowNewFor)
	if !young {
		if d.slowDay == 0 {
			h.slow.today = max(h.slow.today, d.slow)
		}
		return
	}
	// A drip spans hours: a burst to a new server is new_destination's
	// and volume's, not this detector's.
	if float64(d.slow) < float64(e.cfg.LowSlowMinBytes) || d.slowDay == uint16(day) || r.end-first < int64(e.cfg.LowSlowMinSpan) {
		return
	}
	normal := h.slow.normal()
	limit := max(float64(e.cfg.LowSlowMinBytes), e.cfg.LowSlowK*normal)
	if float64(d.slow) < limit {
		return
	}
	d.slowDay = uint16(day)
	h.dests.m[r.remote] = d
	e.raise(h, w, evidence{
		detector:   detLowSlow,
		window:     w.start,
		at:         r.end,
		remote:     r.remote,
		firstSeen:  int64(d.first) * 1e9,
		prevalence: n,
		baseline:   normal,
		limit:      limit,
		up:         uint64(d.slow),
		down:       d.bytes,
	})
}
