package engine

// fleetEntry counts the tracked hosts whose destination history holds a
// remote; last is when a host last added it (unix seconds).
type fleetEntry struct {
	hosts int32
	last  uint32
}

// fleet is the prevalence table: for each remote, how many internal hosts
// send to it. It is derived from the hosts' destination histories (so it is
// rebuilt, not stored), bounded, oldest-added evicted first.
type fleet struct {
	m     map[addrKey]fleetEntry
	limit int
}

// add counts one more host for k at t (unix seconds) and returns how many
// entries it evicted to make room.
func (f *fleet) add(k addrKey, t uint32) int {
	if x, ok := f.m[k]; ok {
		x.hosts++
		x.last = max(x.last, t)
		f.m[k] = x
		return 0
	}
	n := 0
	if len(f.m) >= f.limit {
		n = f.evict(max(1, f.limit/64))
	}
	f.m[k] = fleetEntry{hosts: 1, last: t}
	return n
}

// remove counts one host fewer for k; an evicted remote is ignored.
func (f *fleet) remove(k addrKey) {
	x, ok := f.m[k]
	if !ok {
		return
	}
	if x.hosts <= 1 {
		delete(f.m, k)
		return
	}
	x.hosts--
	f.m[k] = x
}

// count is the number of hosts sending to k (0 when unknown).
func (f *fleet) count(k addrKey) int { return int(f.m[k].hosts) }

func (f *fleet) evict(n int) int {
	return evictOldest(f.m, n, func(x fleetEntry) uint32 { return x.last }, func(addrKey) {})
}
