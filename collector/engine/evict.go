package engine

import "slices"

// evictOldest deletes the n entries of m with the smallest last (ties by
// key, so a replay evicts the same ones) and calls gone for each. It runs in
// linear time plus sorting the ties, so evicting 1/64 of a million-entry
// table does not stall ingest the way a full sort would.
func evictOldest[V any](m map[addrKey]V, n int, last func(V) uint32, gone func(addrKey)) int {
	if n <= 0 || len(m) == 0 {
		return 0
	}
	n = min(n, len(m))
	lasts := make([]uint32, 0, len(m))
	for _, v := range m {
		lasts = append(lasts, last(v))
	}
	cut := nthSmallest(lasts, n-1)
	var ties []addrKey
	deleted := 0
	for k, v := range m {
		switch l := last(v); {
		case l < cut:
			delete(m, k)
			gone(k)
			deleted++
		case l == cut:
			ties = append(ties, k)
		}
	}
	slices.SortFunc(ties, compareKeys)
	for _, k := range ties[:n-deleted] {
		delete(m, k)
		gone(k)
	}
	return n
}

// nthSmallest returns the value that would be at index i if s were sorted
// (quickselect; s is reordered).
func nthSmallest(s []uint32, i int) uint32 {
	lo, hi := 0, len(s)-1
	for lo < hi {
		p := s[lo+(hi-lo)/2]
		l, r := lo, hi
		for l <= r {
			for s[l] < p {
				l++
			}
			for s[r] > p {
				r--
			}
			if l <= r {
				s[l], s[r] = s[r], s[l]
				l++
				r--
			}
		}
		switch {
		case i <= r:
			hi = r
		case i >= l:
			lo = l
		default:
			return s[i]
		}
	}
	return s[i]
}
