package triage

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/allow"
)

// Rule kinds.
const (
	KindSuppress  = "suppress"
	KindAllowlist = "allowlist"
)

// Rule is an allowlist rule or suppression added from an alert. A
// suppression with a Remote is an allowlist rule for the host, the remote
// and (if set) the detector until Expires; without a Remote it is a
// maintenance window for the host (and detector) from From (event time) to
// Expires. An allowlisted destination (Remote or Domain) is permanent.
type Rule struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Alert    string    `json:"alert"`
	Host     string    `json:"host"`
	Remote   string    `json:"remote,omitempty"`
	Domain   string    `json:"domain,omitempty"`
	Detector string    `json:"detector,omitempty"`
	From     time.Time `json:"from,omitzero"`
	Expires  time.Time `json:"expires,omitzero"` // wall clock; zero: never
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Note     string    `json:"note,omitempty"`
}

// Suppression is what a suppress action asks for.
type Suppression struct {
	Remote   string        // "": every remote
	Detector string        // "": every detector
	For      time.Duration // how long, from now
	Note     string
}

// Destination is what an allowlist action asks for: one of Remote (an IP
// address) and Domain (a suffix: "example.com" covers its subdomains).
type Destination struct {
	Remote, Domain, Note string
}

// Suppression durations.
const (
	MinSuppress = time.Minute
	MaxSuppress = 90 * 24 * time.Hour
)

// Suppress stops a's host raising evidence for the remote and detector
// asked for, until s.For from now.
func (t *Triage) Suppress(who string, a alert.Alert, s Suppression) (Rule, error) {
	if s.For < MinSuppress || s.For > MaxSuppress {
		return Rule{}, badInput("duration", "want %s to %s, got %s", MinSuppress, MaxSuppress, s.For)
	}
	if s.Remote != "" {
		if _, err := netip.ParseAddr(s.Remote); err != nil {
			return Rule{}, badInput("remote", "not an IP address: %q", s.Remote)
		}
	}
	if s.Detector != "" && len(t.o.Detectors) > 0 && !slices.Contains(t.o.Detectors, s.Detector) {
		return Rule{}, badInput("detector", "unknown detector %q", s.Detector)
	}
	now := t.o.Now().UTC()
	r := Rule{Kind: KindSuppress, Alert: a.ID, Host: a.Host, Remote: s.Remote, Detector: s.Detector,
		Expires: now.Add(s.For), By: who, At: now, Note: s.Note}
	if s.Remote == "" {
		// Windows match evidence by event time, which trails the wall
		// clock (and is far behind it in a replay): start at the
		// incident's first evidence.
		r.From = now
		if !a.Start.IsZero() && a.Start.Before(now) {
			r.From = a.Start.UTC()
		}
	}
	err := t.addRule(&r, params("remote", s.Remote, "detector", s.Detector, "duration", s.For.String(), "note", s.Note))
	return r, err
}

// Allowlist trusts a destination for a's host from now on.
func (t *Triage) Allowlist(who string, a alert.Alert, d Destination) (Rule, error) {
	switch {
	case (d.Remote == "") == (d.Domain == ""):
		return Rule{}, badInput("remote", "give exactly one of remote and domain")
	case d.Remote != "":
		if _, err := netip.ParseAddr(d.Remote); err != nil {
			return Rule{}, badInput("remote", "not an IP address: %q", d.Remote)
		}
	default:
		if _, err := allow.New(allow.Config{Rules: []allow.Rule{{Domains: []string{d.Domain}}}}, nil); err != nil {
			return Rule{}, badInput("domain", "not a domain suffix: %q", d.Domain)
		}
	}
	now := t.o.Now().UTC()
	r := Rule{Kind: KindAllowlist, Alert: a.ID, Host: a.Host, Remote: d.Remote, Domain: d.Domain, By: who, At: now, Note: d.Note}
	err := t.addRule(&r, params("remote", d.Remote, "domain", d.Domain, "note", d.Note))
	return r, err
}

func (t *Triage) addRule(r *Rule, p map[string]string) error {
	if err := checkNote(r.Note); err != nil {
		return err
	}
	if _, err := netip.ParseAddr(r.Host); err != nil {
		return badInput("host", "the alert's host %q is not an IP address", r.Host)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	r.ID = "r" + hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.rules) >= t.o.MaxRules {
		return badInput("rules", "already %d run-time rules (the most); remove some first", len(t.rules))
	}
	rules := append(slices.Clone(t.rules), *r)
	if err := t.o.Allow.SetRuntimeAllow(allowConfig(rules)); err != nil {
		return badInput(r.Kind, "%v", err)
	}
	if err := t.putJSON(ruleKey(r.ID), *r); err != nil {
		_ = t.o.Allow.SetRuntimeAllow(allowConfig(t.rules))
		return err
	}
	t.rules = rules
	if p == nil {
		p = map[string]string{}
	}
	p["rule"] = r.ID
	return t.record(Action{At: r.At, By: r.By, Action: r.Kind, Alert: r.Alert, Params: p})
}

// Rules returns the run-time rules, oldest first.
func (t *Triage) Rules() []Rule {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.rules)
}

// RemoveRule deletes a run-time rule (ErrNoRule when there is none).
func (t *Triage) RemoveRule(who, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := slices.IndexFunc(t.rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return ErrNoRule
	}
	r := t.rules[i]
	if err := t.removeRules([]string{id}); err != nil {
		return err
	}
	return t.record(Action{At: t.o.Now().UTC(), By: who, Action: ActRemoveRule, Alert: r.Alert, Params: params("rule", id)})
}

// Expire removes the suppressions whose time is up and returns how many.
func (t *Triage) Expire() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.expire()
}

func (t *Triage) expire() int {
	now := t.o.Now()
	var gone []Rule
	for _, r := range t.rules {
		if !r.Expires.IsZero() && !now.Before(r.Expires) {
			gone = append(gone, r)
		}
	}
	if len(gone) == 0 {
		return 0
	}
	ids := make([]string, len(gone))
	for i, r := range gone {
		ids[i] = r.ID
	}
	if err := t.removeRules(ids); err != nil {
		return 0 // tried again at the next tick
	}
	for _, r := range gone {
		_ = t.record(Action{At: now.UTC(), By: System, Action: ActExpire, Alert: r.Alert, Params: params("rule", r.ID)})
	}
	return len(gone)
}

// removeRules takes ids out of force, then out of the store.
func (t *Triage) removeRules(ids []string) error {
	rules := slices.DeleteFunc(slices.Clone(t.rules), func(r Rule) bool { return slices.Contains(ids, r.ID) })
	if err := t.o.Allow.SetRuntimeAllow(allowConfig(rules)); err != nil {
		return err
	}
	t.rules = rules
	for _, id := range ids {
		if err := t.o.Store.Delete(ruleKey(id)); err != nil {
			return err
		}
	}
	return nil
}

// allowConfig turns rules into the allow package's form.
func allowConfig(rules []Rule) allow.Config {
	var c allow.Config
	for _, r := range rules {
		host := r.Host
		if a, err := netip.ParseAddr(r.Host); err == nil {
			host = netip.PrefixFrom(a, a.BitLen()).String()
		}
		comment := fmt.Sprintf("triage %s %s by %s", r.Kind, r.ID, r.By)
		var detectors []string
		if r.Detector != "" {
			detectors = []string{r.Detector}
		}
		if r.Kind == KindSuppress && r.Remote == "" {
			c.Maintenance = append(c.Maintenance, allow.Window{Hosts: []string{host}, Detectors: detectors,
				From: r.From, To: r.Expires, Comment: comment})
			continue
		}
		ar := allow.Rule{Hosts: []string{host}, Detectors: detectors, Comment: comment}
		if r.Remote != "" {
			ar.Remotes = []string{r.Remote}
		}
		if r.Domain != "" {
			ar.Domains = []string{r.Domain}
		}
		c.Rules = append(c.Rules, ar)
	}
	return c
}
