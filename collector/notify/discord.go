package notify

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/outflowhq/outflow/collector/alert"
)

// Discord executes a webhook with one embed: the headline linking to the
// alert, summary and evidence, the facts and remotes as fields, coloured by
// severity. allowed_mentions is empty, so nothing in an alert can ping
// anyone. A 429's retry_after (body) or Retry-After (header) is waited out.
type Discord struct{ jsonDriver }

// NewDiscord checks the URL and prepares the client; it sends nothing.
func NewDiscord(c DiscordConfig) (*Discord, error) {
	d, err := newChat("discord", c, discordMessageFor)
	if err != nil {
		return nil, err
	}
	return &Discord{d}, nil
}

// Embed limits, from
// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
// (characters; the total counts title, description, field names and
// values, footer text and author name across all embeds of a message).
// Discord rejects the message (HTTP 400) when one is broken.
const (
	discordMaxEmbeds      = 10
	discordMaxTitle       = 256
	discordMaxDescription = 4096
	discordMaxFields      = 25
	discordMaxFieldName   = 256
	discordMaxFieldValue  = 1024
	discordMaxFooter      = 2048
	discordMaxTotal       = 6000
)

// discordMessage is the Execute Webhook body
// (https://discord.com/developers/docs/resources/webhook#execute-webhook).
type discordMessage struct {
	Embeds          []discordEmbed         `json:"embeds"`
	AllowedMentions discordAllowedMentions `json:"allowed_mentions"`
}

type discordAllowedMentions struct {
	Parse []string `json:"parse"` // empty, never null: no mention of any kind
}

type discordEmbed struct {
	Title       string         `json:"title"`
	URL         string         `json:"url,omitempty"`
	Description string         `json:"description,omitempty"`
	Color       int            `json:"color"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Fields      []discordField `json:"fields"`
	Footer      discordFooter  `json:"footer"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}

func discordMessageFor(a *alert.Alert) discordMessage {
	m := messageFor(a)
	e := fit(func(budget int) discordEmbed { return discordEmbedFor(m, a, budget) }, func(e discordEmbed) bool {
		return discordChars(e) <= discordMaxTotal
	})
	return discordMessage{Embeds: []discordEmbed{e}, AllowedMentions: discordAllowedMentions{Parse: []string{}}}
}

func discordEmbedFor(m message, a *alert.Alert, budget int) discordEmbed {
	var desc string
	if m.summary != "" {
		// A quarter of the description: escaping at most doubles it, and
		// the evidence keeps the rest.
		desc = escapeMarkdown(truncate(m.summary, min(budget, discordMaxDescription/4))) + "\n\n"
	}
	if len(m.evidence) > 0 {
		// Room for the fences: the block must close inside the limit.
		room := discordMaxDescription - utf8.RuneCountInString(desc) - len(codeBlock(""))
		desc += codeBlock(truncateLines(m.evidence, min(budget, room)))
	}
	field := func(name, value string, inline bool) discordField {
		return discordField{Name: truncate(name, discordMaxFieldName), Value: truncate(value, discordMaxFieldValue), Inline: inline}
	}
	fields := make([]discordField, 0, len(m.facts)+1)
	for _, f := range m.facts {
		fields = append(fields, field(f.label, escapeMarkdown(f.value), true))
	}
	if len(m.remotes) > 0 {
		fields = append(fields, field("Remotes", codeBlock(truncateLines(m.remotes, min(budget, discordMaxFieldValue-len(codeBlock(""))))), false))
	}
	color, _ := strconv.ParseInt(m.color[1:], 16, 32)
	e := discordEmbed{
		Title:       truncate(escapeMarkdown(m.title), discordMaxTitle),
		URL:         m.url,
		Description: truncate(desc, discordMaxDescription),
		Color:       int(color),
		Fields:      fields[:min(len(fields), discordMaxFields)],
		Footer:      discordFooter{Text: truncate(m.footer, discordMaxFooter)},
	}
	if !a.End.IsZero() {
		e.Timestamp = a.End.UTC().Format(time.RFC3339)
	}
	return e
}

// discordChars counts an embed as Discord does against discordMaxTotal.
func discordChars(e discordEmbed) int {
	n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description) + utf8.RuneCountInString(e.Footer.Text)
	for _, f := range e.Fields {
		n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	return n
}
