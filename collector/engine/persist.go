package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Persisted state: one key per host ("host.10-1-2-3") holding its baseline,
// destination history, open windows and pending evidence, and "engine.meta"
// holding the watermark, sensor clocks and the records still waiting for
// the watermark. Values start with a version byte. The fleet prevalence
// table is not stored: it is rebuilt from the hosts' destination histories
// on restore.
//
// The held records usually fit in engine.meta. When they do not, the rest
// goes in pieces "engine.held.<gen>.<i>" written before engine.meta, under a
// generation number that changes at every such save, so engine.meta never
// names a piece that is not there; pieces of older generations are deleted
// after it.

const (
	hostVersion   = 3 // 2: the baseline holds every window (silent ones as 0) and its newest start; 3: peaks
	metaVersion   = 4 // 2: held records; 3: their ports, protocol, direction, bytes in, connection start; 4: DNS query
	metaKey       = "engine.meta"
	heldKeyPrefix = "engine.held."
	maxPiece      = 256 << 10 // held-record bytes per store value (the limit is 512 KiB)
	maxDecoded    = 1 << 20   // sanity bound on any decoded count
)

func (e *Engine) save() error {
	var errs []error
	deleted := e.deleted
	e.deleted = nil
	for _, k := range deleted {
		if err := e.store.Delete(k); err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", k, err))
			e.deleted = append(e.deleted, k)
		}
	}
	dirty := e.dirty
	e.dirty = nil
	var buf enc
	for _, h := range dirty {
		h.dirty = false
		if h.evicted {
			continue
		}
		buf.b = buf.b[:0]
		encodeHost(&buf, h)
		if err := e.store.Put(h.key.storeKey(), buf.b); err != nil {
			errs = append(errs, fmt.Errorf("put %s: %w", h.key.storeKey(), err))
			e.markDirty(h)
		}
	}
	if err := e.saveMeta(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// saveMeta writes the held records and engine.meta.
func (e *Engine) saveMeta() error {
	var block enc
	encodeHeld(&block, e.held.waiting())
	pieces := splitPieces(block.b, maxPiece)
	var keys []string
	if len(pieces) > 1 {
		e.heldGen++ // never reused, even when this save fails
		for i, p := range pieces[1:] {
			k := fmt.Sprintf("%s%d.%d", heldKeyPrefix, e.heldGen, i+1)
			keys = append(keys, k)
			if err := e.store.Put(k, p); err != nil {
				e.deleted = append(e.deleted, keys...)
				return fmt.Errorf("put %s: %w", k, err)
			}
		}
	}
	var buf enc
	e.encodeMeta(&buf, len(pieces), pieces[0])
	if err := e.store.Put(metaKey, buf.b); err != nil {
		e.deleted = append(e.deleted, keys...)
		return fmt.Errorf("put %s: %w", metaKey, err)
	}
	old := e.heldKeys
	e.heldKeys = keys
	var errs []error
	for _, k := range old {
		if err := e.store.Delete(k); err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", k, err))
			e.deleted = append(e.deleted, k)
		}
	}
	return errors.Join(errs...)
}

func splitPieces(b []byte, n int) [][]byte {
	pieces := [][]byte{b[:min(len(b), n)]}
	for b = b[len(pieces[0]):]; len(b) > 0; b = b[min(len(b), n):] {
		pieces = append(pieces, b[:min(len(b), n)])
	}
	return pieces
}

func (e *Engine) encodeMeta(b *enc, pieces int, first []byte) {
	b.uint(metaVersion)
	b.int(e.closed)
	b.int(e.clock.wm)
	b.uint(uint64(len(e.clock.m)))
	for s, t := range e.clock.m {
		b.str(s)
		b.int(t)
	}
	b.uint(e.heldGen)
	b.uint(uint64(pieces))
	b.bytes(first)
}

// decodeMeta restores the clocks and returns the number of held-record
// pieces and the first one (none before version 2).
func (e *Engine) decodeMeta(d *dec) (pieces int, first []byte) {
	v := d.uint()
	if v < 1 || v > metaVersion {
		d.fail(fmt.Errorf("unknown version %d", v))
		return 0, nil
	}
	e.metaVersion = v
	e.closed = d.int()
	e.clock.wm = d.int()
	for n := d.count(maxSensors); n > 0 && d.err == nil; n-- {
		s := d.str()
		e.clock.m[s] = d.int()
	}
	if v < 2 {
		return 0, nil
	}
	e.heldGen = d.uint()
	return d.count(maxDecoded), d.bytes(maxPiece)
}

// encodeHeld writes records in processing order: End as a delta from the
// previous record's, Start as a duration before End.
func encodeHeld(b *enc, rs []held) {
	b.uint(uint64(len(rs)))
	prev := int64(0)
	for i := range rs {
		r := &rs[i]
		b.int(r.end - prev)
		prev = r.end
		b.uint(uint64(r.end - r.start))
		b.uint(r.bytes)
		b.addr(r.host)
		b.addr(r.remote)
		b.str(r.name)
		b.str(r.sensor)
		b.uint(r.in)
		b.uint(uint64(r.start - r.flowStart))
		b.uint(uint64(r.hostPort))
		b.uint(uint64(r.remotePort))
		b.uint(uint64(r.proto))
		b.bool(r.inbound)
		b.str(r.query)
		b.bool(r.dnsOnly)
	}
}

func decodeHeld(d *dec, q *holdQueue, version uint64) {
	prev := int64(0)
	sensors := map[string]string{} // one string per sensor, not one per record
	for n := d.count(maxHeld); n > 0 && d.err == nil; n-- {
		r := held{end: prev + d.int()}
		prev = r.end
		r.start = r.end - int64(d.uint())
		r.bytes = d.uint()
		r.host, r.remote = d.addr(), d.addr()
		r.name = d.str()
		s := d.str()
		if x, ok := sensors[s]; ok {
			s = x
		} else {
			sensors[s] = s
		}
		r.sensor = s
		r.flowStart = r.start
		if version >= 3 {
			r.in = d.uint()
			r.flowStart = r.start - int64(d.uint())
			r.hostPort, r.remotePort = uint16(d.uint()), uint16(d.uint())
			r.proto = uint8(d.uint())
			r.inbound = d.bool()
		}
		if version >= 4 {
			r.query = d.str()
			r.dnsOnly = d.bool()
		}
		q.q = append(q.q, r)
	}
	q.order(0) // already in order unless corrupt
}

func encodeHost(b *enc, h *host) {
	b.uint(hostVersion)
	b.addr(h.key)
	b.int(h.first)
	b.int(h.last)
	vals, newest := h.base.Values()
	b.uint(uint64(len(vals)))
	for _, v := range vals {
		b.f32(v)
	}
	b.int(newest)
	b.uint(uint64(len(h.dests.m)))
	for k, x := range h.dests.m {
		b.addr(k)
		b.uint(uint64(x.first))
		b.uint(uint64(x.last))
		b.uint(x.bytes)
		b.f32(x.slow)
		b.uint(uint64(x.slowDay))
	}
	b.uint(uint64(len(h.wins)))
	for _, w := range h.wins {
		encodeWindow(b, w)
	}
	b.bool(h.pending != nil)
	if g := h.pending; g != nil {
		b.int(g.deadline)
		b.uint(uint64(len(g.wins)))
		for _, w := range g.wins {
			open := containsWindow(h.wins, w)
			b.bool(open)
			if open {
				b.int(w.start)
			} else {
				encodeWindow(b, w)
			}
		}
		b.uint(uint64(len(g.evs)))
		for _, ev := range g.evs {
			b.uint(uint64(ev.detector))
			b.int(ev.window)
			b.int(ev.at)
			b.addr(ev.remote)
			b.int(ev.firstSeen)
			b.uint(uint64(ev.prevalence))
			b.f64(ev.baseline)
			b.f64(ev.limit)
			b.uint(uint64(ev.basis))
			b.uint(uint64(ev.peers))
			b.uint(uint64(ev.inPeers))
			b.uint(ev.up)
			b.uint(ev.down)
			b.bool(ev.serving)
		}
	}
	encodeIncident(b, h.inc)
	b.uint(uint64(h.served))
	b.uint(uint64(h.slow.n))
	b.uint(uint64(h.slow.day))
	b.f32(h.slow.today)
	if h.slow.n > 0 {
		for _, v := range h.slow.days {
			b.f32(v)
		}
	}
	b.uint(uint64(len(h.beacons)))
	for k, x := range h.beacons {
		b.addr(k)
		b.int(x.base)
		b.uint(uint64(x.n))
		b.int(x.last)
		b.f64(x.interval)
		b.bool(x.fired)
		b.bool(x.upFired)
		for i := range min(int(x.n), beaconSamples) { // the ring fills from 0
			b.uint(uint64(x.starts[i]))
			b.uint(uint64(x.sizes[i]))
		}
	}
	b.uint(uint64(len(h.peaks)))
	for _, p := range h.peaks {
		b.uint(uint64(p.start))
		b.f32(p.bytes)
	}
}

func (e *Engine) decodeHost(d *dec) *host {
	v := d.uint()
	if v > hostVersion || v == 0 {
		d.fail(fmt.Errorf("unknown version %d", v))
		return nil
	}
	h := &host{key: d.addr(), base: e.newBaseline()}
	h.first, h.last = d.int(), d.int()
	vals := make([]float32, d.count(math.MaxUint16))
	for i := range vals {
		vals[i] = d.f32()
	}
	if v == 1 {
		// Version 1 kept only active windows, without their times: they
		// cannot be placed on the calendar, so the host learns again.
		e.m.baselinesReset.Inc()
	} else {
		h.base.Restore(vals, d.int())
	}
	if n := d.count(maxDecoded); n > 0 {
		h.dests.m = make(map[addrKey]dest, n)
		for ; n > 0 && d.err == nil; n-- {
			k := d.addr()
			x := dest{first: uint32(d.uint()), last: uint32(d.uint()), bytes: d.uint()}
			if v >= 2 {
				x.slow, x.slowDay = d.f32(), uint16(d.count(65535))
			}
			h.dests.m[k] = x
		}
		if over := len(h.dests.m) - e.cfg.MaxRemotesPerHost; over > 0 {
			h.dests.evict(over, nil)
		}
	}
	for n := d.count(maxDecoded); n > 0 && d.err == nil; n-- {
		h.wins = append(h.wins, decodeWindow(d, v))
	}
	if d.bool() {
		g := &group{deadline: d.int()}
		for n := d.count(maxDecoded); n > 0 && d.err == nil; n-- {
			if d.bool() {
				start := d.int()
				for _, w := range h.wins {
					if w.start == start {
						g.wins = append(g.wins, w)
					}
				}
			} else {
				g.wins = append(g.wins, decodeWindow(d, v))
			}
		}
		for n := d.count(maxDecoded); n > 0 && d.err == nil; n-- {
			g.evs = append(g.evs, evidence{
				detector: detector(d.uint()), window: d.int(), at: d.int(), remote: d.addr(),
				firstSeen: d.int(), prevalence: int(d.uint()), baseline: d.f64(), limit: d.f64(), basis: decodeBasis(d),
			})
			if v >= 2 {
				ev := &g.evs[len(g.evs)-1]
				ev.peers, ev.inPeers = int(d.count(maxDecoded)), int(d.count(maxDecoded))
				ev.up, ev.down = d.uint(), d.uint()
				ev.serving = d.bool()
			}
		}
		if len(g.wins) == 0 || len(g.evs) == 0 {
			d.fail(errors.New("pending evidence without windows"))
		}
		h.pending = g
	}
	if v >= 2 {
		h.inc = decodeIncident(d)
		h.served = uint16(d.count(65535))
		h.slow.n, h.slow.day, h.slow.today = uint8(d.count(slowDays)), uint32(d.count(math.MaxUint32)), d.f32()
		if h.slow.n > 0 {
			for i := range h.slow.days {
				h.slow.days[i] = d.f32()
			}
		}
		if n := d.count(maxBeaconTracks); n > 0 {
			h.beacons = make(map[addrKey]*beacon, n)
			for ; n > 0 && d.err == nil; n-- {
				k := d.addr()
				x := &beacon{base: d.int(), n: uint32(d.count(math.MaxUint32)), last: d.int(), interval: d.f64(), fired: d.bool(), upFired: d.bool()}
				for i := range min(int(x.n), beaconSamples) {
					x.starts[i], x.sizes[i] = uint32(d.count(math.MaxUint32)), uint32(d.count(math.MaxUint32))
				}
				h.beacons[k] = x
			}
		}
	}
	if v >= 3 {
		for n := d.count(maxPeaks); n > 0 && d.err == nil; n-- {
			h.peaks = append(h.peaks, peak{start: uint32(d.count(math.MaxUint32)), bytes: d.f32()})
		}
	}
	for _, w := range h.wins {
		e.linkSlots(h, w)
	}
	return h
}

func encodeWindow(b *enc, w *window) {
	b.int(w.start)
	b.uint(w.bytes)
	b.uint(w.net)
	b.int(w.first)
	b.int(w.last)
	b.f64(w.limit)
	b.f64(w.typical)
	b.uint(uint64(w.basis))
	b.bool(w.volumeFired)
	b.uint(uint64(len(w.sensors)))
	for _, s := range w.sensors {
		b.str(s)
	}
	b.uint(uint64(len(w.rems)))
	for _, r := range w.rems {
		b.addr(r.key)
		b.uint(r.bytes)
		b.int(r.first)
		b.int(r.last)
		b.str(r.name)
		b.bool(r.newFired)
		b.uint(r.inbound)
		b.uint(r.longBytes)
		b.bool(r.p2p)
		b.bool(r.p2pIn)
		b.bool(r.inFired)
		b.bool(r.longFired)
	}
	b.uint(uint64(w.p2pPeers))
	b.uint(uint64(w.p2pInPeers))
	b.uint(w.p2pUp)
	b.uint(w.p2pDown)
	b.bool(w.p2pFired)
	b.bool(w.p2pServing)
	b.uint(w.inboundBytes)
}

func decodeWindow(d *dec, v uint64) *window {
	w := &window{start: d.int(), bytes: d.uint()}
	w.net = w.bytes
	if v >= 2 {
		w.net = d.uint()
	}
	w.first, w.last = d.int(), d.int()
	w.limit, w.typical, w.basis, w.volumeFired = d.f64(), d.f64(), decodeBasis(d), d.bool()
	for n := d.count(maxSensorsPerWindow); n > 0 && d.err == nil; n-- {
		w.sensors = append(w.sensors, d.str())
	}
	if n := d.count(maxDecoded); n > 0 {
		w.rems = make([]winRemote, 0, n)
		for ; n > 0 && d.err == nil; n-- {
			r := winRemote{key: d.addr(), bytes: d.uint(), first: d.int(), last: d.int(), name: d.str(), newFired: d.bool()}
			if v >= 2 {
				r.inbound, r.longBytes = d.uint(), d.uint()
				r.p2p, r.p2pIn, r.inFired, r.longFired = d.bool(), d.bool(), d.bool(), d.bool()
			}
			w.rems = append(w.rems, r)
		}
	}
	if v < 2 {
		return w
	}
	w.p2pPeers, w.p2pInPeers = int(d.count(maxDecoded)), int(d.count(maxDecoded))
	w.p2pUp, w.p2pDown = d.uint(), d.uint()
	w.p2pFired = d.bool()
	w.p2pServing = d.bool()
	w.inboundBytes = d.uint()
	return w
}

func containsWindow(ws []*window, w *window) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// restore loads every host, the meta record and the held records from the
// store, then rebuilds the fleet prevalence table from the destination
// histories.
func (e *Engine) restore() error {
	keys, err := e.store.Keys()
	if err != nil {
		return fmt.Errorf("restore engine state: list keys: %w", err)
	}
	var pieces int
	var first []byte
	var pieceKeys []string
	for _, key := range keys {
		if strings.HasPrefix(key, heldKeyPrefix) {
			pieceKeys = append(pieceKeys, key) // read once engine.meta says which are current
			continue
		}
		isHost := strings.HasPrefix(key, hostKeyPrefix)
		if !isHost && key != metaKey {
			continue // someone else's key in a shared bucket
		}
		v, ok, err := e.store.Get(key)
		if err != nil {
			return fmt.Errorf("restore engine state: get %s: %w", key, err)
		}
		if !ok {
			continue // deleted since Keys
		}
		d := &dec{b: v}
		if isHost {
			if h := e.decodeHost(d); d.err == nil {
				e.hosts[h.key] = h
				e.joinPeers(h.key)
				if h.inc != nil {
					e.incidents = append(e.incidents, h)
				}
				if h.pending != nil {
					e.pending = append(e.pending, h)
					e.nextDeadline = min(e.nextDeadline, h.pending.deadline)
				}
			}
		} else {
			pieces, first = e.decodeMeta(d)
		}
		if d.err != nil {
			return fmt.Errorf("restore engine state: decode %s: %w", key, d.err)
		}
	}
	if err := e.restoreHeld(pieces, first, pieceKeys); err != nil {
		return err
	}
	for _, h := range e.hosts {
		for k, x := range h.dests.m {
			f := e.fleet.m[k]
			f.hosts++
			f.last = max(f.last, x.first)
			e.fleet.m[k] = f
		}
	}
	if over := len(e.fleet.m) - e.cfg.MaxFleetRemotes; over > 0 {
		e.m.fleetEvicted.Add(e.fleet.evict(over))
	}
	if over := len(e.hosts) - e.cfg.MaxHosts; over > 0 {
		e.evictHosts(over)
	}
	e.m.hosts.Set(float64(len(e.hosts)))
	e.m.fleetRemotes.Set(float64(len(e.fleet.m)))
	e.m.held.Set(float64(e.held.len()))
	return nil
}

// restoreHeld reassembles the held records from the first piece (in
// engine.meta) and the current generation's other pieces; pieces of other
// generations are left over from an interrupted save and are deleted at the
// next one.
func (e *Engine) restoreHeld(pieces int, first []byte, pieceKeys []string) error {
	if pieces == 0 {
		e.deleted = append(e.deleted, pieceKeys...)
		return nil
	}
	block := slices.Clone(first)
	for i := 1; i < pieces; i++ {
		k := fmt.Sprintf("%s%d.%d", heldKeyPrefix, e.heldGen, i)
		v, ok, err := e.store.Get(k)
		if err != nil {
			return fmt.Errorf("restore engine state: get %s: %w", k, err)
		}
		if !ok {
			return fmt.Errorf("restore engine state: %s: missing", k)
		}
		block = append(block, v...)
		e.heldKeys = append(e.heldKeys, k)
	}
	for _, k := range pieceKeys {
		if !slices.Contains(e.heldKeys, k) {
			e.deleted = append(e.deleted, k)
		}
	}
	d := &dec{b: block}
	decodeHeld(d, &e.held, e.metaVersion)
	if d.err != nil {
		return fmt.Errorf("restore engine state: decode held records (%s): %w", metaKey, d.err)
	}
	return nil
}
