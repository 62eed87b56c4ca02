package notify

import (
	"github.com/outflowhq/outflow/collector/alert"
)

// Block Kit limits, from https://docs.slack.dev/reference/block-kit/blocks:
// Slack rejects the whole message (HTTP 400 invalid_blocks) when one is
// exceeded, so every text is cut to fit before sending.
const (
	slackMaxBlocks     = 50   // blocks in one message
	slackMaxHeader     = 150  // header block text
	slackMaxText       = 3000 // section text, context element text
	slackMaxFields     = 10   // fields in one section
	slackMaxField      = 2000 // each field's text
	slackMaxContextEls = 10   // elements in one context block
	slackMaxFallback   = 3000 // top-level text; Slack truncates at 40,000, keep notifications short
	slackMaxButtonText = 75   // button text, https://docs.slack.dev/reference/block-kit/block-elements/button-element
	slackMaxButtonURL  = 3000 // button url, same page
)

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type      string       `json:"type"`
	Text      *slackText   `json:"text,omitempty"`
	Fields    []slackText  `json:"fields,omitempty"`
	Elements  []slackText  `json:"elements,omitempty"`
	Accessory *slackButton `json:"accessory,omitempty"`
}

// slackText is always plain_text with emoji off: alert content is data, and
// an IPv6 address like 2001:cafe::1 must not turn into an emoji.
type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji"`
}

// slackButton links to the alert's page in the web UI.
type slackButton struct {
	Type string    `json:"type"` // "button"
	Text slackText `json:"text"`
	URL  string    `json:"url"`
}

func plain(s string, max int) slackText {
	return slackText{Type: "plain_text", Text: truncate(s, max)}
}

func slackMessageFor(a *alert.Alert) slackMessage {
	m := messageFor(a)
	blocks := []slackBlock{{Type: "header", Text: ptr(plain(m.title, slackMaxHeader))}}
	if m.summary != "" {
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(plain(m.summary, slackMaxText))})
	}
	blocks = append(blocks, slackBlock{Type: "section", Fields: slackFields(m)})
	if len(m.evidence) > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(plain(truncateLines(m.evidence, slackMaxText), slackMaxText))})
	}
	// A URL too long for a button (config-made, so never in practice) is
	// left out rather than have Slack reject the message.
	if m.url != "" && len(m.url) <= slackMaxButtonURL {
		blocks = append(blocks, slackBlock{
			Type:      "section",
			Text:      ptr(plain("Evidence, host history and actions in the web UI", slackMaxText)),
			Accessory: &slackButton{Type: "button", Text: plain("Open in Outflow", slackMaxButtonText), URL: m.url},
		})
	}
	ctx := []slackText{plain(m.footer, slackMaxText)}
	blocks = append(blocks, slackBlock{Type: "context", Elements: ctx[:min(len(ctx), slackMaxContextEls)]})
	return slackMessage{
		// The fallback is mrkdwn: escape what the remote may have named.
		Text:   slackEscape(truncate(m.title, slackMaxFallback)),
		Blocks: blocks[:min(len(blocks), slackMaxBlocks)],
	}
}

// slackFields are the facts with the remotes after the detectors.
func slackFields(m message) []slackText {
	field := func(label, value string) slackText {
		return plain(label+"\n"+value, slackMaxField)
	}
	remotes := "none"
	if len(m.remotes) > 0 {
		// Cut the list between entries, never inside an address.
		remotes = truncateLines(m.remotes, slackMaxField-len("Remotes\n"))
	}
	var fields []slackText
	for i, f := range m.facts {
		if i == 5 {
			fields = append(fields, field("Remotes", remotes))
		}
		fields = append(fields, field(f.label, f.value))
	}
	return fields[:min(len(fields), slackMaxFields)]
}

func ptr[T any](v T) *T { return &v }
