package engine

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/VictoriaMetrics/metrics"
)

// Per-host series, for the Grafana host drill-down and top uploaders
// (dashboards/). They are written when windows close (once an hour by
// default), never per record, and at most MaxHostSeries hosts have them:
//
//	outflow_collector_host_upload_bytes_total{host}    net bytes out of its closed windows
//	outflow_collector_host_window_upload_bytes{host}   net bytes out of its last closed window (0: silent)
//	outflow_collector_host_window_typical_bytes{host}  that window's baseline band: usual bytes...
//	outflow_collector_host_window_limit_bytes{host}    ...and the limit above which it is unusual
//
// "Upload" is what the volume detector and the host page measure: bytes
// sent beyond what the host received on the same connections. Which hosts:
// every host while there is room; when full, hosts with an open incident
// first, then the biggest uploaders by bytes decayed with a one-day
// half-life. A newcomer must beat the weakest incumbent strictly, so the
// set changes only when the ranking really does; the series of a host that
// drops out (or that the engine evicts) are unregistered.
//
// Fleet-wide, always: outflow_collector_upload_bytes_total (every host),
// outflow_collector_host_series (hosts with series),
// outflow_collector_host_series_untracked (hosts that sent in the last
// closed windows but have no series) and
// outflow_collector_host_series_evicted_total.
type hostSeries struct {
	limit   int
	set     *metrics.Set
	tracked map[addrKey]*seriesHost
	lastEnd int64 // end of the windows of the previous pass (ns)

	upload, evicted  *metrics.Counter
	count, untracked *metrics.Gauge

	// one pass (seriesBegin .. seriesEnd)
	decay, floorScore float64
	cands             []seriesCand
	nUntracked        int
}

// seriesHost is one host with series.
type seriesHost struct {
	score                  float64 // upload decayed with hostSeriesHalfLife
	labels                 string  // {host="..."}
	upload                 *metrics.Counter
	window, typical, limit *metrics.Gauge
}

// seriesCand is a host in one pass's ranking.
type seriesCand struct {
	h        *host
	score    float64
	incident bool
	tracked  bool
	closed   bool // a window of it closed in this pass: net, typical, limit hold
	net      uint64
	typical  float64
	limit    float64
}

const hostSeriesHalfLife = 24 * 3600e9 // ns

var hostSeriesNames = [...]string{"outflow_collector_host_upload_bytes_total", "outflow_collector_host_window_upload_bytes",
	"outflow_collector_host_window_typical_bytes", "outflow_collector_host_window_limit_bytes"}

func newHostSeries(set *metrics.Set, limit int) *hostSeries {
	const p = "outflow_collector_"
	return &hostSeries{
		limit: limit, set: set, tracked: map[addrKey]*seriesHost{}, lastEnd: math.MinInt64,
		upload:    set.GetOrCreateCounter(p + "upload_bytes_total"),
		evicted:   set.GetOrCreateCounter(p + "host_series_evicted_total"),
		count:     set.GetOrCreateGauge(p+"host_series", nil),
		untracked: set.GetOrCreateGauge(p+"host_series_untracked", nil),
	}
}

// The series are updated in the same pass over the hosts as closeThrough
// closes their windows ending at or before c (ns): seriesBegin, then
// seriesConsider for each host before its windows close, then seriesEnd
// ranks the hosts whose windows closed and those with series, keeps the
// top MaxHostSeries, and writes their series.
func (e *Engine) seriesBegin(c int64) {
	s := e.hostSeries
	s.decay = 1.0
	if s.lastEnd != math.MinInt64 {
		s.decay = math.Exp2(-float64(c-s.lastEnd) / hostSeriesHalfLife)
	}
	s.lastEnd = c
	s.floorScore = s.floor(e, s.decay)
	s.cands, s.nUntracked = s.cands[:0], 0
}

func (e *Engine) seriesConsider(h *host, c int64) {
	s := e.hostSeries
	step := int64(e.cfg.Window)
	var x seriesCand
	for _, w := range h.wins {
		if w.start+step > c {
			break
		}
		x.closed, x.net, x.typical, x.limit = true, addSat(x.net, w.net), w.typical, w.limit
	}
	if x.closed {
		s.upload.AddInt64(int64(min(x.net, math.MaxInt64)))
	}
	t := h.series
	x.h, x.incident, x.tracked, x.score = h, h.inc != nil, t != nil, float64(x.net)
	switch {
	case t != nil:
		x.score += t.score * s.decay
	case !x.closed:
		return
	case s.limit == 0 || (!x.incident && x.score <= s.floorScore):
		s.nUntracked++ // cannot beat any host that has series
		return
	}
	s.cands = append(s.cands, x)
}

func (e *Engine) seriesEnd(c int64) {
	s := e.hostSeries
	step := int64(e.cfg.Window)
	cands, untracked := s.cands, s.nUntracked
	s.rank(e, cands)
	for _, x := range cands {
		t := x.h.series
		if t == nil {
			if x.closed {
				untracked++
			}
			continue
		}
		if !x.closed { // a silent window: nothing sent, against the band it had
			x.limit, x.typical, _ = e.limits(x.h, (c-step)/1e9)
		}
		t.score = x.score
		t.upload.AddInt64(int64(min(x.net, math.MaxInt64)))
		t.window.Set(float64(x.net))
		t.typical.Set(x.typical)
		t.limit.Set(x.limit)
	}
	s.count.Set(float64(len(s.tracked)))
	s.untracked.Set(float64(untracked))
}

// floor drops the series of hosts the engine evicted and returns a score a
// new host without an incident must beat to get series: when every slot is
// taken, the least any incumbent without an incident will score (scores
// only decay and grow), and -Inf while there is room.
func (s *hostSeries) floor(e *Engine, decay float64) float64 {
	floor := math.Inf(1)
	for k, t := range s.tracked {
		switch h := e.hosts[k]; {
		case h == nil || h.series != t: // evicted (and perhaps back as a new host)
			s.drop(e, k)
		case h.inc == nil:
			floor = min(floor, t.score*decay)
		}
	}
	if len(s.tracked) < s.limit {
		return math.Inf(-1)
	}
	return floor
}

// rank admits the best candidates and drops the tracked hosts they push
// out. Order: open incident, score, incumbent, address (replays agree).
func (s *hostSeries) rank(e *Engine, cands []seriesCand) {
	if len(cands) > s.limit {
		slices.SortFunc(cands, func(a, b seriesCand) int {
			return cmp.Or(-cmpBool(a.incident, b.incident), cmp.Compare(b.score, a.score),
				-cmpBool(a.tracked, b.tracked), compareKeys(a.h.key, b.h.key))
		})
		for _, x := range cands[s.limit:] {
			if x.tracked {
				s.drop(e, x.h.key)
			}
		}
	}
	for _, x := range cands[:min(len(cands), s.limit)] {
		if !x.tracked {
			s.add(x.h)
		}
	}
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func (s *hostSeries) add(h *host) {
	l := fmt.Sprintf(`{host=%q}`, h.key.String())
	h.series = &seriesHost{labels: l,
		upload:  s.set.GetOrCreateCounter(hostSeriesNames[0] + l),
		window:  s.set.GetOrCreateGauge(hostSeriesNames[1]+l, nil),
		typical: s.set.GetOrCreateGauge(hostSeriesNames[2]+l, nil),
		limit:   s.set.GetOrCreateGauge(hostSeriesNames[3]+l, nil),
	}
	s.tracked[h.key] = h.series
}

func (s *hostSeries) drop(e *Engine, k addrKey) {
	t := s.tracked[k]
	if h := e.hosts[k]; h != nil {
		h.series = nil
	}
	for _, n := range hostSeriesNames {
		s.set.UnregisterMetric(n + t.labels)
	}
	delete(s.tracked, k)
	s.evicted.Inc()
}
