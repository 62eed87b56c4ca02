package engine

// dest is one remote a host has sent to. Times are unix seconds (4 bytes
// each, enough until 2106) to keep the history small.
type dest struct {
	first, last uint32
	bytes       uint64  // bytes the host sent to it since first seen (saturating)
	slow        float32 // net bytes decayed with LowSlowHalfLife, as of last (detect_slow.go)
	slowDay     uint16  // unix day (mod 65536) low_and_slow last fired for it
	// win and slot: the remote's entry in the host's open window
	// (window.rems[slot]) when win is that window's winID; 0 when none.
	win  uint32
	slot int32
}

// dests is a host's destination history: every remote it sent bytes to,
// bounded, least recently used evicted first.
type dests struct {
	m map[addrKey]dest
}

// touch records bytes sent to k at t (unix ns). It returns the entry after
// the update, whether k was new, and the keys evicted to make room (the
// caller keeps the fleet table in step).
// net is the part of bytes not matched by received bytes: it joins the
// remote's sum decayed with halfLife (s).
func (d *dests) touch(k addrKey, t int64, bytes, net uint64, halfLife float64, limit int, evicted []addrKey) (dest, bool, []addrKey) {
	sec := unixSeconds(t)
	if d.m == nil {
		d.m = make(map[addrKey]dest, 8)
	}
	if x, ok := d.m[k]; ok {
		if x.slow != 0 || net != 0 { // most records to most remotes add nothing
			x.slow = decay(x.slow, x.last, sec, halfLife) + float32(net)
		}
		x.last = max(x.last, sec)
		x.first = min(x.first, sec)
		x.bytes = addSat(x.bytes, bytes)
		d.m[k] = x
		return x, false, evicted
	}
	if len(d.m) >= limit {
		evicted = d.evict(max(1, limit/64), evicted)
	}
	x := dest{first: sec, last: sec, bytes: bytes, slow: float32(net)}
	d.m[k] = x
	return x, true, evicted
}

// evict removes the n least recently used remotes (ties by address).
func (d *dests) evict(n int, evicted []addrKey) []addrKey {
	evictOldest(d.m, n, func(x dest) uint32 { return x.last }, func(k addrKey) { evicted = append(evicted, k) })
	return evicted
}

func unixSeconds(ns int64) uint32 {
	s := ns / 1e9
	return uint32(min(max(s, 0), 1<<32-1))
}

func addSat(a, b uint64) uint64 {
	if a+b < a {
		return 1<<64 - 1
	}
	return a + b
}
