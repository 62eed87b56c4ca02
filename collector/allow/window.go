package allow

import "time"

// window is a validated maintenance window.
type window struct {
	scope
	// One-off: [from, to).
	from, to time.Time
	// Recurring (loc set): from the wall-clock time hh:mm in loc, every
	// day (daily) or on weekday, for dur of real time.
	weekday time.Weekday
	daily   bool
	hh, mm  int
	dur     time.Duration
	loc     *time.Location
}

// covers reports whether t falls in the window. For a recurring window
// only the latest start at or before t matters: every occurrence lasts the
// same real time, so an earlier one also ends earlier.
func (w *window) covers(t time.Time) bool {
	if w.loc == nil {
		return !t.Before(w.from) && t.Before(w.to)
	}
	lt := t.In(w.loc)
	y, mo, d := lt.Date()
	back, step := 0, 1
	if !w.daily {
		back, step = (int(lt.Weekday())-int(w.weekday)+7)%7, 7
	}
	// A start can land after t on t's own day, or (a clock change at
	// midnight) even on the day before; three tries reach the latest one.
	for range 3 {
		s := wallStart(y, mo, d-back, w.hh, w.mm, w.loc)
		if !s.After(t) {
			return t.Before(s.Add(w.dur))
		}
		back += step
	}
	return false
}

// wallStart returns the instant the clocks in loc show hh:mm on the given
// day. When they show it twice (autumn, clocks go back) it is the first
// time; when they skip it (spring, clocks go forward) it is the moment
// they jump. time.Date leaves both cases unspecified.
func wallStart(y int, mo time.Month, d, hh, mm int, loc *time.Location) time.Time {
	t := time.Date(y, mo, d, hh, mm, 0, 0, loc)
	want := time.Date(y, mo, d, hh, mm, 0, 0, time.UTC)
	ty, tm, td := t.Date()
	th, tmin, ts := t.Clock()
	got := time.Date(ty, tm, td, th, tmin, ts, 0, time.UTC)
	start, end := t.ZoneBounds()
	switch {
	case got.After(want): // skipped; t is past the jump
		return start
	case got.Before(want): // skipped; t is before the jump
		return end
	}
	if start.IsZero() {
		return t
	}
	_, prev := start.Add(-time.Second).Zone()
	if _, cur := t.Zone(); prev > cur {
		// Clocks went back at start: the same wall time may also have
		// come before it, under the earlier offset.
		if alt := t.Add(-time.Duration(prev-cur) * time.Second); alt.Before(start) {
			return alt
		}
	}
	return t
}
