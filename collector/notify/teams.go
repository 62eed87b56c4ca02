package notify

import (
	"strings"

	"github.com/outflowhq/outflow/collector/alert"
)

// Teams posts a message with one Adaptive Card (1.4) attachment to a
// Workflows webhook (Power Automate's "When a Teams webhook request is
// received", whose "Post card in a chat or channel" step shows the card).
// Office 365 connectors and their MessageCard are retired.
type Teams struct{ jsonDriver }

// NewTeams checks the URL and prepares the client; it sends nothing.
func NewTeams(c TeamsConfig) (*Teams, error) {
	d, err := newChat("teams", c, teamsMessageFor)
	if err != nil {
		return nil, err
	}
	return &Teams{d}, nil
}

// Teams limits. A message posted by the Teams connector's actions (which a
// Workflows webhook uses) is at most about 28 KB with everything in it, or
// the flow fails with "request entity too large":
// https://learn.microsoft.com/en-us/connectors/teams/#known-issues-and-limitations
// and https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
// The whole request body is kept under it with room for what the flow adds.
const (
	teamsMaxBytes   = 26 * 1024
	teamsMaxTitle   = 300 // keeps the headline to a couple of lines
	teamsCardSchema = "http://adaptivecards.io/schemas/adaptive-card.json"
	// Adaptive Card 1.4 is what Teams renders on every client
	// (https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference).
	teamsCardVersion = "1.4"
)

type teamsMessage struct {
	Type        string            `json:"type"` // "message"
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"` // application/vnd.microsoft.card.adaptive
	ContentURL  *string   `json:"contentUrl"`  // null
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema       string            `json:"$schema"`
	Type         string            `json:"type"` // "AdaptiveCard"
	Version      string            `json:"version"`
	MSTeams      map[string]string `json:"msteams,omitempty"` // width Full: use the channel's width
	Body         []teamsElement    `json:"body"`
	Actions      []teamsOpenURL    `json:"actions,omitempty"`
	FallbackText string            `json:"fallbackText,omitempty"`
}

// teamsElement is the subset of Adaptive Card elements used: Container,
// ColumnSet/Column, TextBlock (our own labels only) and RichTextBlock with
// TextRuns, which take no Markdown, for anything a remote may have named.
type teamsElement struct {
	Type     string         `json:"type"`
	Style    string         `json:"style,omitempty"`   // Container
	Bleed    bool           `json:"bleed,omitempty"`   // Container
	Items    []teamsElement `json:"items,omitempty"`   // Container, Column
	Columns  []teamsElement `json:"columns,omitempty"` // ColumnSet
	Width    string         `json:"width,omitempty"`   // Column
	Text     string         `json:"text,omitempty"`    // TextBlock
	Weight   string         `json:"weight,omitempty"`  // TextBlock
	Wrap     bool           `json:"wrap,omitempty"`    // TextBlock
	Inlines  []teamsTextRun `json:"inlines,omitempty"` // RichTextBlock
	Spacing  string         `json:"spacing,omitempty"`
	Separate bool           `json:"separator,omitempty"`
}

type teamsTextRun struct {
	Type     string `json:"type"` // "TextRun"
	Text     string `json:"text"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	FontType string `json:"fontType,omitempty"`
}

type teamsOpenURL struct {
	Type  string `json:"type"` // "Action.OpenUrl"
	Title string `json:"title"`
	URL   string `json:"url"`
}

func teamsMessageFor(a *alert.Alert) teamsMessage {
	m := messageFor(a)
	card := fit(func(budget int) teamsCard { return teamsCardFor(m, a, budget) }, fitsBytes[teamsCard](teamsMaxBytes-256))
	return teamsMessage{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content:     card,
		}},
	}
}

func teamsCardFor(m message, a *alert.Alert, budget int) teamsCard {
	body := []teamsElement{{
		Type:  "Container",
		Style: teamsStyle(a),
		Bleed: true,
		Items: []teamsElement{teamsRich(teamsTextRun{Type: "TextRun", Text: truncate(m.title, teamsMaxTitle), Weight: "Bolder", Size: "Medium"})},
	}}
	if m.summary != "" {
		body = append(body, teamsRich(teamsRun(truncate(m.summary, budget))))
	}
	for _, f := range m.facts {
		body = append(body, teamsElement{Type: "ColumnSet", Spacing: "None", Columns: []teamsElement{
			{Type: "Column", Width: "120px", Items: []teamsElement{teamsRich(teamsTextRun{Type: "TextRun", Text: f.label, Weight: "Bolder"})}},
			{Type: "Column", Width: "stretch", Items: []teamsElement{teamsRich(teamsRun(f.value))}},
		}})
	}
	body = append(body, teamsList("Remotes", m.remotes, budget)...)
	body = append(body, teamsList("Evidence", m.evidence, budget)...)
	body = append(body, teamsElement{Type: "TextBlock", Text: m.footer, Wrap: true, Spacing: "Medium", Weight: "Lighter"})
	card := teamsCard{
		Schema:       teamsCardSchema,
		Type:         "AdaptiveCard",
		Version:      teamsCardVersion,
		MSTeams:      map[string]string{"width": "Full"},
		Body:         body,
		FallbackText: truncate(m.title, teamsMaxTitle),
	}
	if m.url != "" {
		card.Actions = []teamsOpenURL{{Type: "Action.OpenUrl", Title: "Open in Outflow", URL: m.url}}
	}
	return card
}

// teamsList renders a heading and one RichTextBlock per line (a TextRun
// does not break lines on every client), cut to budget characters.
func teamsList(heading string, lines []string, budget int) []teamsElement {
	if len(lines) == 0 {
		return nil
	}
	out := []teamsElement{{Type: "TextBlock", Text: heading, Weight: "Bolder", Separate: true, Wrap: true}}
	for _, line := range strings.Split(truncateLines(lines, budget), "\n") {
		out = append(out, teamsElement{Type: "RichTextBlock", Spacing: "None", Inlines: []teamsTextRun{{Type: "TextRun", Text: line, FontType: "Monospace"}}})
	}
	return out
}

func teamsRun(s string) teamsTextRun { return teamsTextRun{Type: "TextRun", Text: s} }

func teamsRich(r teamsTextRun) teamsElement {
	return teamsElement{Type: "RichTextBlock", Inlines: []teamsTextRun{r}}
}

// teamsStyle colours the headline by severity with the Container styles
// every host config defines.
func teamsStyle(a *alert.Alert) string {
	switch severityColor(a) {
	case colorResolved:
		return "good"
	case colorCritical:
		return "attention"
	case colorWarning:
		return "warning"
	}
	return "accent"
}
