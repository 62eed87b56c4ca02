package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// SlackConfig configures a Slack incoming webhook.
type SlackConfig struct {
	Name      string        `yaml:"name"`       // default "slack" (then "slack-1", ...)
	URL       string        `yaml:"url"`        // https://hooks.slack.com/services/..., a secret
	Timeout   time.Duration `yaml:"timeout"`    // one attempt, default 10s
	Retry     RetryPolicy   `yaml:"retry"`      //
	QueueSize int           `yaml:"queue_size"` // default 256
}

// Slack posts alerts to a channel through an incoming webhook, as Block Kit
// (header, summary, fields, evidence, alert id) with the title as the
// notification fallback text. See slack_blocks.go for the layout and limits.
type Slack struct {
	target *httpTarget
}

// NewSlack checks the URL and prepares the client; it sends nothing.
func NewSlack(c SlackConfig) (*Slack, error) {
	if c.Name == "" {
		c.Name = "slack"
	}
	t, err := newHTTPTarget(c.Name, c.URL, nil, c.Timeout)
	if err != nil {
		return nil, err
	}
	return &Slack{target: t}, nil
}

func (s *Slack) Name() string { return s.target.name }

func (s *Slack) Notify(ctx context.Context, a *alert.Alert) error {
	body, err := json.Marshal(slackMessageFor(a))
	if err != nil {
		return fmt.Errorf("notify %s: encode alert %s: %w", s.target.name, a.ID, err)
	}
	return s.target.post(ctx, body)
}

func (s *Slack) Close() error {
	s.target.client.CloseIdleConnections()
	return nil
}

// slackEscape escapes the three characters Slack's mrkdwn reserves, so a
// remote name like "<!channel>" cannot ping a whole channel.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
