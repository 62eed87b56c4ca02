package engine

import (
	"cmp"
	"math"
	"slices"

	"github.com/outflowhq/outflow/collector/engine/baseline"
)

// The beaconing detector: malware calls home at a fixed interval with
// requests of a fixed size, for hours or days, before it is told to upload.
// For every remote rare in the fleet (MaxPrevalence) that a host opens
// connections to, it keeps the start times and first-delta sizes of the
// last beaconSamples connections. Once there are BeaconMinConnections, the
// intervals' median m and MAD, and the sizes' median and MAD, say whether
// they are regular: interval MAD ≤ BeaconJitter·m (at least 1 s apart) and
// size MAD ≤ BeaconSizeJitter·median, median size ≤ BeaconMaxBytes (a
// check-in, not a periodic backup). Regular → beaconing evidence, once
// per host and remote. When the host later sends BeaconUploadBytes to that
// remote in one window, a second evidence: the beacon turned into an
// upload.

// beaconSamples is how many connections a track remembers.
const beaconSamples = 16

// maxBeaconTracks bounds the remotes tracked per host (least recently
// connected evicted): 32 × ~150 B.
const maxBeaconTracks = 32

// beacon is one host's connections to one remote.
type beacon struct {
	base     int64                 // ns; starts are ms after it
	starts   [beaconSamples]uint32 // ring, ms after base
	sizes    [beaconSamples]uint32 // bytes of each connection's first delta
	n        uint32                // connections seen (ring holds min(n, beaconSamples))
	last     int64                 // ns of the latest connection start
	interval float64               // s, median interval when evidence was raised
	fired    bool                  // beaconing evidence raised
	upFired  bool                  // upload-after-beacon evidence raised
}

// checkBeacon records r if it opens a connection and raises evidence. wr
// is the window's entry for the remote, nil when the window's table is full.
func (e *Engine) checkBeacon(h *host, w *window, r *held, wr *winRemote) {
	b := h.beacons[r.remote]
	if b != nil && b.fired && !b.upFired && wr != nil && wr.bytes >= e.cfg.BeaconUploadBytes {
		b.upFired = true
		e.raise(h, w, evidence{detector: detBeacon, window: w.start, at: r.end, remote: r.remote,
			limit: float64(e.cfg.BeaconUploadBytes), up: wr.bytes, serving: true, baseline: b.interval,
			peers: int(min(b.n, math.MaxInt32))})
	}
	if r.inbound || r.start != r.flowStart || r.flowStart <= 0 {
		return // not the first delta of a connection the host opened
	}
	n := e.prevalence(r.remote)
	if n > e.cfg.MaxPrevalence {
		return
	}
	if b == nil {
		if h.beacons == nil {
			h.beacons = make(map[addrKey]*beacon, 4)
		}
		if len(h.beacons) >= maxBeaconTracks {
			evictOldestBeacon(h.beacons)
		}
		b = &beacon{base: r.flowStart}
		h.beacons[r.remote] = b
	}
	if r.flowStart <= b.last || r.flowStart-b.base >= math.MaxUint32*1e6 {
		return // out of order, or the track is older than 49 days: keep it simple
	}
	i := b.n % beaconSamples
	b.starts[i] = uint32((r.flowStart - b.base) / 1e6)
	b.sizes[i] = uint32(min(r.bytes, math.MaxUint32))
	b.n++
	b.last = r.flowStart
	if b.fired || b.n < uint32(e.cfg.BeaconMinConnections) {
		return
	}
	interval, jitter, size, sizeJitter := b.regularity()
	if interval < 1 || jitter > e.cfg.BeaconJitter*interval || sizeJitter > e.cfg.BeaconSizeJitter*size ||
		size > float64(e.cfg.BeaconMaxBytes) {
		return
	}
	b.fired, b.interval = true, interval
	e.raise(h, w, evidence{detector: detBeacon, window: w.start, at: r.end, remote: r.remote,
		baseline: interval, limit: jitter, prevalence: n, up: uint64(size),
		peers: int(min(b.n, math.MaxInt32)), firstSeen: b.base})
}

// regularity returns the median interval (s) between the remembered
// connections and its MAD, and the median size and its MAD.
func (b *beacon) regularity() (interval, jitter, size, sizeJitter float64) {
	k := int(min(b.n, beaconSamples))
	starts := make([]float64, 0, k)
	sizes := make([]float64, 0, k)
	for j := range k {
		idx := (int(b.n) - k + j) % beaconSamples
		starts = append(starts, float64(b.starts[idx])/1e3)
		sizes = append(sizes, float64(b.sizes[idx]))
	}
	iv := make([]float64, 0, k-1)
	for j := 1; j < k; j++ {
		iv = append(iv, starts[j]-starts[j-1])
	}
	interval, jitter = baseline.MedianMAD(iv)
	size, sizeJitter = baseline.MedianMAD(sizes)
	return
}

func evictOldestBeacon(m map[addrKey]*beacon) {
	var oldest addrKey
	var at int64 = math.MaxInt64
	keys := make([]addrKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b addrKey) int { return cmp.Compare(string(a[:]), string(b[:])) })
	for _, k := range keys { // address order breaks ties: replays evict alike
		if m[k].last < at {
			oldest, at = k, m[k].last
		}
	}
	delete(m, oldest)
}
