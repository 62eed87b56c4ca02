package engine

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/outflowhq/outflow/collector/allow"
)

// HostReport is what the engine knows about one internal host, for the
// web UI's host page: its outbound bytes per window against the baseline
// band, and the remotes it sends to.
type HostReport struct {
	Host          string    `json:"host"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
	WindowSeconds int64     `json:"window_seconds"`
	// History is how many windows of history the host has; while it is
	// under LearningWindows the host is learning and only its peers or the
	// backstop set its limit.
	History        int            `json:"history_windows"`
	LearningWindow int            `json:"learning_windows"`
	Windows        []WindowReport `json:"windows"` // oldest first, every window (silent ones as 0)
	Remotes        []RemoteReport `json:"remotes"` // most bytes first
	Incident       string         `json:"incident,omitempty"`
}

// WindowReport is one window of a host's outbound bytes and the band its
// baseline gives for that hour. The band of a closed window is computed
// from the baseline as it is now (what the host is measured against), the
// band of an open window is the limit it is being measured against.
type WindowReport struct {
	Start time.Time `json:"start"`
	// BytesOut is the window's net upload (what volume measures).
	BytesOut float64 `json:"bytes_out"`
	Typical  float64 `json:"typical"` // the baseline's usual bytes (0 while learning without peers)
	Limit    float64 `json:"limit"`   // above this the window is unusual
	Basis    string  `json:"basis"`   // where Typical and Limit come from (seasonal, day, hour, all, peers, backstop)
	Open     bool    `json:"open,omitempty"`
}

// RemoteReport is one remote in a host's destination history.
type RemoteReport struct {
	Remote     string    `json:"remote"`
	Name       string    `json:"name,omitempty"` // last name learned for it (DNS, SNI, Host), "" when none is known
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	BytesOut   uint64    `json:"bytes_out"`  // since first seen
	Prevalence int       `json:"prevalence"` // internal hosts that send to it
}

// Host reports on addr: its windows from since on (at most a baseline's
// worth) and its top maxRemotes remotes by bytes. ok is false when the
// engine does not track addr. Call it from the engine's goroutine (the
// collector serialises it with Ingest); it changes nothing the detectors
// see.
func (e *Engine) Host(addr netip.Addr, since time.Time, maxRemotes int) (HostReport, bool) {
	h := e.hosts[keyOf(addr)]
	if h == nil {
		return HostReport{}, false
	}
	step := int64(e.cfg.Window / time.Second)
	r := HostReport{
		Host:           addr.Unmap().String(),
		FirstSeen:      time.Unix(0, h.first).UTC(),
		LastSeen:       time.Unix(0, h.last).UTC(),
		WindowSeconds:  step,
		LearningWindow: e.cfg.LearningWindows,
	}
	if h.inc != nil {
		r.Incident = h.inc.id
	}
	vals, newest := h.base.Values()
	from := newest - int64(len(vals)-1)*step
	if s := since.Unix(); s > from {
		from = s - ((s-newest)%step+step)%step // aligned to the windows
	}
	for s := from; s <= newest && len(vals) > 0; s += step {
		i := len(vals) - 1 - int((newest-s)/step)
		if i < 0 {
			continue
		}
		v := math.Expm1(float64(vals[i]))
		if p, ok := h.peak(s); ok {
			v = p // the baseline holds it clipped; show what was sent
		}
		limit, typical, b := e.limits(h, s)
		r.Windows = append(r.Windows, WindowReport{Start: time.Unix(s, 0).UTC(), BytesOut: v, Typical: typical, Limit: limit, Basis: b.String()})
	}
	for _, w := range h.wins {
		if w.start/1e9 < since.Unix() {
			continue
		}
		r.Windows = append(r.Windows, WindowReport{Start: time.Unix(0, w.start).UTC(), BytesOut: float64(w.net),
			Typical: w.typical, Limit: w.limit, Basis: w.basis.String(), Open: true})
	}
	if len(r.Windows) > 0 {
		r.History = h.base.History(r.Windows[len(r.Windows)-1].Start.Unix())
	}
	for k, x := range h.dests.m {
		r.Remotes = append(r.Remotes, RemoteReport{Remote: k.String(), Name: e.names.get(k),
			FirstSeen: time.Unix(int64(x.first), 0).UTC(), LastSeen: time.Unix(int64(x.last), 0).UTC(),
			BytesOut: x.bytes, Prevalence: e.fleet.count(k)})
	}
	slices.SortFunc(r.Remotes, func(a, b RemoteReport) int {
		return cmp.Or(cmp.Compare(b.BytesOut, a.BytesOut), cmp.Compare(a.Remote, b.Remote))
	})
	if maxRemotes >= 0 && len(r.Remotes) > maxRemotes {
		r.Remotes = r.Remotes[:maxRemotes]
	}
	return r, true
}

// limits is setLimits' answer for the window starting at start (unix s),
// without counting it and without touching the peer groups' cache.
func (e *Engine) limits(h *host, start int64) (limit, typical float64, b basis) {
	var saved peerGroup
	g := e.peers[e.peerGroup(h.key)]
	if g != nil {
		saved = *g
	}
	w := &window{start: start * 1e9}
	e.computeLimits(h, w)
	if g != nil {
		*g = saved
	}
	return w.limit, w.typical, w.basis
}

// peak is one window whose net upload went over its limit: the baseline
// keeps it clipped (so an attacker cannot teach it), the host page shows
// what was really sent.
type peak struct {
	start uint32 // unix s
	bytes float32
}

// maxPeaks bounds the peaks a host remembers (the newest are kept).
const maxPeaks = 16

func (h *host) addPeak(start int64, bytes uint64) {
	if len(h.peaks) >= maxPeaks {
		h.peaks = slices.Delete(h.peaks, 0, len(h.peaks)-maxPeaks+1)
	}
	h.peaks = append(h.peaks, peak{start: unixSeconds(start * 1e9), bytes: float32(bytes)})
}

func (h *host) peak(start int64) (float64, bool) {
	for _, p := range h.peaks {
		if int64(p.start) == start {
			return float64(p.bytes), true
		}
	}
	return 0, false
}

// nameTable remembers the last name learned for each remote, for reports
// (alerts carry the window's names themselves). Filled as windows close,
// bounded: when full, an arbitrary 1/64 is dropped and counted.
type nameTable struct {
	m     map[addrKey]string
	limit int
}

func (t *nameTable) set(k addrKey, name string) (evicted int) {
	if name == "" {
		return 0
	}
	if t.m == nil {
		t.m = make(map[addrKey]string)
	}
	if _, ok := t.m[k]; !ok && len(t.m) >= t.limit {
		n := max(1, t.limit/64)
		for old := range t.m {
			delete(t.m, old)
			if evicted++; evicted == n {
				break
			}
		}
	}
	t.m[k] = name
	return evicted
}

func (t *nameTable) get(k addrKey) string { return t.m[k] }

// maxNames bounds the remote names kept for reports.
const maxNames = 65536

// SetRuntimeAllow replaces the allowlist rules and maintenance windows added
// at run time (triage actions) with rt; the configured ones stay. Errors
// name the runtime rule or window at fault.
func (e *Engine) SetRuntimeAllow(rt allow.Config) error {
	all := allow.Config{
		Rules:       slices.Concat(e.cfg.Allow.Rules, rt.Rules),
		Maintenance: slices.Concat(e.cfg.Allow.Maintenance, rt.Maintenance),
	}
	if len(all.Rules)+len(all.Maintenance) == 0 {
		e.allow = nil
		return nil
	}
	if _, err := allow.New(rt, DetectorNames()); err != nil {
		return fmt.Errorf("runtime allow: %w", err)
	}
	l, err := allow.New(all, DetectorNames())
	if err != nil {
		return err
	}
	e.allow = l
	return nil
}
