package engine

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// maxAlertRemotes is how many remotes an alert lists (most bytes first);
// remotes named by evidence are always listed.
const maxAlertRemotes = 5

// criticalBytes makes an alert critical whatever its score: a gibibyte
// leaving one host in one window is worth waking someone for.
const criticalBytes = 1 << 30

// criticalScore is the score from which an alert is critical.
const criticalScore = 80

// buildAlert turns a group into an alert, reading bytes and times from the
// group's windows as they are now.
func (e *Engine) buildAlert(h *host, g *group) alert.Alert {
	type remoteSum struct {
		k     addrKey
		bytes uint64
		name  string
	}
	sums := map[addrKey]*remoteSum{}
	var total uint64
	var sensors []string
	for _, w := range g.wins {
		total = addSat(total, w.bytes)
		for _, r := range w.rems {
			k := r.key
			s := sums[k]
			if s == nil {
				s = &remoteSum{k: k}
				sums[k] = s
			}
			s.bytes = addSat(s.bytes, r.bytes)
			if r.name != "" {
				s.name = r.name
			}
		}
		for _, s := range w.sensors {
			if !slices.Contains(sensors, s) {
				sensors = append(sensors, s)
			}
		}
	}
	ranked := make([]*remoteSum, 0, len(sums))
	for _, s := range sums {
		ranked = append(ranked, s)
	}
	slices.SortFunc(ranked, func(a, b *remoteSum) int {
		return cmp.Or(cmp.Compare(b.bytes, a.bytes), compareKeys(a.k, b.k))
	})
	listed := ranked[:min(len(ranked), maxAlertRemotes)]
	for _, ev := range g.evs {
		if ev.detector == detNewDest && !slices.ContainsFunc(listed, func(s *remoteSum) bool { return s.k == ev.remote }) {
			if s := sums[ev.remote]; s != nil {
				listed = append(listed, s)
			}
		}
	}

	a := alert.Alert{Host: h.key.String(), BytesOut: total}
	slices.Sort(sensors)
	a.Sensors = sensors
	for _, s := range listed {
		a.Remotes = append(a.Remotes, s.k.String())
		a.RemoteNames = append(a.RemoteNames, s.name)
	}
	var vol, nd *alert.Evidence
	var volEv evidence
	for _, ev := range g.evs {
		w := groupWindow(g, ev.window)
		x := alert.Evidence{Detector: ev.detector.String(), Threshold: math.Round(ev.limit), Baseline: math.Round(ev.baseline)}
		switch ev.detector {
		case detVolume:
			if len(listed) > 0 {
				x.Remote, x.Name = listed[0].k.String(), listed[0].name
			}
			x.Start, x.End, x.BytesOut = utc(w.first), utc(w.last), w.bytes
			x.BytesIn = w.bytes - w.net // received on the same connections: not counted against the baseline
			x.Score = volumeScore(w.net, ev.limit)
			x.Reason = volumeReason(w, ev, e.cfg.Window)
		case detNewDest:
			r := w.get(ev.remote)
			x.Remote, x.Name = ev.remote.String(), r.name
			x.BytesOut = r.bytes
			if d, ok := h.dests.m[ev.remote]; ok {
				x.BytesOut = max(d.bytes, r.bytes)
			}
			x.Start, x.End = utc(r.first), utc(r.last)
			x.FirstSeen, x.Prevalence = utc(ev.firstSeen), ev.prevalence
			x.Score = newDestScore(x.BytesOut, ev.limit)
			x.Reason = newDestReason(&x)
		case detInboundPull:
			r := w.get(ev.remote)
			x.Remote, x.Name = ev.remote.String(), r.name
			x.BytesOut = r.inbound
			x.Start, x.End = utc(r.first), utc(r.last)
			x.Score = newDestScore(x.BytesOut, ev.limit)
			x.Reason = inboundReason(&x, ev.prevalence)
		case detLongLived:
			r := w.get(ev.remote)
			x.Remote, x.Name = ev.remote.String(), r.name
			x.BytesOut = max(r.longBytes, ev.up)
			x.Start, x.End = utc(ev.firstSeen), utc(r.last)
			x.FirstSeen, x.Prevalence = utc(ev.firstSeen), ev.prevalence
			x.Score = newDestScore(x.BytesOut, ev.limit)
			x.Reason = longLivedReason(&x)
		case detBeacon:
			r := w.get(ev.remote)
			x.Remote, x.Name = ev.remote.String(), r.name
			x.Start, x.End = utc(r.first), utc(r.last)
			x.Connections, x.Interval = ev.peers, math.Round(ev.baseline*100)/100
			x.Baseline = 0
			if ev.serving {
				x.BytesOut = max(r.bytes, ev.up)
				x.Score = clampScore(80 + 10*math.Log10(float64(x.BytesOut)/ev.limit))
				x.Reason = fmt.Sprintf("after beaconing to %s every %.1f s, sent it %s (threshold %s): the beacon turned into an upload",
					x.Remote, x.Interval, humanBytes(float64(x.BytesOut)), humanBytes(ev.limit))
			} else {
				x.BytesOut = r.bytes
				x.FirstSeen, x.Prevalence = utc(ev.firstSeen), ev.prevalence
				x.Threshold = math.Round(ev.limit*1000) / 1000
				x.Score = clampScore(50 + 25*math.Log10(float64(ev.peers)/float64(e.cfg.BeaconMinConnections)))
				x.Reason = fmt.Sprintf("%d connections to %s every %.1f s (±%.2f s), ~%s each, since %s; %s",
					ev.peers, x.Remote, x.Interval, ev.limit, humanBytes(float64(ev.up)),
					x.FirstSeen.Format("2006-01-02 15:04 UTC"), prevalenceClause(ev.prevalence, "it"))
			}
		case detLowSlow:
			x.Remote, x.Name = ev.remote.String(), w.remoteName(ev.remote)
			x.BytesOut = ev.up
			x.Start, x.End = utc(ev.firstSeen), utc(ev.at)
			x.FirstSeen, x.Prevalence = utc(ev.firstSeen), ev.prevalence
			x.Score = volumeScore(ev.up, ev.limit)
			x.Reason = lowSlowReason(&x, ev.down, e.cfg.LowSlowHalfLife)
		case detP2P:
			x.Start, x.End = utc(w.first), utc(w.last)
			x.BytesOut, x.BytesIn = max(w.p2pUp, ev.up), max(w.p2pDown, ev.down)
			x.Peers, x.PeersIn = max(w.p2pPeers, ev.peers), max(w.p2pInPeers, ev.inPeers)
			x.Score = clampScore(50 + 50*math.Log10(float64(x.Peers)/ev.limit))
			if ev.serving {
				x.Score = clampScore(x.Score + 30)
			}
			x.Reason = p2pReason(&x, ev.serving)
		case detDNSTunnel:
			x.Remote = ev.remote.String()
			x.UniqueNames, x.Queries, x.BytesOut = ev.peers, ev.inPeers, ev.up
			x.Start, x.End = utc(ev.firstSeen), utc(ev.at)
			if t := e.dnsEvidence(h, ev); t != nil { // as of the deadline
				x.UniqueNames, x.Queries, x.BytesOut = len(t.subs), t.queries, t.bytes
				x.Start, x.End, x.Domain = utc(t.first), utc(t.last), t.group.domain
			}
			x.Prevalence, x.Threshold, x.Baseline = ev.prevalence, ev.baseline, 0
			x.Score = clampScore(60 + 20*math.Log10(float64(x.BytesOut)/ev.limit))
			x.Reason = dnsReason(&x, ev.limit)
			if !slices.Contains(a.Remotes, x.Remote) { // the DNS server, when the window has no bytes for it
				a.Remotes = append(a.Remotes, x.Remote)
				a.RemoteNames = append(a.RemoteNames, "")
			}
			if a.BytesOut == 0 { // a host that only asked DNS: the names are what it sent
				a.BytesOut = x.BytesOut
			}
		}
		a.Evidence = append(a.Evidence, x)
	}
	slices.SortStableFunc(a.Evidence, func(x, y alert.Evidence) int {
		return cmp.Or(cmp.Compare(x.Detector, y.Detector), cmp.Compare(y.BytesOut, x.BytesOut), strings.Compare(x.Remote, y.Remote))
	})
	best := 0.0
	for i := range a.Evidence {
		x := &a.Evidence[i]
		if !slices.Contains(a.Detectors, x.Detector) {
			a.Detectors = append(a.Detectors, x.Detector)
		}
		if a.Start.IsZero() || x.Start.Before(a.Start) {
			a.Start = x.Start
		}
		if x.End.After(a.End) {
			a.End = x.End
		}
		best = max(best, x.Score)
		switch {
		case x.Detector == detVolume.String() && vol == nil:
			vol = x
		case x.Detector == detNewDest.String() && nd == nil:
			nd = x
		}
	}
	for _, ev := range g.evs {
		if ev.detector == detVolume {
			volEv = ev
			break
		}
	}
	slices.Sort(a.Detectors)
	a.Score = clampScore(best + 10*float64(len(a.Detectors)-1))
	a.Severity = alert.SeverityWarning
	if a.Score >= criticalScore || a.BytesOut >= criticalBytes {
		a.Severity = alert.SeverityCritical
	}
	first := g.evs[0].at
	for _, ev := range g.evs {
		first = min(first, ev.at)
	}
	a.ID = alertID(h.key, first, a.Detectors)
	a.Summary = summarize(&a, vol, volEv, nd, e.cfg.Window)
	for _, x := range a.Evidence {
		if x.Detector != detVolume.String() && x.Detector != detNewDest.String() {
			a.Summary += " " + x.Detector + ": " + x.Reason + "."
		}
	}
	return a
}

func groupWindow(g *group, start int64) *window {
	for _, w := range g.wins {
		if w.start == start {
			return w
		}
	}
	return g.wins[0] // not reached: raise records every window
}

// alertID is stable for the same host, first evidence (event time of the
// record that raised it) and detectors, so a replay of the same data yields
// the same ids, and two alerts for one host in one window do not share one
// (the alert stream de-duplicates on it).
func alertID(k addrKey, firstEvidence int64, detectors []string) string {
	h := sha256.New()
	h.Write(k[:])
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(firstEvidence)))
	h.Write([]byte(strings.Join(detectors, ",")))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func utc(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
