package notify

import (
	"fmt"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// Webhook body formats.
const (
	// FormatAlertmanager is Alertmanager's webhook payload, version 4
	// (alertmanager.go), so receivers written for Alertmanager work.
	FormatAlertmanager = "alertmanager"
	// FormatOutflow is the alert itself, the object the JSON-lines log holds.
	FormatOutflow = "outflow"
)

// WebhookConfig configures a generic webhook.
type WebhookConfig struct {
	Name    string            `yaml:"name"`    // default "webhook" (then "webhook-1", ...)
	URL     string            `yaml:"url"`     // http or https
	Format  string            `yaml:"format"`  // "alertmanager" (default) or "outflow"
	Headers map[string]string `yaml:"headers"` // extra request headers, e.g. Authorization
	Timeout time.Duration     `yaml:"timeout"` // one attempt, default 10s
	Retry   RetryPolicy       `yaml:"retry"`   //
	Route   `yaml:",inline"`
}

// Webhook POSTs each alert with Content-Type application/json, as
// Alertmanager's webhook payload (version 4) or, with format "outflow", as
// the same JSON object the JSON-lines log holds. Any 2xx is success.
type Webhook struct{ jsonDriver }

// NewWebhook checks the URL and prepares the client; it sends nothing.
func NewWebhook(c WebhookConfig) (*Webhook, error) {
	if c.Name == "" {
		c.Name = "webhook"
	}
	var render func(*alert.Alert) ([]byte, error)
	switch c.Format {
	case "", FormatAlertmanager:
		name := c.Name
		render = renderJSON(func(a *alert.Alert) amWebhookPayload { return amWebhookFor(a, name) })
	case FormatOutflow:
		render = renderJSON(func(a *alert.Alert) *alert.Alert { return a })
	default:
		return nil, fmt.Errorf("notify %s: format: %w", c.Name, errFormat(c.Format))
	}
	d, err := newJSONDriver(c.Name, c.URL, c.Headers, c.Timeout, render)
	if err != nil {
		return nil, err
	}
	return &Webhook{d}, nil
}

func errFormat(f string) error {
	return fmt.Errorf("%q is not %q or %q", f, FormatAlertmanager, FormatOutflow)
}
