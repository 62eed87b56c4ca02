package triage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/outflowhq/outflow/collector/allow"
)

// Triage statuses of an incident. An incident nobody acted on is open.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Actions, as recorded in the log (and the subject token of each entry).
const (
	ActAcknowledge = "acknowledge"
	ActResolve     = "resolve"
	ActReopen      = "reopen"
	ActSuppress    = "suppress"
	ActAllowlist   = "allowlist"
	ActRemoveRule  = "remove_rule"
	ActExpire      = "expire" // by System, when a suppression ends
)

// System is who acts when nobody does (a suppression expiring).
const System = "outflow"

// State is one incident's triage status.
type State struct {
	Alert  string    `json:"alert"`
	Status string    `json:"status"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Note   string    `json:"note,omitempty"`
}

// Action is one entry of the action log.
type Action struct {
	At     time.Time         `json:"at"`
	By     string            `json:"by"`
	Action string            `json:"action"`
	Alert  string            `json:"alert,omitempty"`
	Params map[string]string `json:"params,omitempty"`
}

// Allower takes the rules added at run time (the collector's
// SetRuntimeAllow); configured rules are its business.
type Allower interface {
	SetRuntimeAllow(allow.Config) error
}

// Store keeps values by key (collector/state.KV over the triage bucket).
type Store interface {
	Put(key string, value []byte) error
	Get(key string) ([]byte, bool, error)
	Delete(key string) error
	Keys() ([]string, error)
}

// Log is the action log (transport.TriageLog).
type Log interface {
	Append(kind string, data []byte) error
	Tail(ctx context.Context, n int) ([][]byte, error)
}

// Options are Open's dependencies and bounds.
type Options struct {
	Store Store
	Log   Log
	Allow Allower
	// Detectors are the detector names a suppression may name (empty: any).
	Detectors []string
	Now       func() time.Time // default time.Now
	// MaxRules bounds the run-time rules (default 1,000); MaxStates the
	// incident states kept (default 50,000, the oldest go first), and
	// StateMaxAge their age (default 90 days). LogKeep is how many log
	// entries are kept in memory for the API (default 2,000; the stream
	// keeps more).
	MaxRules, MaxStates, LogKeep int
	StateMaxAge                  time.Duration
}

// Triage is safe for concurrent use.
type Triage struct {
	o      Options
	mu     sync.Mutex
	states map[string]State
	rules  []Rule // oldest first
	log    []Action
}

// InputError is a request the caller got wrong; Field names the bad
// parameter.
type InputError struct{ Field, Msg string }

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

func badInput(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ErrNoRule is returned for an unknown rule id.
var ErrNoRule = errors.New("no such rule")

// Open loads states, rules and the log tail, drops what has expired and
// hands the rules to o.Allow.
func Open(ctx context.Context, o Options) (*Triage, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.MaxRules = cmpOr(o.MaxRules, 1000)
	o.MaxStates = cmpOr(o.MaxStates, 50000)
	o.LogKeep = cmpOr(o.LogKeep, 2000)
	if o.StateMaxAge == 0 {
		o.StateMaxAge = 90 * 24 * time.Hour
	}
	t := &Triage{o: o, states: map[string]State{}}
	if err := t.load(ctx); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneStates()
	t.expire()
	if err := t.o.Allow.SetRuntimeAllow(allowConfig(t.rules)); err != nil {
		return nil, fmt.Errorf("triage rules: %w", err)
	}
	return t, nil
}

func cmpOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// State is the incident's triage state (open when nobody acted).
func (t *Triage) State(alertID string) State {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.states[alertID]; ok {
		return s
	}
	return State{Alert: alertID, Status: StatusOpen}
}

// SetStatus records who acknowledged, resolved or reopened an incident.
func (t *Triage) SetStatus(who, alertID, status, note string) (State, error) {
	act := map[string]string{StatusAcknowledged: ActAcknowledge, StatusResolved: ActResolve, StatusOpen: ActReopen}[status]
	if act == "" {
		return State{}, badInput("status", "want %s, %s or %s, got %q", StatusOpen, StatusAcknowledged, StatusResolved, status)
	}
	if err := checkNote(note); err != nil {
		return State{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := State{Alert: alertID, Status: status, By: who, At: t.o.Now().UTC(), Note: note}
	if err := t.putJSON(stateKey(alertID), s); err != nil {
		return State{}, err
	}
	t.states[alertID] = s
	t.pruneStates()
	return s, t.record(Action{At: s.At, By: who, Action: act, Alert: alertID, Params: params("note", note)})
}

// Actions returns the newest limit log entries, newest first; only those
// about alertID unless it is "".
func (t *Triage) Actions(alertID string, limit int) []Action {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := []Action{}
	for i := len(t.log) - 1; i >= 0 && len(out) < limit; i-- {
		if alertID == "" || t.log[i].Alert == alertID {
			out = append(out, t.log[i])
		}
	}
	return out
}

// Run removes expired suppressions every second and prunes old states
// hourly, until ctx ends.
func (t *Triage) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t.Expire()
		if time.Since(lastPrune) > time.Hour {
			t.mu.Lock()
			t.pruneStates()
			t.mu.Unlock()
			lastPrune = time.Now()
		}
	}
}

// record appends a to the log (persisted and in memory).
func (t *Triage) record(a Action) error {
	t.log = append(t.log, a)
	if over := len(t.log) - t.o.LogKeep; over > 0 {
		t.log = slices.Delete(t.log, 0, over)
	}
	data, err := marshal(a)
	if err == nil {
		err = t.o.Log.Append(a.Action, data)
	}
	if err != nil {
		return fmt.Errorf("%s done but not logged: %w", a.Action, err)
	}
	return nil
}

// pruneStates drops states older than StateMaxAge and, past MaxStates,
// the oldest.
func (t *Triage) pruneStates() {
	cutoff := t.o.Now().Add(-t.o.StateMaxAge)
	var all []State
	for id, s := range t.states {
		if s.At.Before(cutoff) {
			t.dropState(id)
			continue
		}
		all = append(all, s)
	}
	if over := len(all) - t.o.MaxStates; over > 0 {
		slices.SortFunc(all, func(a, b State) int { return a.At.Compare(b.At) })
		for _, s := range all[:over] {
			t.dropState(s.Alert)
		}
	}
}

func (t *Triage) dropState(id string) {
	delete(t.states, id)
	_ = t.o.Store.Delete(stateKey(id)) // retried at the next prune
}

const maxNote = 1000

func checkNote(note string) error {
	if len(note) > maxNote {
		return badInput("note", "at most %d bytes, got %d", maxNote, len(note))
	}
	return nil
}

// params builds an action's parameters from key, value pairs, leaving out
// empty values.
func params(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
