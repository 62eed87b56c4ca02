package engine

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/outflowhq/outflow/collector/engine/baseline"
)

// addrKey is an address as 16 bytes (IPv4 mapped): a map key without the
// pointer netip.Addr carries, so large maps stay cheap for the GC.
type addrKey [16]byte

func keyOf(a netip.Addr) addrKey { return a.As16() }

func (k addrKey) addr() netip.Addr { return netip.AddrFrom16(k).Unmap() }

func (k addrKey) String() string { return k.addr().String() }

// host is everything the engine knows about one internal host.
type host struct {
	key         addrKey
	first, last int64 // event time (ns) of the host's first and latest record
	base        baseline.Baseline
	wins        []*window // open windows, oldest first (usually one)
	dests       dests
	pending     *group              // evidence waiting for GroupWait, nil when none
	inc         *incident           // the open incident its alerts are about, nil when none
	remotesHint uint16              // remotes in the last closed window, to size the next
	beacons     map[addrKey]*beacon // connection timing per rare remote (detect_beacon.go)
	slow        slowHistory         // daily maxima of decayed bytes to rare remotes (detect_slow.go)
	served      uint16              // windows in which the host sent InboundMinBytes on inbound connections (a server)
	peaks       []peak              // windows over their limit, with what was really sent (view.go)
	series      *seriesHost         // its per-host metric series, nil when it has none (hostmetrics.go)

	dirty   bool // changed since the last write to the store
	evicted bool
}

// storeKey is the host's key in the Store: "host." and the address with
// '.' and ':' turned into '-' (10.1.2.3 → host.10-1-2-3).
func (k addrKey) storeKey() string {
	return hostKeyPrefix + strings.Map(func(r rune) rune {
		if r == '.' || r == ':' {
			return '-'
		}
		return r
	}, k.String())
}

const hostKeyPrefix = "host."

// hostFor returns the host for k, creating it (and evicting the least
// recently active hosts when the table is full) as needed.
func (e *Engine) hostFor(k addrKey, now int64) *host {
	if h := e.hosts[k]; h != nil {
		return h
	}
	if len(e.hosts) >= e.cfg.MaxHosts {
		e.evictHosts(max(1, e.cfg.MaxHosts/64))
	}
	h := &host{key: k, first: now, last: now, base: e.newBaseline()}
	e.hosts[k] = h
	e.joinPeers(k)
	e.m.hosts.Set(float64(len(e.hosts)))
	return h
}

// evictHosts drops the n least recently active hosts (ties by address, so
// replays evict the same ones). Their pending evidence becomes alerts now;
// their state is deleted from the store at the next save.
func (e *Engine) evictHosts(n int) {
	all := make([]*host, 0, len(e.hosts))
	for _, h := range e.hosts {
		all = append(all, h)
	}
	slices.SortFunc(all, func(a, b *host) int {
		return cmp.Or(cmp.Compare(a.last, b.last), compareKeys(a.key, b.key))
	})
	for _, h := range all[:min(n, len(all))] {
		if h.pending != nil {
			e.emit(h)
		}
		if h.inc != nil {
			e.resolve(h, h.last) // its incident ends with it
		}
		for k := range h.dests.m {
			e.fleet.remove(k)
		}
		delete(e.hosts, h.key)
		e.leavePeers(h.key)
		h.evicted = true
		e.deleted = append(e.deleted, h.key.storeKey())
		e.m.hostsEvicted.Inc()
	}
	e.m.hosts.Set(float64(len(e.hosts)))
	e.m.fleetRemotes.Set(float64(len(e.fleet.m)))
}

func compareKeys(a, b addrKey) int { return strings.Compare(string(a[:]), string(b[:])) }

func (e *Engine) newBaseline() baseline.Baseline {
	return baseline.New(e.cfg.BaselineWindows, int64(e.cfg.Window/time.Second))
}

// markDirty queues h for the next write to the store.
func (e *Engine) markDirty(h *host) {
	if !h.dirty {
		h.dirty = true
		e.dirty = append(e.dirty, h)
	}
}
