package engine

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/allow"
	"github.com/outflowhq/outflow/flow"
)

// Engine is the detection core. Use it from one goroutine.
type Engine struct {
	cfg   Config
	store Store // nil: no persistence
	m     *engineMetrics

	hosts map[addrKey]*host
	fleet fleet
	clock sensorClocks
	held  holdQueue // records waiting for the watermark (hold.go)
	dns   dnsTable  // DNS tunnelling counts (detect_dns.go)
	// closed: every window ending at or before it has been closed (ns); a
	// record for one of them is counted in the window starting at closed.
	closed int64

	pending      []*host  // hosts with a pending group
	incidents    []*host  // hosts with an open incident (incident.go)
	nextDeadline int64    // no pending group has an earlier deadline (ns)
	dirty        []*host  // hosts to write at the next save
	deleted      []string // store keys to delete at the next save: evicted hosts, stale held pieces
	saveDue      bool     // windows closed since the last save
	heldGen      uint64   // generation of the held-record pieces (persist.go)
	heldKeys     []string // store keys of the held-record pieces last written
	metaVersion  uint64   // version of the engine.meta restored (its held records' format)

	peers    map[addrKey]*peerGroup // hosts by peer group (detect_volume.go)
	halfLife float64                // Config.LowSlowHalfLife in seconds

	curRemote     addrKey        // the remote of the record being observed
	curPrevalence int            // its prevalence, -1 until looked up
	curName       string         // its name in the window (written back after the detectors)
	peerPrefixes  []netip.Prefix // Config.PeerGroups, parsed
	allow         *allow.List    // Config.Allow; nil allows nothing
	names         nameTable      // remotes' last names, for reports (view.go)
	hostSeries    *hostSeries    // per-host metrics (hostmetrics.go)

	scratch    []float32
	peerMed    []float64
	peerSpread []float64
	evicted    []addrKey
	out        []alert.Alert
}

// New returns an engine, restoring its state from store when store is not
// nil. Metrics are registered on set (a new set when nil).
func New(cfg Config, store Store, set *metrics.Set) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if set == nil {
		set = metrics.NewSet()
	}
	e := &Engine{
		cfg:          cfg,
		store:        store,
		m:            newEngineMetrics(set),
		hosts:        make(map[addrKey]*host),
		fleet:        fleet{m: make(map[addrKey]fleetEntry), limit: cfg.MaxFleetRemotes},
		clock:        newSensorClocks(),
		held:         holdQueue{limit: maxHeld},
		closed:       math.MinInt64,
		nextDeadline: math.MaxInt64,
		peers:        make(map[addrKey]*peerGroup),
		halfLife:     cfg.LowSlowHalfLife.Seconds(),
		names:        nameTable{limit: maxNames},
		hostSeries:   newHostSeries(set, cfg.MaxHostSeries),
	}
	if len(cfg.Allow.Rules)+len(cfg.Allow.Maintenance) > 0 {
		l, err := allow.New(cfg.Allow, DetectorNames())
		if err != nil {
			return nil, err
		}
		e.allow = l
	}
	for _, g := range cfg.PeerGroups {
		p, err := netip.ParsePrefix(g)
		if err != nil {
			return nil, fmt.Errorf("peer_groups: %w", err)
		}
		e.peerPrefixes = append(e.peerPrefixes, p.Masked())
	}
	if store != nil {
		if err := e.restore(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Ingest takes one batch from sensor, whose clock (newest packet time it
// processed) is clock, and returns the alerts that became ready. The
// records wait until the watermark, moved by this batch's clock, reaches
// their End; whatever it has reached is then processed in event-time order
// (hold.go). A record whose End the watermark had already reached before
// this batch is late: still counted, but processed out of order.
func (e *Engine) Ingest(sensor string, clock time.Time, recs []flow.Record) []alert.Alert {
	e.m.flows.Add(len(recs))
	wm := e.clock.wm
	newest := int64(math.MinInt64)
	n := len(e.held.q)
	for i := range recs {
		r := &recs[i]
		if !r.End.IsZero() {
			newest = max(newest, r.End.UnixNano())
		}
		if !e.held.hold(sensor, r) {
			e.m.flowsIgnored.Inc()
			continue
		}
		if e.held.q[len(e.held.q)-1].end <= wm {
			e.m.late.Inc()
		}
	}
	e.held.order(n)
	if !clock.IsZero() {
		newest = clock.UnixNano()
	}
	if newest != math.MinInt64 {
		wm = e.advance(sensor, newest)
	}
	e.release(wm)
	return e.takeAlerts()
}

// takeAlerts returns the alerts emitted since the last call (including any
// emitted by host eviction while restoring).
func (e *Engine) takeAlerts() []alert.Alert {
	out := e.out
	e.out = nil
	return out
}

// advance moves sensor's clock to ns and returns the new watermark.
func (e *Engine) advance(sensor string, ns int64) int64 {
	e.clock.update(sensor, ns)
	e.m.sensors.Set(float64(len(e.clock.m)))
	wm := e.clock.watermark(int64(e.cfg.SensorIdle), int64(e.cfg.AllowedLateness))
	e.m.watermark.Set(float64(wm) / 1e9)
	return wm
}

// release processes the held records the watermark wm has reached, closes
// the windows it has passed and emits the groups whose deadline it has
// reached.
func (e *Engine) release(wm int64) {
	e.process(wm)
	if over := e.held.len() - e.held.limit; over > 0 {
		e.m.heldOverflow.Add(over)
		e.process(e.held.waiting()[over-1].end)
	}
	if c := e.windowStart(wm); c > e.closed {
		e.closeThrough(c)
	}
	e.emitReady(wm)
	e.resolveQuiet(wm)
	if e.saveDue {
		e.saveQuietly()
	}
}

// process feeds the held records ending at or before limit to the windows
// and detectors, in order.
func (e *Engine) process(limit int64) {
	for {
		r, ok := e.held.next(limit)
		if !ok {
			break
		}
		e.observe(r)
	}
	e.held.compact()
	e.m.held.Set(float64(e.held.len()))
}

// observe adds one record to its host's window and runs the detectors.
// Records come in event-time order, so before the record is counted every
// group whose deadline it passes is emitted (an alert reports what its host
// sent up to its deadline, never after) and every window that ends before
// it is closed (so a new window's limit always learns from all earlier ones).
func (e *Engine) observe(r *held) {
	end := r.end
	if end > e.nextDeadline {
		e.emitReady(end - 1)
	}
	if c := e.windowStart(end); c > e.closed {
		e.closeThrough(c)
	}
	if e.checkDNS(r) {
		return // a query to an internal resolver: nothing left, only the DNS detector counts it
	}
	h := e.hostFor(r.host, end)
	h.first = min(h.first, end)
	h.last = max(h.last, end)
	h.touchIncident(r.remote, end)

	ws := e.windowStart(end)
	if ws < e.closed {
		ws = e.closed // late, its window closed: the current window, so its bytes are not lost
	}
	w := e.windowFor(h, ws)
	net := r.bytes - min(r.bytes, r.in)
	d, isNew, evicted := h.dests.touch(r.remote, end, r.bytes, net, e.halfLife, e.cfg.MaxRemotesPerHost, e.evicted[:0])
	for _, k := range evicted {
		e.fleet.remove(k)
		e.m.destsEvicted.Inc()
	}
	if len(evicted) > 0 {
		for _, ow := range h.wins {
			ow.lostSlots = true // an evicted entry may have held a slot
		}
	}
	e.evicted = evicted
	if isNew {
		if n := e.fleet.add(r.remote, d.first); n > 0 {
			e.m.fleetEvicted.Add(n)
		}
		e.m.fleetRemotes.Set(float64(len(e.fleet.m)))
	}
	wr := e.addToWindow(h, w, r.sensor, r.remote, &d, r.name, r.bytes, r.start, end)
	w.net = addSat(w.net, net)
	e.markDirty(h)

	// Each detector gets the window's entry for the remote from here (nil
	// when the window's remote table is full), and the remote's prevalence
	// from e.prevalence, looked up once per record and only if a detector
	// gets that far.
	e.curRemote, e.curPrevalence, e.curName = r.remote, -1, ""
	if wr != nil {
		e.curName = wr.name
	}
	e.checkVolume(h, w, r.remote, end)
	if wr != nil {
		e.checkNewDest(h, w, r.remote, wr, d, end)
		e.checkFlows(h, w, r, wr)
	}
	e.checkBeacon(h, w, r, wr)
	e.checkLowSlow(h, w, r, d)
	if h.pending != nil {
		e.extend(h.pending, r.remote, end)
	}
}

// Flush ends the input: it processes every held record, moves the
// watermark past every open window and pending group, closes them, saves,
// and returns the remaining alerts.
func (e *Engine) Flush() []alert.Alert {
	e.process(math.MaxInt64)
	end := e.clock.wm
	for _, h := range e.hosts {
		if n := len(h.wins); n > 0 {
			end = max(end, h.wins[n-1].start+int64(e.cfg.Window))
		}
		if h.pending != nil {
			end = max(end, h.pending.deadline)
		}
	}
	e.clock.wm = end
	if c := e.windowStart(end); c > e.closed {
		e.closeThrough(c)
	}
	e.emitReady(end)
	e.resolveQuiet(end)
	e.saveQuietly()
	return e.takeAlerts()
}

// Save writes the hosts changed since the last save, and the watermark, to
// the store. The engine also saves by itself whenever windows close.
func (e *Engine) Save() error {
	if e.store == nil {
		return nil
	}
	return e.save()
}

// saveQuietly saves and counts a failure; the dirty hosts stay queued, so
// the next save retries them.
func (e *Engine) saveQuietly() {
	e.saveDue = false
	if e.store == nil {
		return
	}
	if err := e.save(); err != nil {
		e.m.storeErrors.Inc()
	}
}

// Stats are figures for reports and tests.
type Stats struct {
	Hosts, FleetRemotes, PendingAlerts int
	HeldRecords                        int // records waiting for the watermark
	Watermark                          time.Time
}

// Stats returns the engine's current size and watermark.
func (e *Engine) Stats() Stats {
	return Stats{Hosts: len(e.hosts), FleetRemotes: len(e.fleet.m), PendingAlerts: len(e.pending),
		HeldRecords: e.held.len(), Watermark: utc(e.clock.wm)}
}

// prevalence is the number of internal hosts that sent to rk (the remote
// of the record being observed), looked up once per record.
func (e *Engine) prevalence(rk addrKey) int {
	if rk != e.curRemote || e.curPrevalence < 0 {
		e.curRemote, e.curPrevalence = rk, e.fleet.count(rk)
	}
	return e.curPrevalence
}
