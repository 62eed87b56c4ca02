package notify

import (
	"strconv"
	"strings"

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
)

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

// slackText is always plain_text with emoji off: alert content is data, and
// an IPv6 address like 2001:cafe::1 must not turn into an emoji.
type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji"`
}

func plain(s string, max int) slackText {
	return slackText{Type: "plain_text", Text: truncate(s, max)}
}

func slackMessageFor(a *alert.Alert) slackMessage {
	title := a.Title()
	blocks := []slackBlock{{Type: "header", Text: ptr(plain(title, slackMaxHeader))}}
	if a.Summary != "" {
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(plain(a.Summary, slackMaxText))})
	}
	blocks = append(blocks, slackBlock{Type: "section", Fields: slackFields(a)})
	if len(a.Evidence) > 0 {
		reasons := make([]string, len(a.Evidence))
		for i := range a.Evidence {
			reasons[i] = a.Evidence[i].Text()
		}
		blocks = append(blocks, slackBlock{Type: "section", Text: ptr(plain(truncateLines(reasons, slackMaxText), slackMaxText))})
	}
	ctx := []slackText{plain("Outflow alert "+a.ID, slackMaxText)}
	blocks = append(blocks, slackBlock{Type: "context", Elements: ctx[:min(len(ctx), slackMaxContextEls)]})
	return slackMessage{
		// The fallback is mrkdwn: escape what the remote may have named.
		Text:   slackEscape(truncate(title, slackMaxFallback)),
		Blocks: blocks[:min(len(blocks), slackMaxBlocks)],
	}
}

func slackFields(a *alert.Alert) []slackText {
	field := func(label, value string) slackText {
		return plain(label+"\n"+value, slackMaxField)
	}
	remotes := "none"
	if len(a.Remotes) > 0 {
		// Cut the list between entries, never inside an address.
		remotes = truncateLines(a.RemoteLabels(), slackMaxField-len("Remotes\n"))
	}
	fields := []slackText{
		field("Host", a.Host),
		field("Severity", string(a.Severity)),
		field("Bytes out", alert.HumanBytes(a.BytesOut)+" ("+strconv.FormatUint(a.BytesOut, 10)+" bytes)"),
		field("Score", strconv.FormatFloat(a.Score, 'f', 0, 64)),
		field("Detectors", strings.Join(a.Detectors, ", ")),
		field("Remotes", remotes),
		field("Window start", alert.FormatTime(a.Start)),
		field("Window end", alert.FormatTime(a.End)),
	}
	return fields[:min(len(fields), slackMaxFields)]
}

func ptr[T any](v T) *T { return &v }
