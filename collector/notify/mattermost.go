package notify

import (
	"strings"
	"unicode/utf8"

	"github.com/outflowhq/outflow/collector/alert"
)

// Mattermost posts the headline as the message text and one attachment
// coloured by severity: summary and evidence, the facts as fields, the
// remotes in a code block, and a link to the alert.
type Mattermost struct{ jsonDriver }

// NewMattermost checks the URL and prepares the client; it sends nothing.
func NewMattermost(c MattermostConfig) (*Mattermost, error) {
	d, err := newChat("mattermost", c, mattermostMessageFor)
	if err != nil {
		return nil, err
	}
	return &Mattermost{d}, nil
}

// Mattermost limits. A post holds at most 16,383 characters
// (https://docs.mattermost.com/administration-guide/manage/product-limits.html);
// longer webhook posts are split or cut by the server. The whole body is kept
// under it, counted in characters, so the post and its attachment
// (https://developers.mattermost.com/integrate/reference/message-attachments/)
// arrive whole.
const (
	mattermostMaxChars = 16383
	mattermostMaxTitle = 1000 // the headline, also the notification
)

type mattermostMessage struct {
	Text        string                 `json:"text"`
	Attachments []mattermostAttachment `json:"attachments"`
}

type mattermostAttachment struct {
	Fallback  string            `json:"fallback"`
	Color     string            `json:"color"`
	Title     string            `json:"title,omitempty"`
	TitleLink string            `json:"title_link,omitempty"`
	Text      string            `json:"text,omitempty"`
	Fields    []mattermostField `json:"fields"`
	Footer    string            `json:"footer"`
}

type mattermostField struct {
	Short bool   `json:"short"`
	Title string `json:"title"`
	Value string `json:"value"`
}

func mattermostMessageFor(a *alert.Alert) mattermostMessage {
	m := messageFor(a)
	return fit(func(budget int) mattermostMessage { return mattermostBuild(m, budget) }, func(v mattermostMessage) bool {
		b, err := encodeJSON(v)
		return err == nil && utf8.RuneCount(b) <= mattermostMaxChars
	})
}

func mattermostBuild(m message, budget int) mattermostMessage {
	title := truncate(m.title, mattermostMaxTitle)
	var text []string
	if m.summary != "" {
		text = append(text, mattermostEscape(truncate(m.summary, budget)))
	}
	if len(m.evidence) > 0 {
		text = append(text, codeBlock(truncateLines(m.evidence, budget)))
	}
	fields := make([]mattermostField, 0, len(m.facts)+1)
	for _, f := range m.facts {
		fields = append(fields, mattermostField{Short: true, Title: f.label, Value: mattermostEscape(f.value)})
	}
	if len(m.remotes) > 0 {
		fields = append(fields, mattermostField{Title: "Remotes", Value: codeBlock(truncateLines(m.remotes, budget))})
	}
	att := mattermostAttachment{
		Fallback: strings.ReplaceAll(title, "@", "@\u200b"), // plain text, still no mentions
		Color:    m.color,
		Text:     strings.Join(text, "\n\n"),
		Fields:   fields,
		Footer:   m.footer,
	}
	if m.url != "" {
		att.Title, att.TitleLink = "Open in Outflow", m.url
	}
	return mattermostMessage{Text: "**" + mattermostEscape(title) + "**", Attachments: []mattermostAttachment{att}}
}

// mattermostEscape keeps remote-chosen text from formatting the post or
// mentioning anyone: Markdown is escaped, and an "@" is followed by a
// zero-width space so "@channel" or "@all" is not a mention.
func mattermostEscape(s string) string {
	return strings.ReplaceAll(escapeMarkdown(s), "@", "@\u200b")
}
