package notify

import (
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// ChatConfig configures a chat service's incoming webhook. Slack, Teams,
// Mattermost, Discord and Google Chat take the same keys.
type ChatConfig struct {
	Name    string        `yaml:"name"`    // default the list's kind ("slack", then "slack-1", ...)
	URL     string        `yaml:"url"`     // the webhook's URL, a secret
	Timeout time.Duration `yaml:"timeout"` // one attempt, default 10s
	Retry   RetryPolicy   `yaml:"retry"`   //
	Route   `yaml:",inline"`
}

// The chat drivers' configs, one name per list of Config.
type (
	SlackConfig      = ChatConfig // https://hooks.slack.com/services/...
	TeamsConfig      = ChatConfig // a Workflows "When a Teams webhook request is received" URL
	MattermostConfig = ChatConfig // https://mattermost.example.com/hooks/xxx
	DiscordConfig    = ChatConfig // https://discord.com/api/webhooks/<id>/<token>
	GoogleChatConfig = ChatConfig // https://chat.googleapis.com/v1/spaces/.../messages?key=...&token=...
)

// newChat prepares a chat driver posting build's rendering, named kind by
// default; it sends nothing.
func newChat[T any](kind string, c ChatConfig, build func(*alert.Alert) T) (jsonDriver, error) {
	if c.Name == "" {
		c.Name = kind
	}
	return newJSONDriver(c.Name, c.URL, nil, c.Timeout, renderJSON(build))
}
