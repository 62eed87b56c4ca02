package engine

import (
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/allow"
)

// TestAllowlistAndMaintenance: the motivating spike, to a server under an
// allowlisted domain, raises nothing (counted per detector); in a
// maintenance window for the volume detector only new_destination fires.
func TestAllowlistAndMaintenance(t *testing.T) {
	const host = "10.1.2.3"
	recs := background(host, 0, 76)
	recs = append(recs, burst(host, "203.0.113.9", 1_200_000_000, 6, at(74, 13, 0), "eu.files.example.net")...)

	cfg := testConfig()
	cfg.Allow = allow.Config{Rules: []allow.Rule{{Domains: []string{"files.example.net"}, Comment: "the file share"}}}
	e, set := newEngine(t, cfg, nil)
	alerts := append(feed(t, e, recs, t0, at(76, 0, 0)), e.Flush()...)
	if len(alerts) != 0 {
		t.Fatalf("allowlisted: %s", toJSON(t, alerts))
	}
	for _, d := range []string{"new_destination", "volume"} {
		if got := metric(set, `outflow_collector_evidence_allowlisted_total{detector="`+d+`"}`); got != 1 {
			t.Errorf("%s allowlisted %v, want 1", d, got)
		}
	}
	// The bytes still count: the host's baseline learned the window.
	if h := e.hosts[keyOf(mustAddr(host))]; h.base.History(at(76, 0, 0).Unix()) != 76 {
		t.Errorf("baseline history %d windows, want 76", h.base.History(at(76, 0, 0).Unix()))
	}

	cfg = testConfig()
	cfg.Allow = allow.Config{Maintenance: []allow.Window{{Hosts: []string{"10.1.2.0/24"}, Detectors: []string{"volume"},
		Every: "thursday", At: "02:00", For: time.Hour}}}
	e, set = newEngine(t, cfg, nil)
	alerts = append(feed(t, e, recs, t0, at(76, 0, 0)), e.Flush()...)
	if len(alerts) != 1 || toJSON(t, alerts[0].Detectors) != "[\n  \"new_destination\"\n]" {
		t.Fatalf("in maintenance: %s", toJSON(t, alerts))
	}
	if got := metric(set, `outflow_collector_evidence_silenced_total{detector="volume"}`); got != 1 {
		t.Errorf("volume silenced %v, want 1", got)
	}
}

// A bad allowlist is a configuration error naming the rule.
func TestAllowlistConfigError(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Allow = allow.Config{Rules: []allow.Rule{{Remotes: []string{"10.0.0.0/33"}}}}
	err := cfg.Validate()
	if err == nil || err.Error() != `allow.rules[0].remotes[0]: not a CIDR: "10.0.0.0/33"` {
		t.Fatalf("error %v", err)
	}
}
