package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// summarize writes the alert's one sentence: who sent how much where and
// when, against which baseline, and why the destination matters, e.g.
//
//	10.1.2.3 sent 1.2 GB to 203.0.113.9 (files.example.net, first seen 02:13)
//	between 02:00 and 02:40 UTC, 38× its usual 31 MB per hour (threshold
//	82 MB); no other internal host talks to that server.
func summarize(a *alert.Alert, vol *alert.Evidence, volEv evidence, nd *alert.Evidence, window time.Duration) string {
	var b strings.Builder
	subject, bytes, start, end := "", a.BytesOut, a.Start, a.End
	others := 0
	if len(a.Remotes) > 0 {
		subject, others = a.Remotes[0], len(a.Remotes)-1
	}
	if vol == nil && nd != nil { // the new server is the story
		subject, bytes, start, end, others = nd.Remote, nd.BytesOut, nd.Start, nd.End, 0
	}
	fmt.Fprintf(&b, "%s sent %s", a.Host, humanBytes(float64(bytes)))
	if subject != "" {
		fmt.Fprintf(&b, " to %s", subject)
		var about []string
		if name := remoteName(a, subject); name != "" {
			about = append(about, name)
		}
		if nd != nil && nd.Remote == subject {
			about = append(about, "first seen "+clock(nd.FirstSeen, nd.FirstSeen))
		}
		if len(about) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(about, ", "))
		}
		switch {
		case others == 1:
			b.WriteString(" and 1 other server")
		case others > 1:
			fmt.Fprintf(&b, " and %d other servers", others)
		}
	}
	if from, to := clock(start, end), clock(end, start); from == to {
		fmt.Fprintf(&b, " at %s UTC", from)
	} else {
		fmt.Fprintf(&b, " between %s and %s UTC", from, to)
	}
	if vol != nil {
		if volEv.basis == basisBackstop {
			fmt.Fprintf(&b, ", over the %s backstop for a host still being learned", humanBytes(vol.Threshold))
		} else {
			fmt.Fprintf(&b, ", %s (threshold %s)", usual(float64(vol.BytesOut-vol.BytesIn), vol.Baseline, window),
				humanBytes(vol.Threshold))
		}
	}
	if nd != nil {
		if nd.Remote == subject {
			fmt.Fprintf(&b, "; %s", prevalenceClause(nd.Prevalence, "that server"))
		} else {
			name := ""
			if nd.Name != "" {
				name = nd.Name + ", "
			}
			fmt.Fprintf(&b, "; %s of it went to %s (%sfirst seen %s), a new server: %s", humanBytes(float64(nd.BytesOut)),
				nd.Remote, name, clock(nd.FirstSeen, nd.FirstSeen), prevalenceClause(nd.Prevalence, "it"))
		}
	}
	b.WriteString(".")
	return b.String()
}

func remoteName(a *alert.Alert, remote string) string {
	for i, r := range a.Remotes {
		if r == remote && i < len(a.RemoteNames) {
			return a.RemoteNames[i]
		}
	}
	return ""
}

func prevalenceClause(hosts int, what string) string {
	switch others := hosts - 1; {
	case others <= 0:
		return "no other internal host talks to " + what
	case others == 1:
		return "only 1 other internal host talks to " + what
	default:
		return fmt.Sprintf("only %d other internal hosts talk to %s", others, what)
	}
}

func volumeReason(w *window, ev evidence, window time.Duration) string {
	if ev.basis == basisBackstop {
		return fmt.Sprintf("sent %s in one window, over the %s backstop while the host is being learned",
			humanBytes(float64(w.bytes)), humanBytes(ev.limit))
	}
	sent := humanBytes(float64(w.bytes))
	if w.net < w.bytes-w.bytes/10 { // say so when the received bytes matter
		sent += fmt.Sprintf(" (%s more than it received)", humanBytes(float64(w.net)))
	}
	return fmt.Sprintf("sent %s, %s %s (threshold %s)", sent,
		usual(float64(w.net), ev.baseline, window), basisClause(ev.basis, w.start), humanBytes(ev.limit))
}

// usual compares v with the baseline: "32× its usual 36 MB per hour", or,
// for a host that usually sends next to nothing then, "where it usually
// sends next to nothing per hour" (a ratio to a few bytes says nothing).
func usual(v, baseline float64, window time.Duration) string {
	if baseline < 1000 {
		return "where it usually sends next to nothing " + per(window)
	}
	return fmt.Sprintf("%s its usual %s %s", ratio(v, baseline), humanBytes(baseline), per(window))
}

func newDestReason(x *alert.Evidence) string {
	return fmt.Sprintf("sent %s to %s, first seen %s; %s", humanBytes(float64(x.BytesOut)), x.Remote,
		x.FirstSeen.Format("2006-01-02 15:04 UTC"), prevalenceClause(x.Prevalence, "it"))
}

// clock formats t as 15:04, with the date when other falls on another day.
func clock(t, other time.Time) string {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := other.Date()
	if y1 != y2 || m1 != m2 || d1 != d2 {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("15:04")
}

// per names the window length for "31 MB per hour".
func per(w time.Duration) string {
	switch {
	case w == time.Hour:
		return "per hour"
	case w == 24*time.Hour:
		return "per day"
	case w%time.Hour == 0:
		return fmt.Sprintf("per %d hours", w/time.Hour)
	case w%time.Minute == 0:
		return fmt.Sprintf("per %d minutes", w/time.Minute)
	}
	return fmt.Sprintf("per %d seconds", w/time.Second)
}

func ratio(v, base float64) string {
	if base <= 0 {
		return "far above"
	}
	r := v / base
	if r >= 9.95 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.1f×", r)
}

// humanBytes formats b in decimal units: 950 B, 2.5 MB, 31 MB, 1.2 GB.
func humanBytes(b float64) string {
	units := [...]string{"B", "KB", "MB", "GB", "TB", "PB", "EB"}
	i := 0
	for b >= 999.5 && i < len(units)-1 {
		b /= 1000
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%.0f B", b)
	case b < 9.95:
		return fmt.Sprintf("%.1f %s", b, units[i])
	}
	return fmt.Sprintf("%.0f %s", b, units[i])
}

// basisClause says what the usual volume was measured on.
func basisClause(b basis, start int64) string {
	t := utc(start)
	switch b {
	case basisSeasonal:
		return "on " + t.Format("Mondays") + " at " + t.Format("15:04") + " UTC"
	case basisDay:
		kind := "weekdays"
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			kind = "weekends"
		}
		return "at " + t.Format("15:04") + " UTC on " + kind
	case basisHour:
		return "at " + t.Format("15:04") + " UTC"
	case basisPeers:
		return "for its peer group (the host is new)"
	}
	return "over all hours"
}

func inboundReason(x *alert.Evidence, served int) string {
	why := "the host has not served the outside before"
	if served > 0 {
		why = fmt.Sprintf("the host served the outside in only %d earlier windows", served)
	}
	return fmt.Sprintf("%s connected in and took %s from the host (threshold %s); %s",
		x.Remote, humanBytes(float64(x.BytesOut)), humanBytes(x.Threshold), why)
}

func longLivedReason(x *alert.Evidence) string {
	return fmt.Sprintf("sent %s to %s over a connection open since %s (threshold %s); %s",
		humanBytes(float64(x.BytesOut)), x.Remote, x.FirstSeen.Format("2006-01-02 15:04 UTC"),
		humanBytes(x.Threshold), prevalenceClause(x.Prevalence, "it"))
}

func p2pReason(x *alert.Evidence, serving bool) string {
	what := "a peer-to-peer client"
	if serving {
		what = "a file-sharing node serving others"
	}
	return fmt.Sprintf("exchanged data with %d external peers on high ports, %d of which connected in, "+
		"and sent them %s while receiving %s: %s",
		x.Peers, x.PeersIn, humanBytes(float64(x.BytesOut)), humanBytes(float64(x.BytesIn)), what)
}

func lowSlowReason(x *alert.Evidence, total uint64, halfLife time.Duration) string {
	usual := "it usually accumulates nothing like it with any rare server"
	if x.Baseline > 0 {
		usual = fmt.Sprintf("%s what it usually accumulates with a rare server (%s)", ratio(float64(x.BytesOut), x.Baseline), humanBytes(x.Baseline))
	}
	return fmt.Sprintf("has sent %s to %s since %s, a steady drip: %s counted with a %s half-life (threshold %s); %s; %s",
		humanBytes(float64(total)), x.Remote, x.FirstSeen.Format("2006-01-02 15:04 UTC"), humanBytes(float64(x.BytesOut)),
		shortDuration(halfLife), humanBytes(x.Threshold), usual, prevalenceClause(x.Prevalence, "it"))
}

// shortDuration writes 24h rather than 24h0m0s, 90m as 1h30m, and keeps
// seconds that are there (1m30s).
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func dnsReason(x *alert.Evidence, minBytes float64) string {
	what := "subdomains of " + x.Domain
	if x.Domain == "" {
		what = "names under no registered domain, straight to " + x.Remote
	}
	return fmt.Sprintf("asked %d DNS queries with at least %d unique %s, %s of query names "+
		"(thresholds %.0f unique, %s) between %s and %s UTC: data hidden in DNS names; %s",
		x.Queries, x.UniqueNames, what, humanBytes(float64(x.BytesOut)), x.Threshold, humanBytes(minBytes),
		x.Start.Format("15:04:05"), x.End.Format("15:04:05"), askersClause(x.Prevalence, x.Domain == ""))
}

func askersClause(hosts int, server bool) string {
	what := "that domain"
	if server {
		what = "that server"
	}
	switch others := hosts - 1; {
	case others <= 0:
		return "no other internal host asks " + what
	case others == 1:
		return "only 1 other internal host asks " + what
	default:
		return fmt.Sprintf("only %d other internal hosts ask %s", others, what)
	}
}
