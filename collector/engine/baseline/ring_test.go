package baseline

import (
	"math"
	"testing"
)

func TestEstimate(t *testing.T) {
	tests := []struct {
		name       string
		capacity   int
		vals       []float64
		wantN      int
		wantMedian float64
		wantSpread float64
	}{
		{"empty", 4, nil, 0, 0, 0},
		{"odd", 8, []float64{1, 2, 3, 4, 100}, 5, 3, 1 * madScale},
		{"even", 8, []float64{1, 2, 3, 4}, 4, 2.5, 1 * madScale},
		{"steady uses floor", 8, []float64{5, 5, 5}, 3, 5, madFloor},
		// capacity 3 keeps 30, 40, 50
		{"ring evicts oldest", 3, []float64{1000, 20, 30, 40, 50}, 3, 40, 10 * madScale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.capacity)
			for i, v := range tt.vals {
				b.Observe(int64(i), v)
			}
			got, _ := b.Estimate(0, nil)
			if got.N != tt.wantN || math.Abs(got.Median-tt.wantMedian) > 1e-5 || math.Abs(got.Spread-tt.wantSpread) > 1e-5 {
				t.Fatalf("Estimate = %+v, want N=%d median=%v spread=%v", got, tt.wantN, tt.wantMedian, tt.wantSpread)
			}
		})
	}
}

func TestValuesRestore(t *testing.T) {
	b := New(3)
	for _, v := range []float64{1, 2, 3, 4} {
		b.Observe(0, v)
	}
	vals := b.Values()
	if want := []float32{2, 3, 4}; !equal(vals, want) {
		t.Fatalf("Values = %v, want %v", vals, want)
	}
	r := New(3)
	r.Restore(vals)
	r.Observe(0, 5)
	if want := []float32{3, 4, 5}; !equal(r.Values(), want) {
		t.Fatalf("after restore and observe: %v, want %v", r.Values(), want)
	}
	small := New(2)
	small.Restore(vals)
	if want := []float32{3, 4}; !equal(small.Values(), want) {
		t.Fatalf("restore into smaller ring: %v, want %v", small.Values(), want)
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

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkEstimate(b *testing.B) {
	bl := New(168)
	for i := range 168 {
		bl.Observe(int64(i), 17+float64(i%7)/10)
	}
	var scratch []float32
	b.ReportAllocs()
	for b.Loop() {
		bl.valid = false
		_, scratch = bl.Estimate(0, scratch)
	}
}
