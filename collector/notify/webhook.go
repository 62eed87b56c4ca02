package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// WebhookConfig configures a generic webhook.
type WebhookConfig struct {
	Name      string            `yaml:"name"`       // default "webhook" (then "webhook-1", ...)
	URL       string            `yaml:"url"`        // http or https
	Headers   map[string]string `yaml:"headers"`    // extra request headers, e.g. Authorization
	Timeout   time.Duration     `yaml:"timeout"`    // one attempt, default 10s
	Retry     RetryPolicy       `yaml:"retry"`      //
	QueueSize int               `yaml:"queue_size"` // default 256
}

// Webhook POSTs each alert, as the same JSON object the JSON-lines log
// holds, with Content-Type application/json. Any 2xx is success.
type Webhook struct {
	target *httpTarget
}

// NewWebhook checks the URL and prepares the client; it sends nothing.
func NewWebhook(c WebhookConfig) (*Webhook, error) {
	if c.Name == "" {
		c.Name = "webhook"
	}
	t, err := newHTTPTarget(c.Name, c.URL, c.Headers, c.Timeout)
	if err != nil {
		return nil, err
	}
	return &Webhook{target: t}, nil
}

func (w *Webhook) Name() string { return w.target.name }

func (w *Webhook) Notify(ctx context.Context, a *alert.Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("notify %s: encode alert %s: %w", w.target.name, a.ID, err)
	}
	return w.target.post(ctx, body)
}

func (w *Webhook) Close() error {
	w.target.client.CloseIdleConnections()
	return nil
}
