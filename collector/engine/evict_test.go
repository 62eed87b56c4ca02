package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNthSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 10, 101, 1000} {
		s := make([]uint32, n)
		for i := range s {
			s[i] = uint32(r.IntN(n/2 + 1))
		}
		sorted := slices.Sorted(slices.Values(s))
		for _, i := range []int{0, n / 3, n / 2, n - 1} {
			if got := nthSmallest(slices.Clone(s), i); got != sorted[i] {
				t.Fatalf("n=%d i=%d: got %d, want %d", n, i, got, sorted[i])
			}
		}
	}
}

func TestEvictOldest(t *testing.T) {
	m := map[addrKey]uint32{}
	for i := range 10 {
		var k addrKey
		k[15] = byte(i)
		m[k] = uint32(i / 3) // lasts 0 0 0 1 1 1 2 2 2 3
	}
	var gone []byte
	evictOldest(m, 5, func(v uint32) uint32 { return v }, func(k addrKey) { gone = append(gone, k[15]) })
	slices.Sort(gone)
	if want := []byte{0, 1, 2, 3, 4}; !slices.Equal(gone, want) {
		t.Fatalf("evicted %v, want %v (oldest, ties by key)", gone, want)
	}
	if len(m) != 5 {
		t.Fatalf("%d left", len(m))
	}
}
