package baseline

import (
	"math"
	"slices"
	"testing"
)

const hour = 3600

// monday is 2025-03-03 00:00 UTC, a Monday.
const monday = 1740960000

func TestEstimateAllHours(t *testing.T) {
	tests := []struct {
		name       string
		capacity   int
		vals       []float64
		wantN      int
		wantMedian float64
		wantSpread float64
	}{
		{"empty", 4, nil, 0, 0, 0},
		// The centre is the 90th percentile (the 4th of 5, the 3rd of 4).
		{"odd", 8, []float64{1, 2, 3, 4, 100}, 5, 4, 1 * madScale},
		{"even", 8, []float64{1, 2, 3, 4}, 4, 3, 1 * madScale},
		{"steady uses floor", 8, []float64{5, 5, 5}, 3, 5, allHoursFloor},
		// capacity 3 keeps 30, 40, 50
		{"ring evicts oldest", 3, []float64{1000, 20, 30, 40, 50}, 3, 40, 10 * madScale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.capacity, hour)
			for i, v := range tt.vals {
				b.Observe(monday+int64(i)*hour, v)
			}
			got, _ := b.Estimate(monday+int64(len(tt.vals))*hour, nil)
			if got.N != tt.wantN || math.Abs(got.Median-tt.wantMedian) > 1e-5 || math.Abs(got.Spread-tt.wantSpread) > 1e-5 {
				t.Fatalf("Estimate = %+v, want N=%d median=%v spread=%v", got, tt.wantN, tt.wantMedian, tt.wantSpread)
			}
			if tt.wantN > 0 && got.Level != LevelAll {
				t.Fatalf("level %v, want all-hours", got.Level)
			}
		})
	}
}

// TestObserveFillsSilence: windows without traffic enter as 0, so each
// value keeps its place on the calendar.
func TestObserveFillsSilence(t *testing.T) {
	b := New(8, hour)
	b.Observe(monday, 5)
	b.Observe(monday+5*hour, 7)
	b.Observe(monday+5*hour, 9) // not after the newest: ignored
	vals, newest := b.Values()
	if want := []float32{5, 0, 0, 0, 0, 7}; !slices.Equal(vals, want) || newest != monday+5*hour {
		t.Fatalf("Values = %v, %d; want %v, %d", vals, newest, want, monday+5*hour)
	}
	// A gap longer than the ring leaves only zeros and the new value.
	b.Observe(monday+100*hour, 3)
	if vals, _ := b.Values(); !slices.Equal(vals, []float32{0, 0, 0, 0, 0, 0, 0, 3}) {
		t.Fatalf("after a long gap: %v", vals)
	}
}

// office is a host that sends 15 (log units) in office hours on weekdays
// and 1 otherwise.
func office(s int64) float64 {
	h := (s % 86400) / hour
	wd := ((s/86400)%7 + 4) % 7 // 0 Sunday
	if wd >= 1 && wd <= 5 && h >= 8 && h < 18 {
		return 15
	}
	return 1
}

func observeOffice(b *Baseline, from, to int64) {
	for s := from; s < to; s += hour {
		b.Observe(s, office(s))
	}
}

// TestEstimateSeasonal: after three weeks, a Thursday 02:00 window is
// compared with the Thursdays 02:00 of those weeks (3 values, all quiet),
// and a Thursday 10:00 one with office hours.
func TestEstimateSeasonal(t *testing.T) {
	b := New(672, hour)
	observeOffice(&b, monday, monday+21*86400)
	thu2 := int64(monday + 21*86400 + 3*86400 + 2*hour)
	got, _ := b.Estimate(thu2, nil)
	if got.Level != LevelSeasonal || got.Values != 3 || got.Median != 1 || got.Spread != fewFloor(3) {
		t.Fatalf("Thursday 02:00: %+v, want seasonal over 3 windows, median 1", got)
	}
	got, _ = b.Estimate(thu2+8*hour, nil)
	if got.Level != LevelSeasonal || got.Values != 3 || got.Median != 15 {
		t.Fatalf("Thursday 10:00: %+v, want seasonal median 15", got)
	}
	// Past four weeks the ring wraps: the oldest day goes, and the
	// estimate uses the four weeks still held.
	observeOffice(&b, monday+21*86400, monday+28*86400+3*86400)
	got, _ = b.Estimate(thu2+7*86400, nil)
	if got.Level != LevelSeasonal || got.Values != 4 || got.Median != 1 || got.N != 672 {
		t.Fatalf("after the ring wrapped: %+v, want 4 values from 4 weeks", got)
	}
}

// TestEstimateDayLevel: with four weekdays of history, Friday 14:00 is
// compared with 14:00 of Monday to Thursday; a Saturday has no day of its
// kind yet and is compared with 14:00 of every past day.
func TestEstimateDayLevel(t *testing.T) {
	b := New(672, hour)
	observeOffice(&b, monday, monday+4*86400)
	fri := int64(monday + 4*86400 + 14*hour)
	got, _ := b.Estimate(fri, nil)
	if got.Level != LevelDay || got.Values != 4 || got.Median != 15 {
		t.Fatalf("Friday 14:00: %+v, want the day level over 4 windows, median 15", got)
	}
	sat := int64(monday + 5*86400 + 14*hour)
	got, _ = b.Estimate(sat, nil)
	if got.Level != LevelHour || got.Values != 5 || got.Median != 15 || got.N != 96+38 {
		t.Fatalf("Saturday 14:00: %+v, want the hour level over Monday to Friday (Friday silent, its neighbours too)", got)
	}
	// With one day of history, only all hours can answer.
	one := New(672, hour)
	observeOffice(&one, monday, monday+86400)
	if got, _ := one.Estimate(monday+86400+14*hour, nil); got.Level != LevelAll || got.Values != 24 {
		t.Fatalf("Tuesday 14:00 after one day: %+v, want all hours", got)
	}
}

// TestEstimateBusierNeighbour: a nightly job lands in the 00:00 window on
// some nights and the 01:00 one on others; either window compares with
// the busier of itself and its neighbours, so the job is normal in both.
func TestEstimateBusierNeighbour(t *testing.T) {
	b := New(672, hour)
	for d := int64(0); d < 5; d++ {
		for h := int64(0); h < 24; h++ {
			v := 1.0
			if d%2 == 0 && h == 0 || d%2 == 1 && h == 1 { // 00:58 on even days, 01:03 on odd ones
				v = 18
			}
			b.Observe(monday+d*86400+h*hour, v)
		}
	}
	fri := int64(monday + 4*86400) // Friday: four weekdays behind it
	for _, h := range []int64{0, 1} {
		got, _ := b.Estimate(fri+h*hour, nil)
		if got.Level != LevelDay || got.Median != 18 {
			t.Errorf("Friday %02d:00: %+v, want the day level at the job's 18", h, got)
		}
	}
	if got, _ := b.Estimate(fri+3*hour, nil); got.Median != 1 || got.Values != 4 {
		t.Errorf("Friday 03:00: %+v, want the quiet 1 (its neighbours are quiet)", got)
	}
}

func TestValuesRestore(t *testing.T) {
	b := New(3, hour)
	for i, v := range []float64{1, 2, 3, 4} {
		b.Observe(monday+int64(i)*hour, v)
	}
	vals, newest := b.Values()
	if want := []float32{2, 3, 4}; !slices.Equal(vals, want) || newest != monday+3*hour {
		t.Fatalf("Values = %v %d, want %v", vals, newest, want)
	}
	r := New(3, hour)
	r.Restore(vals, newest)
	r.Observe(monday+4*hour, 5)
	if got, _ := r.Values(); !slices.Equal(got, []float32{3, 4, 5}) {
		t.Fatalf("after restore and observe: %v", got)
	}
	small := New(2, hour)
	small.Restore(vals, newest)
	if got, _ := small.Values(); !slices.Equal(got, []float32{3, 4}) {
		t.Fatalf("restore into smaller ring: %v", got)
	}
}

func TestLimit(t *testing.T) {
	e := Estimate{N: 10, Median: math.Log1p(30e6), Spread: 0.25}
	if got, want := e.Typical(), 30e6; math.Abs(got-want) > 1 {
		t.Fatalf("Typical = %v, want %v", got, want)
	}
	if got, want := e.Limit(4), (30e6+1)*math.E-1; math.Abs(got-want) > 1 {
		t.Fatalf("Limit = %v, want %v", got, want)
	}
}

func BenchmarkEstimate(b *testing.B) {
	for _, c := range []struct {
		name string
		days int
	}{{"seasonal", 28}, {"day", 4}, {"all", 1}} {
		b.Run(c.name, func(b *testing.B) {
			bl := New(672, hour)
			observeOffice(&bl, monday, monday+int64(c.days)*86400)
			start := int64(monday + int64(c.days)*86400 + 14*hour)
			var scratch []float32
			b.ReportAllocs()
			for b.Loop() {
				bl.valid = false
				_, scratch = bl.Estimate(start, scratch)
			}
		})
	}
}
