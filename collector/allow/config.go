package allow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Config is the `allow` section of collector.detect in the YAML config.
type Config struct {
	Rules       []Rule   `yaml:"rules"`
	Maintenance []Window `yaml:"maintenance"`
}

// Rule allowlists remotes: by CIDR or single address (Remotes) and/or by
// domain suffix (Domains, matched against the remote's name at label
// boundaries: "example.com" matches "example.com" and "a.b.example.com",
// not "badexample.com"; case-insensitive; a trailing dot is ignored). A
// remote matching either list matches the rule. Hosts limits the rule to
// internal hosts in these CIDRs (empty: every host). Detectors limits it to
// these detector names (empty: every detector).
type Rule struct {
	Remotes   []string `yaml:"remotes"`
	Domains   []string `yaml:"domains"`
	Hosts     []string `yaml:"hosts"`
	Detectors []string `yaml:"detectors"`
	// Comment says why, for logs and explanations; never a metric label.
	Comment string `yaml:"comment"`
}

// Window silences evidence for Hosts (CIDRs, empty: all) and Detectors
// (empty: all) during a period: either recurring (Every: "day" or a
// weekday "monday".."sunday", from the wall-clock time At "HH:MM" in the
// time zone TZ, default UTC, for the real duration For) or one-off
// ([From, To), RFC 3339).
type Window struct {
	Hosts     []string      `yaml:"hosts"`
	Detectors []string      `yaml:"detectors"`
	Every     string        `yaml:"every"`
	At        string        `yaml:"at"`
	For       time.Duration `yaml:"for"`
	TZ        string        `yaml:"tz"`
	From      time.Time     `yaml:"from"`
	To        time.Time     `yaml:"to"`
	Comment   string        `yaml:"comment"`
}

const week = 7 * 24 * time.Hour

// New validates cfg and indexes it. Every error names the rule or window
// index and the field (all errors are joined). Detector names are checked
// against known unless known is empty.
func New(cfg Config, known []string) (*List, error) {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	parseScope := func(field string, hosts, detectors []string) scope {
		var s scope
		var entries []cidrEntry
		for i, h := range hosts {
			p, ok := parsePrefix(h)
			if !ok {
				fail(fmt.Sprintf("%s.hosts[%d]", field, i), "not a CIDR: %q", h)
				continue
			}
			entries = append(entries, cidrEntry{p: p})
		}
		if len(hosts) > 0 {
			s.hosts = newCIDRIndex(entries)
		}
		for i, d := range detectors {
			switch {
			case d == "":
				fail(fmt.Sprintf("%s.detectors[%d]", field, i), "empty")
			case len(known) > 0 && !slices.Contains(known, d):
				fail(fmt.Sprintf("%s.detectors[%d]", field, i), "unknown detector %q (known: %s)", d, strings.Join(known, ", "))
			}
		}
		s.detectors = slices.Clone(detectors)
		return s
	}

	l := &List{domains: suffixIndex{rules: map[string][]int32{}}}
	var remotes []cidrEntry
	for i, r := range cfg.Rules {
		field := fmt.Sprintf("allow.rules[%d]", i)
		if len(r.Remotes) == 0 && len(r.Domains) == 0 {
			fail(field, "needs remotes or domains")
		}
		for j, s := range r.Remotes {
			p, ok := parsePrefix(s)
			if !ok {
				fail(fmt.Sprintf("%s.remotes[%d]", field, j), "not a CIDR: %q", s)
				continue
			}
			remotes = append(remotes, cidrEntry{p: p, val: int32(i)})
		}
		for j, s := range r.Domains {
			d, ok := parseSuffix(s)
			if !ok {
				fail(fmt.Sprintf("%s.domains[%d]", field, j), "not a domain suffix: %q", s)
				continue
			}
			if rs := l.domains.rules[d]; len(rs) == 0 || rs[len(rs)-1] != int32(i) {
				l.domains.rules[d] = append(rs, int32(i))
			}
			l.domains.maxLen = max(l.domains.maxLen, len(d))
		}
		l.rules = append(l.rules, parseScope(field, r.Hosts, r.Detectors))
	}
	l.remotes = newCIDRIndex(remotes)

	for i, w := range cfg.Maintenance {
		field := fmt.Sprintf("allow.maintenance[%d]", i)
		win := window{scope: parseScope(field, w.Hosts, w.Detectors)}
		recurring := w.Every != "" || w.At != "" || w.For != 0 || w.TZ != ""
		oneOff := !w.From.IsZero() || !w.To.IsZero()
		switch {
		case recurring && oneOff:
			fail(field, "either every/at/for/tz or from/to, not both")
		case recurring:
			parseRecurring(&win, w, field, fail)
		case oneOff:
			win.from, win.to = w.From, w.To
			switch {
			case w.From.IsZero():
				fail(field+".from", "missing")
			case w.To.IsZero():
				fail(field+".to", "missing")
			case !w.To.After(w.From):
				fail(field+".to", "must be after from")
			}
		default:
			fail(field, "needs every, at and for, or from and to")
		}
		l.windows = append(l.windows, win)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return l, nil
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseRecurring(win *window, w Window, field string, fail func(field, format string, args ...any)) {
	period := week
	if every := strings.ToLower(w.Every); every == "day" {
		win.daily, period = true, 24*time.Hour
	} else if wd, ok := weekdays[every]; ok {
		win.weekday = wd
	} else {
		fail(field+".every", "want day or a weekday (monday..sunday), got %q", w.Every)
	}
	if h, m, ok := parseClock(w.At); ok {
		win.hh, win.mm = h, m
	} else {
		fail(field+".at", "want HH:MM, got %q", w.At)
	}
	switch {
	case w.For <= 0:
		fail(field+".for", "must be positive")
	case w.For > period:
		fail(field+".for", "must be at most %s for every: %s", strings.TrimSuffix(period.String(), "0m0s"), w.Every)
	}
	win.dur = w.For
	win.loc = time.UTC
	if w.TZ != "" {
		loc, err := time.LoadLocation(w.TZ)
		if err != nil || w.TZ == "Local" { // Local would depend on the machine
			fail(field+".tz", "unknown time zone %q", w.TZ)
		} else {
			win.loc = loc
		}
	}
}

// parseClock parses "HH:MM", 00:00 to 23:59.
func parseClock(s string) (h, m int, ok bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, false
		}
	}
	h, m = int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	return h, m, h < 24 && m < 60
}
