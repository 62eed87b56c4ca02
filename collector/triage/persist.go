package triage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Keys in the store: "state.<alert id>" and "rule.<rule id>", each a JSON
// value.
const (
	statePrefix = "state."
	rulePrefix  = "rule."
)

func stateKey(alertID string) string { return statePrefix + alertID }
func ruleKey(id string) string       { return rulePrefix + id }

func marshal(v any) ([]byte, error) { return json.Marshal(v) }

func (t *Triage) putJSON(key string, v any) error {
	data, err := marshal(v)
	if err == nil {
		err = t.o.Store.Put(key, data)
	}
	if err != nil {
		return fmt.Errorf("save triage %s: %w", key, err)
	}
	return nil
}

// load reads every state and rule and the newest LogKeep log entries.
// An entry that does not decode is skipped (and, for states, deleted), so
// one bad value cannot stop the collector.
func (t *Triage) load(ctx context.Context) error {
	keys, err := t.o.Store.Keys()
	if err != nil {
		return fmt.Errorf("load triage: %w", err)
	}
	for _, k := range keys {
		data, ok, err := t.o.Store.Get(k)
		if err != nil {
			return fmt.Errorf("load triage: %w", err)
		}
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, statePrefix):
			var s State
			if json.Unmarshal(data, &s) != nil || s.Alert == "" {
				_ = t.o.Store.Delete(k)
				continue
			}
			t.states[s.Alert] = s
		case strings.HasPrefix(k, rulePrefix):
			var r Rule
			if json.Unmarshal(data, &r) != nil || r.ID == "" {
				_ = t.o.Store.Delete(k)
				continue
			}
			t.rules = append(t.rules, r)
		}
	}
	slices.SortFunc(t.rules, func(a, b Rule) int { return a.At.Compare(b.At) })
	entries, err := t.o.Log.Tail(ctx, t.o.LogKeep)
	if err != nil {
		return fmt.Errorf("load triage log: %w", err)
	}
	for _, data := range entries {
		var a Action
		if json.Unmarshal(data, &a) == nil {
			t.log = append(t.log, a)
		}
	}
	return nil
}
