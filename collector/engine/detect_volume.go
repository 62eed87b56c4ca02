package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/outflowhq/outflow/collector/engine/baseline"
)

// The volume detector: a host's bytes out in the current window exceed
// max(VolumeMinBytes, exp(median + VolumeK·MAD·1.4826)) of the finest
// baseline that knows enough about this hour:
//   - the host's own history, once it has LearningWindows windows: the
//     same hour of the week over past weeks, else the same hour of the day
//     on days of the same kind, else all its hours (baseline.Estimate);
//   - while it is younger, its peers': the median of the estimates of the
//     grown-up hosts of its peer group (PeerGroups, else its /24 or /64),
//     when there are at least minPeers of them;
//   - else the Backstop.
//
// It fires on the record that crosses the limit, once per window.

// basis says where a window's volume limit came from. The numbering keeps
// the state stored before it existed readable: 0 and 1 were the old
// "learning" flag.
type basis uint8

const (
	basisAll      basis = iota // the host's history, all hours
	basisBackstop              // nothing to compare with: the absolute backstop
	basisSeasonal              // the host's history, same hour of the week
	basisDay                   // the host's history, same hour of the day and kind of day
	basisPeers                 // the host's peer group
	basisHour                  // the host's history, same hour of the day on any day
	numBases
)

var limitLevels = [numBases]string{"all-hours", "backstop", "seasonal", "day", "peers", "hour"}

func (b basis) String() string { return limitLevels[b] }

func decodeBasis(d *dec) basis {
	v := d.uint()
	if v >= uint64(numBases) {
		d.fail(fmt.Errorf("unknown volume basis %d", v))
		return basisBackstop
	}
	return basis(v)
}

// minPeers is how many grown-up hosts a peer group needs to stand in for a
// young host's baseline.
const minPeers = 3

// maxPeers bounds the members a peer group tracks (the first ones seen).
const maxPeers = 64

// setLimits computes w's volume limit from h's baseline as it is now.
func (e *Engine) setLimits(h *host, w *window) {
	e.computeLimits(h, w)
	e.m.limitLevel[w.basis].Inc()
}

func (e *Engine) computeLimits(h *host, w *window) {
	start := w.start / 1e9
	est, scratch := h.base.Estimate(start, e.scratch)
	e.scratch = scratch
	b := basisBackstop
	switch {
	case est.N >= e.cfg.LearningWindows:
		b = map[baseline.Level]basis{baseline.LevelSeasonal: basisSeasonal, baseline.LevelDay: basisDay,
			baseline.LevelHour: basisHour, baseline.LevelAll: basisAll}[est.Level]
	default:
		if pe, ok := e.peerEstimate(h, start); ok {
			est, b = pe, basisPeers
		}
	}
	w.basis = b
	if b == basisBackstop {
		w.limit, w.typical = float64(max(e.cfg.Backstop, e.cfg.VolumeMinBytes)), 0
		return
	}
	w.limit = max(float64(e.cfg.VolumeMinBytes), est.Limit(e.cfg.VolumeK))
	w.typical = est.Typical()
}

// peerEstimate is the median of the estimates of h's grown-up peers for
// the window starting at start (unix s).
//
// The answer is kept per group and window, since every young host of a
// group asks for the same window: the first asker's answer (without
// itself, which is young anyway) serves the others.
func (e *Engine) peerEstimate(h *host, start int64) (baseline.Estimate, bool) {
	gk := e.peerGroup(h.key)
	g := e.peers[gk]
	if g == nil {
		return baseline.Estimate{}, false
	}
	if g.cachedStart == start && g.cached {
		return g.est, g.ok
	}
	g.cachedStart, g.cached = start, true
	meds, spreads := e.peerMed[:0], e.peerSpread[:0]
	for _, k := range g.members {
		p := e.hosts[k]
		if p == nil || p == h || p.base.History(start) < e.cfg.LearningWindows {
			continue
		}
		est, scratch := p.base.Estimate(start, e.scratch)
		e.scratch = scratch
		if est.N < e.cfg.LearningWindows {
			continue
		}
		meds = append(meds, est.Median)
		spreads = append(spreads, est.Spread)
	}
	e.peerMed, e.peerSpread = meds, spreads
	g.est, g.ok = baseline.Estimate{}, false
	if len(meds) >= minPeers {
		g.est, g.ok = baseline.Estimate{N: len(meds), Median: baseline.Median(meds), Spread: baseline.Median(spreads)}, true
	}
	return g.est, g.ok
}

// peerGroup is the key of k's peer group: the first configured group
// containing it, else its /24 (IPv4) or /64 (IPv6).
func (e *Engine) peerGroup(k addrKey) addrKey {
	a := k.addr()
	for i, p := range e.peerPrefixes {
		if p.Contains(a) {
			var g addrKey
			g[0], g[1], g[2] = 0xff, byte(i>>8), byte(i) // not an address: configured group i
			return g
		}
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits)
	return keyOf(p.Addr())
}

// peerGroups holds each group's members, bounded.
type peerGroup struct {
	members []addrKey

	// the group's estimate for the window starting at cachedStart (s)
	cachedStart int64
	cached, ok  bool
	est         baseline.Estimate
}

func (e *Engine) joinPeers(k addrKey) {
	gk := e.peerGroup(k)
	g := e.peers[gk]
	if g == nil {
		g = &peerGroup{}
		e.peers[gk] = g
	}
	if len(g.members) < maxPeers {
		g.members = append(g.members, k)
	}
}

func (e *Engine) leavePeers(k addrKey) {
	gk := e.peerGroup(k)
	g := e.peers[gk]
	if g == nil {
		return
	}
	if i := slices.Index(g.members, k); i >= 0 {
		g.members = slices.Delete(g.members, i, i+1)
	}
	if len(g.members) == 0 {
		delete(e.peers, gk)
	}
}

// checkVolume raises volume evidence when w has just crossed its limit, on
// the record (to remote, ending at at) that crossed it.
func (e *Engine) checkVolume(h *host, w *window, remote addrKey, at int64) {
	if w.volumeFired || float64(w.net) <= w.limit {
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
		basis:    w.basis,
	})
}

// volumeScore is 50 at the limit and 100 at ten times the limit.
func volumeScore(bytes uint64, limit float64) float64 {
	return clampScore(50 + 50*math.Log10(float64(bytes)/limit))
}

func clampScore(s float64) float64 {
	return math.Round(min(max(s, 0), 100)*10) / 10
}
