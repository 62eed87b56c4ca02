package allow

import (
	"math"
	"net/netip"
	"time"
)

// List is a validated, indexed Config. A nil *List allows nothing and
// silences nothing. It is read-only after New and safe for concurrent use.
type List struct {
	rules   []scope
	remotes *cidrIndex
	domains suffixIndex
	windows []window
}

// scope limits a rule or window to hosts (nil: all) and detectors (empty:
// all).
type scope struct {
	hosts     *cidrIndex
	detectors []string
}

func (s *scope) covers(host netip.Addr, detector string) bool {
	if len(s.detectors) > 0 {
		found := false
		for _, d := range s.detectors {
			if d == detector {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return s.hosts == nil || s.hosts.contains(host)
}

// Allowed reports whether evidence of detector about remote (named name,
// which may be "") for host is allowlisted, and by which rule: the lowest
// index in Config.Rules whose remotes contain remote or whose domains
// match name, and whose hosts and detectors cover host and detector. rule
// is -1 when ok is false.
func (l *List) Allowed(host, remote netip.Addr, name, detector string) (rule int, ok bool) {
	if l == nil {
		return -1, false
	}
	best := int32(math.MaxInt32)
	if t, i := l.remotes.lookup(remote); i >= 0 {
		for ; i >= 0; i = t.parent[i] {
			best = l.firstRule(t.vals[i], host, detector, best)
		}
	}
	if name != "" {
		best = l.bestDomain(name, host, detector, best)
	}
	if best == math.MaxInt32 {
		return -1, false
	}
	return int(best), true
}

// firstRule returns the first of rules (ascending) below best whose scope
// covers host and detector, else best.
func (l *List) firstRule(rules []int32, host netip.Addr, detector string, best int32) int32 {
	for _, r := range rules {
		if r >= best {
			break
		}
		if l.rules[r].covers(host, detector) {
			return r
		}
	}
	return best
}

// Silenced reports whether evidence of detector for host at t (event time)
// falls in a maintenance window, and which: the lowest index in
// Config.Maintenance. window is -1 when ok is false. Windows are checked
// one by one; there are few.
func (l *List) Silenced(host netip.Addr, detector string, t time.Time) (window int, ok bool) {
	if l == nil {
		return -1, false
	}
	for i := range l.windows {
		w := &l.windows[i]
		if w.scope.covers(host, detector) && w.covers(t) {
			return i, true
		}
	}
	return -1, false
}

// Len returns the number of rules and of maintenance windows.
func (l *List) Len() (rules, windows int) {
	if l == nil {
		return 0, 0
	}
	return len(l.rules), len(l.windows)
}
