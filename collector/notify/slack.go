package notify

import (
	"strings"
)

// Slack posts alerts to a channel through an incoming webhook, as Block Kit
// (header, summary, fields, evidence, link, alert id) with the title as the
// notification fallback text. See slack_blocks.go for the layout and limits.
type Slack struct{ jsonDriver }

// NewSlack checks the URL and prepares the client; it sends nothing.
func NewSlack(c SlackConfig) (*Slack, error) {
	d, err := newChat("slack", c, slackMessageFor)
	if err != nil {
		return nil, err
	}
	return &Slack{d}, nil
}

// slackEscape escapes the three characters Slack's mrkdwn reserves, so a
// remote name like "<!channel>" cannot ping a whole channel.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
