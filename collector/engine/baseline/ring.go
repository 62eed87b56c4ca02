package baseline

import (
	"math"
	"slices"
)

// madFloor keeps a host with a perfectly steady volume (MAD 0) from alerting
// on any small increase: the spread used is at least 0.05 in log units, so
// with k=4 the threshold is at least 1.35× the median.
const madFloor = 0.05

// madScale turns a MAD into a standard-deviation estimate for normal data.
const madScale = 1.4826

// Baseline is the volume history of one host. Values are float32 (4 bytes
// each): log(1+bytes) needs no more precision, and 168 windows cost 672 B.
//
// Seasonality (hour-of-week slots, falling back to this all-hours ring) will
// add fields here; callers already pass the window start to Observe and
// Estimate so they need not change.
type Baseline struct {
	vals []float32 // ring, grows up to capacity
	next uint16    // index of the oldest value once the ring is full
	cap  uint16

	// cache of the statistics, valid until the next Observe.
	valid       bool
	median, mad float32
}

// New returns an empty baseline keeping the last capacity values
// (1..65535).
func New(capacity int) Baseline {
	return Baseline{cap: uint16(min(max(capacity, 1), math.MaxUint16))}
}

// Len is the number of windows observed, at most the capacity.
func (b *Baseline) Len() int { return len(b.vals) }

// Observe records the log volume v (log(1+bytes)) of the window starting at
// start (unix seconds), evicting the oldest value when full.
func (b *Baseline) Observe(start int64, v float64) {
	_ = start // reserved for hour-of-week slots
	if n := len(b.vals); n < int(b.cap) {
		if n == cap(b.vals) { // grow by doubling, but never past the capacity
			b.vals = append(make([]float32, 0, min(max(8, 2*n), int(b.cap))), b.vals...)
		}
		b.vals = append(b.vals, float32(v))
	} else {
		b.vals[b.next] = float32(v)
		b.next = (b.next + 1) % b.cap
	}
	b.valid = false
}

// Estimate is a baseline's answer for one window.
type Estimate struct {
	N      int     // windows behind the estimate
	Median float64 // median of log(1+bytes)
	Spread float64 // MAD×1.4826, at least the floor: a robust standard deviation
}

// Limit returns exp(Median + k·Spread) - 1: the bytes above which a window
// is unusual.
func (e Estimate) Limit(k float64) float64 { return math.Expm1(e.Median + k*e.Spread) }

// Typical returns exp(Median) - 1: the usual bytes per window.
func (e Estimate) Typical() float64 { return math.Expm1(e.Median) }

// Estimate returns the statistics for the window starting at start (unix
// seconds). scratch is reused between calls to avoid allocation; it is
// returned grown as needed.
func (b *Baseline) Estimate(start int64, scratch []float32) (Estimate, []float32) {
	_ = start
	if len(b.vals) == 0 {
		return Estimate{}, scratch
	}
	if !b.valid {
		scratch = append(scratch[:0], b.vals...)
		med := median(scratch)
		for i, v := range scratch {
			scratch[i] = float32(math.Abs(float64(v) - float64(med)))
		}
		b.median, b.mad, b.valid = med, median(scratch), true
	}
	spread := max(float64(b.mad)*madScale, madFloor)
	return Estimate{N: len(b.vals), Median: float64(b.median), Spread: spread}, scratch
}

// median sorts s in place and returns its median.
func median(s []float32) float32 {
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Values returns the ring oldest first, for persistence.
func (b *Baseline) Values() []float32 {
	out := make([]float32, 0, len(b.vals))
	if len(b.vals) == int(b.cap) {
		out = append(out, b.vals[b.next:]...)
		return append(out, b.vals[:b.next]...)
	}
	return append(out, b.vals...)
}

// Restore replaces the ring with vals (oldest first), keeping the newest
// values when vals is longer than the capacity.
func (b *Baseline) Restore(vals []float32) {
	if len(vals) > int(b.cap) {
		vals = vals[len(vals)-int(b.cap):]
	}
	b.vals = append(make([]float32, 0, len(vals)), vals...)
	b.next = 0
	b.valid = false
}

// SizeBytes is the memory the baseline holds on the heap, for reporting.
func (b *Baseline) SizeBytes() int { return cap(b.vals) * 4 }
