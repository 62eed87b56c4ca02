package engine

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// detector identifies a detector in evidence and in the store.
type detector uint8

const (
	detVolume detector = iota + 1
	detNewDest
	detInboundPull
	detLongLived
	detP2P
	detBeacon
	detLowSlow
	detDNSTunnel
	numDetectors = 8
)

var detectorNames = [...]string{detVolume: "volume", detNewDest: "new_destination",
	detInboundPull: "inbound_pull", detLongLived: "long_lived", detP2P: "p2p", detBeacon: "beaconing",
	detLowSlow: "low_and_slow", detDNSTunnel: "dns_tunnel"}

// DetectorNames are the detectors' names, for configuration checks.
func DetectorNames() []string {
	var out []string
	for d := detector(1); d <= numDetectors; d++ {
		out = append(out, d.String())
	}
	return out
}

func (d detector) String() string {
	if int(d) < len(detectorNames) && d > 0 {
		return detectorNames[d]
	}
	return "unknown"
}

// evidence is one detector's finding as raised. The byte counts and times
// in the alert are read from the windows when the group is emitted, which
// is exactly when processing reaches its deadline: the alert shows what the
// host had sent up to then.
type evidence struct {
	detector   detector
	window     int64   // start of the window it was raised in (ns)
	at         int64   // end of the record that raised it (ns)
	remote     addrKey // the new destination; volume: the remote of the record that crossed the limit
	firstSeen  int64   // new_destination: when the host first sent to remote (ns)
	prevalence int     // new_destination: hosts sending to remote
	baseline   float64 // volume: typical bytes per window, 0 while learning
	limit      float64 // bytes it had to exceed
	basis      basis   // volume: where the limit comes from
	peers      int     // p2p: external peers on high ports; inbound_pull: 0
	inPeers    int     // p2p: of which connected in
	up, down   uint64  // p2p: bytes to and from them; long_lived: up = bytes on old connections
	serving    bool    // p2p: the host serves others (else it is only a client)
	name       string  // the name allowlists match (dns_tunnel: its domain); not stored: raise uses it and drops it
}

// group is a host's evidence waiting so that detectors firing on the same
// incident make one alert. Its deadline starts GroupWait after the first
// evidence and moves to GroupWait after each later record of the host to a
// remote named in its evidence (the transfer is still going), but never
// past GroupMax after the first evidence. Evidence raised by a record that
// ends at or before the deadline joins the group; a record ending after it
// is only processed once the group has been emitted, so its evidence opens
// a new group. Records are processed in event-time order, so all of this
// depends on the records alone, not on how they were batched.
type group struct {
	deadline int64 // emitted when processing or the watermark reaches it (ns)
	evs      []evidence
	wins     []*window // windows the evidence was raised in, oldest first
}

// raise adds evidence to h's pending group, opening one if needed.
func (e *Engine) raise(h *host, w *window, ev evidence) {
	if e.suppressed(h, w, &ev) {
		return
	}
	ev.name = ""
	e.m.evidence[ev.detector].Inc()
	g := h.pending
	if g == nil {
		g = &group{deadline: ev.at + int64(e.cfg.GroupWait)}
		h.pending = g
		e.pending = append(e.pending, h)
		e.nextDeadline = min(e.nextDeadline, g.deadline)
	}
	g.evs = append(g.evs, ev)
	if !slices.Contains(g.wins, w) {
		g.wins = append(g.wins, w)
		slices.SortFunc(g.wins, func(a, b *window) int { return cmp.Compare(a.start, b.start) })
	}
	e.markDirty(h)
}

// extend holds g open while its host keeps sending to a remote its
// evidence names: the record ending at end (at or before the deadline)
// moves the deadline to end+GroupWait, capped at GroupMax after the first
// evidence. An upload that triggers new_destination after 10 MB and the
// volume limit two minutes later is one alert, not two.
func (e *Engine) extend(g *group, remote addrKey, end int64) {
	if !slices.ContainsFunc(g.evs, func(ev evidence) bool { return ev.remote == remote }) {
		return
	}
	d := min(end+int64(e.cfg.GroupWait), g.evs[0].at+int64(e.cfg.GroupMax))
	g.deadline = max(g.deadline, d) // the cap never moves it back
}

// emitReady turns every group whose deadline is at or before limit into an
// alert, in deadline then host order. Deadlines only grow while a group is
// pending and a new group's deadline is after every emitted one, so the
// whole alert sequence comes out in (deadline, host) order.
func (e *Engine) emitReady(limit int64) {
	var ready []*host
	keep := e.pending[:0]
	next := int64(math.MaxInt64)
	for _, h := range e.pending {
		if h.pending == nil {
			continue // emitted on eviction
		}
		if h.pending.deadline <= limit {
			ready = append(ready, h)
		} else {
			keep = append(keep, h)
			next = min(next, h.pending.deadline)
		}
	}
	clear(e.pending[len(keep):])
	e.pending = keep
	e.nextDeadline = next
	slices.SortFunc(ready, func(a, b *host) int {
		return cmp.Or(cmp.Compare(a.pending.deadline, b.pending.deadline), compareKeys(a.key, b.key))
	})
	for _, h := range ready {
		e.emit(h)
	}
}

// emit builds h's pending group into an alert and hands it to the
// incident (incident.go), which sends it, as an update, or not at all.
func (e *Engine) emit(h *host) {
	g := h.pending
	a := e.buildAlert(h, g)
	h.pending = nil
	e.markDirty(h)
	e.deliver(h, a, g, g.deadline)
}

// suppressed reports whether ev is allowlisted (its remote by CIDR, or the
// name learned for it by domain suffix) or falls in a maintenance window,
// and counts it. Only evidence is suppressed: the host's bytes still count
// in its windows, baseline and the metrics.
func (e *Engine) suppressed(h *host, w *window, ev *evidence) bool {
	if e.allow == nil {
		return false
	}
	name := ev.name
	switch {
	case name != "":
	case ev.remote == e.curRemote:
		name = e.curName
	case w != nil:
		name = w.remoteName(ev.remote)
	}
	host, d := h.key.addr(), ev.detector.String()
	if _, ok := e.allow.Allowed(host, ev.remote.addr(), stripPort(name), d); ok {
		e.m.allowlisted[ev.detector].Inc()
		return true
	}
	if _, ok := e.allow.Silenced(host, d, utc(ev.at)); ok {
		e.m.silenced[ev.detector].Inc()
		return true
	}
	return false
}

// stripPort drops ":port" from an HTTP Host name.
func stripPort(name string) string {
	if i := strings.LastIndexByte(name, ':'); i > 0 && !strings.Contains(name[:i], ":") {
		return name[:i]
	}
	return name
}
