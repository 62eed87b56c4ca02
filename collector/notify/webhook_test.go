package notify

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

func TestWebhookOutflowFormatSendsAlertJSON(t *testing.T) {
	rcv := newReceiver(t)
	w, err := NewWebhook(WebhookConfig{
		Name:    "siem",
		URL:     rcv.URL + "/hook",
		Format:  FormatOutflow,
		Headers: map[string]string{"authorization": "Bearer s3cret", "X-Outflow-Tenant": "acme"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a := testAlert()
	if err := w.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	h := reqs[0].header
	for k, want := range map[string]string{
		"Content-Type":     "application/json",
		"Authorization":    "Bearer s3cret",
		"X-Outflow-Tenant": "acme",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	got := decode[alert.Alert](t, reqs[0].body)
	if !reflect.DeepEqual(&got, a) {
		t.Errorf("webhook body decodes to\n%+v\nwant\n%+v", got, *a)
	}
	// Field names are the contract with receivers: check a few on the wire.
	raw := decode[map[string]any](t, reqs[0].body)
	for k, want := range map[string]any{
		"id": "a1b2c3", "host": "10.1.2.3", "bytes_out": 1_234_000_000.0,
		"severity": "critical", "start": "2025-03-04T02:00:00Z",
	} {
		if raw[k] != want {
			t.Errorf("body[%q] = %v, want %v", k, raw[k], want)
		}
	}
}

func TestWebhookTimeoutDefault(t *testing.T) {
	w, err := NewWebhook(WebhookConfig{URL: "https://example.com/x"})
	if err != nil {
		t.Fatal(err)
	}
	if w.Name() != "webhook" || w.target.client.Timeout != 10*time.Second {
		t.Errorf("name %q timeout %s, want webhook and 10s", w.Name(), w.target.client.Timeout)
	}
}
