package notify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

func TestRouteMatch(t *testing.T) {
	no := false
	firing := testAlert() // critical, new_destination + volume_spike
	resolved := testAlert()
	resolved.Status = alert.StatusResolved
	tests := []struct {
		name  string
		route Route
		a     *alert.Alert
		want  bool
	}{
		{"empty route takes everything", Route{}, firing, true},
		{"resolved sent by default", Route{}, resolved, true},
		{"send_resolved false", Route{SendResolved: &no}, resolved, false},
		{"send_resolved false keeps firing", Route{SendResolved: &no}, firing, true},
		{"severity listed", Route{Severities: []string{"warning", "critical"}}, firing, true},
		{"severity not listed", Route{Severities: []string{"warning"}}, firing, false},
		{"any detector listed", Route{Detectors: []string{"p2p", "volume_spike"}}, firing, true},
		{"no detector listed", Route{Detectors: []string{"p2p"}}, firing, false},
		{"both must match", Route{Severities: []string{"critical"}, Detectors: []string{"p2p"}}, firing, false},
		{"resolution routed like its alert", Route{Severities: []string{"info"}}, resolved, false},
	}
	for _, tt := range tests {
		if got := tt.route.Match(tt.a); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRoutedSkipsWithErrSkipped(t *testing.T) {
	rcv := newReceiver(t)
	w, _ := NewWebhook(WebhookConfig{Name: "hook", URL: rcv.URL})
	n := withRoute(w, Route{Severities: []string{"info"}})
	if n.Name() != "hook" {
		t.Errorf("name %q, want the notifier's", n.Name())
	}
	if err := n.Notify(context.Background(), testAlert()); !errors.Is(err, ErrSkipped) {
		t.Errorf("Notify = %v, want ErrSkipped", err)
	}
	// Retry must not retry a skip.
	if err := Retry(n, fastRetry, func(error, time.Duration) { t.Error("retried a skip") }).Notify(context.Background(), testAlert()); !errors.Is(err, ErrSkipped) {
		t.Errorf("Notify through Retry = %v, want ErrSkipped", err)
	}
	if len(rcv.requests()) != 0 {
		t.Error("a skipped alert was sent")
	}
	if err := n.Notify(context.Background(), testAlertMinimal()); err != nil || len(rcv.requests()) != 1 {
		t.Errorf("matching alert: err %v, %d requests", err, len(rcv.requests()))
	}
}
