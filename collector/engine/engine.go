package engine

import (
	"math"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector/alert"
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
	// closed: every window ending at or before it has been closed (ns);
	// records for those windows are late.
	closed int64

	pending []*host  // hosts with a pending group
	dirty   []*host  // hosts to write at the next save
	deleted []string // store keys of evicted hosts

	scratch []float32
	evicted []addrKey
	out     []alert.Alert
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
		cfg:    cfg,
		store:  store,
		m:      newEngineMetrics(set),
		hosts:  make(map[addrKey]*host),
		fleet:  fleet{m: make(map[addrKey]fleetEntry), limit: cfg.MaxFleetRemotes},
		clock:  newSensorClocks(),
		closed: math.MinInt64,
	}
	if store != nil {
		if err := e.restore(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Ingest processes one batch from sensor, whose clock (newest packet time
// it processed) is clock, and returns the alerts that became ready. Records
// are counted against the watermark as it was before the batch; the batch's
// clock then moves the watermark, closing windows and releasing alerts.
func (e *Engine) Ingest(sensor string, clock time.Time, recs []flow.Record) []alert.Alert {
	e.m.flows.Add(len(recs))
	newest := int64(math.MinInt64)
	for i := range recs {
		e.observe(sensor, &recs[i])
		if !recs[i].End.IsZero() {
			newest = max(newest, recs[i].End.UnixNano())
		}
	}
	if !clock.IsZero() {
		newest = clock.UnixNano()
	}
	if newest != math.MinInt64 {
		e.advance(sensor, newest)
	}
	return e.takeAlerts()
}

// takeAlerts returns the alerts emitted since the last call (including any
// emitted by host eviction while restoring).
func (e *Engine) takeAlerts() []alert.Alert {
	out := e.out
	e.out = nil
	return out
}

// observe adds one record to its host's window and runs the detectors.
func (e *Engine) observe(sensor string, r *flow.Record) {
	hostAddr, remote, out, _, name, ok := r.Local()
	if !ok || out == 0 || r.End.IsZero() {
		e.m.flowsIgnored.Inc()
		return
	}
	end := r.End.UnixNano()
	start := end
	if !r.Start.IsZero() {
		start = min(r.Start.UnixNano(), end)
	}
	h := e.hostFor(keyOf(hostAddr), end)
	h.first = min(h.first, end)
	h.last = max(h.last, end)

	ws := e.windowStart(end)
	if ws+int64(e.cfg.Window) <= e.closed {
		e.m.late.Inc()
		ws = e.closed // the current window: late bytes are not lost
	}
	w := e.windowFor(h, ws)
	rk := keyOf(remote)
	wr, tracked := e.addToWindow(w, sensor, rk, name, out, start, end)

	d, isNew, evicted := h.dests.touch(rk, end, out, e.cfg.MaxRemotesPerHost, e.evicted[:0])
	for _, k := range evicted {
		e.fleet.remove(k)
		e.m.destsEvicted.Inc()
	}
	e.evicted = evicted
	if isNew {
		if n := e.fleet.add(rk, d.first); n > 0 {
			e.m.fleetEvicted.Add(n)
		}
		e.m.fleetRemotes.Set(float64(len(e.fleet.m)))
	}
	e.markDirty(h)

	e.checkVolume(h, w, end)
	if tracked {
		e.checkNewDest(h, w, rk, wr, d, end)
	}
}

// advance moves sensor's clock to ns, then the watermark, closing windows
// it passed and emitting groups whose wait is over.
func (e *Engine) advance(sensor string, ns int64) {
	e.clock.update(sensor, ns)
	e.m.sensors.Set(float64(len(e.clock.m)))
	wm := e.clock.watermark(int64(e.cfg.SensorIdle), int64(e.cfg.AllowedLateness))
	e.m.watermark.Set(float64(wm) / 1e9)
	if c := e.windowStart(wm); c > e.closed {
		e.closeThrough(c)
	}
	e.emitReady(wm)
}

// Flush ends the input: it moves the watermark past every open window and
// pending group, closes them, saves, and returns the remaining alerts.
func (e *Engine) Flush() []alert.Alert {
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
	Watermark                          time.Time
}

// Stats returns the engine's current size and watermark.
func (e *Engine) Stats() Stats {
	return Stats{Hosts: len(e.hosts), FleetRemotes: len(e.fleet.m), PendingAlerts: len(e.pending), Watermark: utc(e.clock.wm)}
}
