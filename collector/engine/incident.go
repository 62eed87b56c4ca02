package engine

import (
	"cmp"
	"encoding/json"
	"slices"

	"github.com/outflowhq/outflow/collector/alert"
)

// An incident is what an alert is about, from its first evidence until the
// behaviour stops. Its first alert leaves when the first group does (within
// GroupMax of the first evidence, event time). Evidence raised while it is
// open makes further groups of the same host; each becomes an update of the
// same alert (same ID, Update counting up) when it adds something the
// people already told do not know: a detector, a remote, a higher severity.
// Otherwise the update is a duplicate and only counted, unless
// RepeatInterval has passed since the last notification (then it goes out
// as a reminder). When neither evidence nor traffic to the incident's
// remotes has been seen for ResolveAfter, the incident is resolved: a last
// update with Status "resolved".
type incident struct {
	id        string
	opened    int64     // first evidence (ns)
	last      int64     // latest evidence or record to one of its remotes (ns)
	notified  int64     // event time of the last alert sent (ns)
	updates   int       // alerts sent after the first
	detectors []string  // every detector that fired, sorted
	remotes   []addrKey // every remote named in its evidence (bounded)
	severity  alert.Severity
	alert     alert.Alert // the last alert sent, for the resolution
}

// maxIncidentRemotes bounds the remotes an incident remembers.
const maxIncidentRemotes = 32

var severityRank = map[alert.Severity]int{alert.SeverityInfo: 0, alert.SeverityWarning: 1, alert.SeverityCritical: 2}

// deliver turns a built alert for h into what is sent: the incident's first
// alert, an update, a reminder, or nothing (a duplicate).
func (e *Engine) deliver(h *host, a alert.Alert, g *group, at int64) {
	inc := h.inc
	if inc == nil {
		inc = &incident{id: a.ID, opened: g.evs[0].at}
		for _, ev := range g.evs {
			inc.opened = min(inc.opened, ev.at)
		}
		h.inc = inc
		e.incidents = append(e.incidents, h)
		inc.merge(a, g)
		inc.notified, inc.last = at, max(inc.last, lastEvidence(g))
		a.Status = alert.StatusFiring
		inc.alert = a
		e.send(a)
		return
	}
	news := inc.merge(a, g)
	inc.last = max(inc.last, lastEvidence(g))
	a.ID = inc.id
	if !news && at-inc.notified < int64(e.cfg.RepeatInterval) {
		e.m.alertsDeduplicated.Inc()
		return
	}
	inc.updates++
	inc.notified = at
	a.Status, a.Update = alert.StatusFiring, inc.updates
	a.Opened = utc(inc.opened)
	inc.alert = a
	e.send(a)
}

// merge adds what a and g name to the incident and reports whether any of
// it is new.
func (inc *incident) merge(a alert.Alert, g *group) bool {
	news := false
	for _, d := range a.Detectors {
		if i, found := slices.BinarySearch(inc.detectors, d); !found {
			inc.detectors = slices.Insert(inc.detectors, i, d)
			news = true
		}
	}
	for _, ev := range g.evs {
		if !slices.Contains(inc.remotes, ev.remote) {
			if len(inc.remotes) < maxIncidentRemotes {
				inc.remotes = append(inc.remotes, ev.remote)
			}
			news = true
		}
	}
	if severityRank[a.Severity] > severityRank[inc.severity] {
		inc.severity = a.Severity
		news = true
	}
	return news
}

// touchIncident notes traffic from h to remote at end: an open incident
// about that remote is still going on.
func (h *host) touchIncident(remote addrKey, end int64) {
	if inc := h.inc; inc != nil && end > inc.last && slices.Contains(inc.remotes, remote) {
		inc.last = end
	}
}

// resolveQuiet resolves the incidents quiet for ResolveAfter at event time
// now, in (quiet since, host) order.
func (e *Engine) resolveQuiet(now int64) {
	after := int64(e.cfg.ResolveAfter)
	var done []*host
	keep := e.incidents[:0]
	for _, h := range e.incidents {
		if h.inc == nil {
			continue
		}
		if h.inc.last+after <= now && h.pending == nil {
			done = append(done, h)
		} else {
			keep = append(keep, h)
		}
	}
	clear(e.incidents[len(keep):])
	e.incidents = keep
	slices.SortFunc(done, func(a, b *host) int {
		return cmp.Or(cmp.Compare(a.inc.last, b.inc.last), compareKeys(a.key, b.key))
	})
	for _, h := range done {
		e.resolve(h, h.inc.last+after)
	}
}

func (e *Engine) resolve(h *host, at int64) {
	inc := h.inc
	h.inc = nil
	e.markDirty(h)
	a := inc.alert
	a.Status = alert.StatusResolved
	a.Update = inc.updates + 1
	a.Opened = utc(inc.opened)
	a.Resolved = utc(at)
	a.Detectors = slices.Clone(inc.detectors)
	e.send(a)
}

// send appends a to the output and counts it.
func (e *Engine) send(a alert.Alert) {
	if a.Status != alert.StatusResolved {
		for _, d := range a.Detectors {
			e.m.alertCounter(d, a.Severity).Inc()
		}
	} else {
		e.m.alertsResolved.Inc()
	}
	e.out = append(e.out, a)
}

func encodeIncident(b *enc, inc *incident) {
	b.bool(inc != nil)
	if inc == nil {
		return
	}
	b.str(inc.id)
	b.int(inc.opened)
	b.int(inc.last)
	b.int(inc.notified)
	b.uint(uint64(inc.updates))
	b.uint(uint64(len(inc.detectors)))
	for _, d := range inc.detectors {
		b.str(d)
	}
	b.uint(uint64(len(inc.remotes)))
	for _, r := range inc.remotes {
		b.addr(r)
	}
	b.str(string(inc.severity))
	data, _ := json.Marshal(inc.alert) // an Alert always marshals
	b.bytes(data)
}

func decodeIncident(d *dec) *incident {
	if !d.bool() {
		return nil
	}
	inc := &incident{id: d.str(), opened: d.int(), last: d.int(), notified: d.int(), updates: int(d.count(maxDecoded))}
	for n := d.count(numDetectors); n > 0 && d.err == nil; n-- {
		inc.detectors = append(inc.detectors, d.str())
	}
	for n := d.count(maxIncidentRemotes); n > 0 && d.err == nil; n-- {
		inc.remotes = append(inc.remotes, d.addr())
	}
	inc.severity = alert.Severity(d.str())
	if data := d.bytes(1 << 20); d.err == nil {
		if err := json.Unmarshal(data, &inc.alert); err != nil {
			d.fail(err)
		}
	}
	return inc
}

func lastEvidence(g *group) int64 {
	last := g.evs[0].at
	for _, ev := range g.evs {
		last = max(last, ev.at)
	}
	return last
}
