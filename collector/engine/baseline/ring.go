package baseline

import (
	"math"
	"slices"
)

// madFloor keeps a host with a perfectly steady volume (MAD 0) from alerting
// on any small increase: the spread used is at least 0.05 in log units, so
// with k=4 the threshold is at least 1.22× the median.
const madFloor = 0.05

// fewFloor is the least spread of an estimate from n past weeks or days:
// 0.5/√n (0.29 from 3 values, 0.1 from 25), at least madFloor. A MAD of
// three or four values says little; until there are more, a window must
// be ~3× its usual before it is unusual (k=4).
func fewFloor(n int) float64 { return max(madFloor, 0.5/math.Sqrt(float64(n))) }

// allHoursFloor is the least spread of an all-hours estimate: it stands in
// for an hour the host has no history of, so it allows ×4 (k=4) over the
// host's busy hours before it calls a window unusual.
const allHoursFloor = 0.35

// madScale turns a MAD into a standard-deviation estimate for normal data.
const madScale = 1.4826

// MinValues is how many past weeks (seasonal) or past days (day, hour) of
// an hour a finer estimate needs; with fewer, the next, coarser level
// answers. Two are enough with fewFloor's wide spread (×4 at k=4).
const MinValues = 2

const (
	day  = 86400
	week = 7 * day
)

// Level says which history an Estimate comes from, finest first.
type Level uint8

const (
	// LevelNone: no history.
	LevelNone Level = iota
	// LevelSeasonal: the same hour of the week over the past weeks, each
	// week's value the busiest of that hour and the hours either side.
	LevelSeasonal
	// LevelDay: the same, over past days of the same kind (weekday or
	// weekend, UTC).
	LevelDay
	// LevelHour: the same, over every past day (a weekend hour before
	// there are weekends to compare with).
	LevelHour
	// LevelAll: every past window, whatever its hour; its centre is the
	// 90th percentile.
	LevelAll
)

var levelNames = [...]string{"none", "seasonal", "day", "hour", "all-hours"}

func (l Level) String() string { return levelNames[l] }

// Baseline is the volume history of one host: log(1+bytes out) of each of
// its past windows, in order, including the silent ones (0), so that a
// window's value a week or a day earlier sits at a fixed distance behind
// it. Values are float32 (4 bytes each): four weeks of hourly windows cost
// 2,688 B.
type Baseline struct {
	vals   []float32 // ring, grows up to cap
	head   int       // index of the newest value
	cap    int
	step   int64 // window length (s)
	newest int64 // start (unix s) of the newest value, when len(vals) > 0

	// cache of the all-hours statistics, valid until the next Observe.
	valid       bool
	median, mad float32 // median: the 90th percentile (see Estimate)
}

// New returns an empty baseline keeping the last capacity windows
// (1..65535) of step seconds each (step divides a day).
func New(capacity int, step int64) Baseline {
	return Baseline{cap: min(max(capacity, 1), math.MaxUint16), step: max(step, 1)}
}

// Len is the number of windows held (silent ones included), at most the
// capacity.
func (b *Baseline) Len() int { return len(b.vals) }

// Newest is the start (unix s) of the newest window held; ok is false when
// the baseline is empty.
func (b *Baseline) Newest() (start int64, ok bool) { return b.newest, len(b.vals) > 0 }

// History is how many windows of history the host has for the window at
// start: those held, plus the silent ones since the newest (at most the
// capacity). Estimate's N, without the work.
func (b *Baseline) History(start int64) int {
	n := len(b.vals)
	if n == 0 {
		return 0
	}
	if gap := (start - b.newest) / b.step; gap > 1 {
		n = min(n+int(gap-1), b.cap)
	}
	return n
}

// Observe records the log volume v (log(1+bytes)) of the window starting
// at start (unix seconds). Windows between the newest one held and start
// had no traffic: they enter as 0. A start at or before the newest is
// ignored (windows close in order).
func (b *Baseline) Observe(start int64, v float64) {
	if len(b.vals) > 0 {
		if start <= b.newest {
			return
		}
		gap := (start - b.newest) / b.step
		for i := int64(1); i < min(gap, int64(b.cap)+1); i++ {
			b.push(0)
		}
	}
	b.push(float32(v))
	b.newest = start
	b.valid = false
}

func (b *Baseline) push(v float32) {
	if n := len(b.vals); n < b.cap {
		if n == cap(b.vals) { // grow by doubling, never past the capacity
			b.vals = append(make([]float32, 0, min(max(8, 2*n), b.cap)), b.vals...)
		}
		b.vals = append(b.vals, v)
		b.head = len(b.vals) - 1
		return
	}
	b.head = (b.head + 1) % b.cap
	b.vals[b.head] = v
}

// at returns the value of the window starting at s: held, or 0 when s is
// after the newest window (silent since), or false when s is before the
// history or not aligned.
func (b *Baseline) at(s int64) (float32, bool) {
	if len(b.vals) == 0 || (s-b.newest)%b.step != 0 {
		return 0, false
	}
	if s > b.newest {
		return 0, true
	}
	back := int((b.newest - s) / b.step)
	if back >= len(b.vals) {
		return 0, false
	}
	return b.vals[(b.head-back+b.cap)%b.cap], true
}

// Estimate is a baseline's answer for one window.
type Estimate struct {
	N      int     // windows the host has history for (all levels)
	Level  Level   // which history Median and Spread come from
	Values int     // windows behind Median and Spread
	Median float64 // median of log(1+bytes); LevelAll: 90th percentile
	Spread float64 // MAD×1.4826, at least the floor: a robust standard deviation
}

// Limit returns exp(Median + k·Spread) - 1: the bytes above which a window
// is unusual.
func (e Estimate) Limit(k float64) float64 { return math.Expm1(e.Median + k*e.Spread) }

// Typical returns exp(Median) - 1: the usual bytes per window.
func (e Estimate) Typical() float64 { return math.Expm1(e.Median) }

// Estimate returns the statistics for the window starting at start (unix
// seconds), from the finest level with at least MinValues windows: the
// same hour of the week, else the same hour of the day on days of the
// same kind, else all hours. scratch is reused between calls to avoid
// allocation; it is returned grown as needed.
func (b *Baseline) Estimate(start int64, scratch []float32) (Estimate, []float32) {
	n := b.History(start)
	if n == 0 {
		return Estimate{}, scratch
	}
	// Same hour of the week in past weeks; else the same hour on past
	// days of the same kind.
	if est, ok := b.slot(start, week, false, &scratch); ok {
		est.N, est.Level = n, LevelSeasonal
		return est, scratch
	}
	if est, ok := b.slot(start, day, true, &scratch); ok {
		est.N, est.Level = n, LevelDay
		return est, scratch
	}
	if est, ok := b.slot(start, day, false, &scratch); ok {
		est.N, est.Level = n, LevelHour
		return est, scratch
	}
	// Every window held. Without enough history for this hour, the
	// centre is the 90th percentile rather than the median: when the
	// hours cannot be told apart, the host's busy hours are its normal
	// (a median would call every office hour of a host that is quiet at
	// night unusual).
	if !b.valid {
		scratch = append(scratch[:0], b.vals...)
		_, b.mad = MedianMAD(scratch)
		scratch = append(scratch[:0], b.vals...)
		slices.Sort(scratch)
		b.median = scratch[(len(scratch)-1)*9/10]
		b.valid = true
	}
	return Estimate{N: n, Level: LevelAll, Values: len(b.vals), Median: float64(b.median),
		Spread: max(float64(b.mad)*madScale, allHoursFloor)}, scratch
}

// slot estimates the window at start from the same window one, two, ...
// periods earlier (with sameKind, only those on a day of start's kind:
// weekday or weekend), each taken as the busiest of
// itself and its two neighbours: a job that starts at 00:58 one night and
// 01:03 the next is normal in both hours. ok needs MinValues periods.
func (b *Baseline) slot(start, period int64, sameKind bool, scratch *[]float32) (Estimate, bool) {
	vals := (*scratch)[:0]
	oldest := b.newest - int64(len(b.vals)-1)*b.step
	weekend := isWeekend(start)
	for k := int64(1); k*period <= int64(b.cap)*b.step; k++ {
		s := start - k*period
		if s < oldest {
			break // earlier periods are before the history
		}
		if sameKind && isWeekend(s) != weekend {
			continue
		}
		v, ok := b.at(s)
		if !ok {
			continue
		}
		for _, j := range [...]int64{-1, 1} {
			if u, ok := b.at(s + j*b.step); ok {
				v = max(v, u)
			}
		}
		vals = append(vals, v)
	}
	*scratch = vals
	if len(vals) < MinValues {
		return Estimate{}, false
	}
	med, mad := MedianMAD(vals)
	return Estimate{Values: len(vals), Median: float64(med), Spread: max(float64(mad)*madScale, fewFloor(len(vals)))}, true
}

// isWeekend: Saturday or Sunday (UTC) at unix second s.
func isWeekend(s int64) bool {
	// 1970-01-01 was a Thursday: day 0 → Thursday, 2 → Saturday.
	wd := ((s/day)%7 + 7 + 4) % 7 // 0 = Sunday
	return wd == 0 || wd == 6
}

// MedianMAD sorts s in place and returns its median and its median
// absolute deviation (s is overwritten with the deviations).
func MedianMAD[F ~float32 | ~float64](s []F) (F, F) {
	med := Median(s)
	for i, v := range s {
		s[i] = F(math.Abs(float64(v) - float64(med)))
	}
	return med, Median(s)
}

// Median sorts s in place and returns its median.
func Median[F ~float32 | ~float64](s []F) F {
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Values returns the ring oldest first, for persistence, with the start
// of the newest window.
func (b *Baseline) Values() (vals []float32, newest int64) {
	out := make([]float32, 0, len(b.vals))
	if len(b.vals) == b.cap {
		i := (b.head + 1) % b.cap
		out = append(out, b.vals[i:]...)
		return append(out, b.vals[:i]...), b.newest
	}
	return append(out, b.vals...), b.newest
}

// Restore replaces the history with vals (oldest first), the newest
// starting at newest, keeping the newest values when vals is longer than
// the capacity.
func (b *Baseline) Restore(vals []float32, newest int64) {
	if len(vals) > b.cap {
		vals = vals[len(vals)-b.cap:]
	}
	b.vals = append(make([]float32, 0, len(vals)), vals...)
	b.head = len(b.vals) - 1
	b.newest = newest
	b.valid = false
}

// SizeBytes is the memory the baseline holds on the heap, for reporting.
func (b *Baseline) SizeBytes() int { return cap(b.vals) * 4 }
