package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The Workflows webhook body, mirroring
// https://learn.microsoft.com/en-us/microsoftteams/platform/task-modules-and-cards/cards/cards-reference#adaptive-card
// and the Adaptive Card 1.4 schema (https://adaptivecards.io/explorer/).
type teamsWire struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string  `json:"contentType"`
		ContentURL  *string `json:"contentUrl"`
		Content     struct {
			Schema       string            `json:"$schema"`
			Type         string            `json:"type"`
			Version      string            `json:"version"`
			MSTeams      map[string]string `json:"msteams"`
			Body         []teamsWireElement
			Actions      []struct{ Type, Title, URL string }
			FallbackText string `json:"fallbackText"`
		} `json:"content"`
	} `json:"attachments"`
}

type teamsWireElement struct {
	Type, Style, Width, Text, Weight, Spacing string
	Bleed, Wrap, Separator                    bool
	Items, Columns                            []teamsWireElement
	Inlines                                   []struct{ Type, Text, Weight, Size, FontType string }
}

// text renders what an element shows, one line per block.
func (e teamsWireElement) text() string {
	var parts []string
	if e.Text != "" {
		parts = append(parts, e.Text)
	}
	for _, r := range e.Inlines {
		parts = append(parts, r.Text)
	}
	for _, c := range append(e.Items, e.Columns...) {
		parts = append(parts, c.text())
	}
	return strings.Join(parts, " | ")
}

func TestTeamsPayload(t *testing.T) {
	rcv := newReceiver(t)
	n, err := NewTeams(TeamsConfig{URL: rcv.URL + "/workflows/x"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	req := post(t, n, rcv, testAlertRich())
	m := decodeStrict[teamsWire](t, req.body)
	if m.Type != "message" || len(m.Attachments) != 1 {
		t.Fatalf("type %q with %d attachments, want message with 1", m.Type, len(m.Attachments))
	}
	at := m.Attachments[0]
	if at.ContentType != "application/vnd.microsoft.card.adaptive" || at.ContentURL != nil {
		t.Errorf("attachment contentType %q contentUrl %v", at.ContentType, at.ContentURL)
	}
	if !strings.Contains(string(req.body), `"contentUrl":null`) {
		t.Error("contentUrl is not null")
	}
	c := at.Content
	if c.Type != "AdaptiveCard" || c.Version != "1.4" || c.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" || c.MSTeams["width"] != "Full" {
		t.Errorf("card %s %s %s %v", c.Type, c.Version, c.Schema, c.MSTeams)
	}
	var lines []string
	for _, e := range c.Body {
		lines = append(lines, e.Type+": "+e.text())
	}
	want := []string{
		"Container: UPDATE 2 [critical] 10.1.2.3 (finance-pc-7) sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more",
		"RichTextBlock: 10.1.2.3 sent 1.2 GB in 15 min, 40x its usual for Tuesday 02:00.",
		"ColumnSet: Host | 10.1.2.3 (finance-pc-7)",
		"ColumnSet: Severity | critical",
		"ColumnSet: Bytes out | 1.2 GB (1234000000 bytes)",
		"ColumnSet: Score | 91",
		"ColumnSet: Detectors | new_destination, volume_spike",
		"ColumnSet: Window start | 2025-03-04 02:00:00 UTC",
		"ColumnSet: Window end | 2025-03-04 02:15:00 UTC",
		"ColumnSet: Incident opened | 2025-03-04 01:00:00 UTC",
		"TextBlock: Remotes",
		"RichTextBlock: 203.0.113.9 (files.example.net)",
		"RichTextBlock: 198.51.100.7",
		"TextBlock: Evidence",
		"RichTextBlock: - volume_spike: 40x the host's usual for Tuesday 02:00",
		"RichTextBlock:   1.2 GB; baseline 31 MB; threshold 122 MB; 2025-03-04 02:00:00–02:15:00 UTC; score 88",
		"TextBlock: Outflow alert a1b2c3",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("card body\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if c.Body[0].Style != "attention" || !c.Body[0].Bleed {
		t.Errorf("headline container style %q, want attention for critical", c.Body[0].Style)
	}
	if len(c.Actions) != 1 || c.Actions[0].Type != "Action.OpenUrl" || c.Actions[0].URL != "https://outflow.example.com/ui/alerts/a1b2c3" {
		t.Errorf("actions %+v, want one Action.OpenUrl to the alert", c.Actions)
	}
	// Remote-chosen text never goes through Markdown: only our own labels
	// are TextBlocks.
	for _, e := range c.Body {
		if e.Type == "TextBlock" && !strings.HasPrefix(e.Text, "Outflow alert") && e.Text != "Remotes" && e.Text != "Evidence" {
			t.Errorf("TextBlock (Markdown) holds %q", e.Text)
		}
	}
}

func TestTeamsLimits(t *testing.T) {
	rcv := newReceiver(t)
	n, _ := NewTeams(TeamsConfig{URL: rcv.URL})
	req := post(t, n, rcv, testAlertHuge())
	if len(req.body) > teamsMaxBytes || len(req.body) > 28*1024 {
		t.Errorf("body of %d bytes, want at most %d (Teams' ~28 KB)", len(req.body), teamsMaxBytes)
	}
	if len(req.body) < teamsMaxBytes/2 {
		t.Errorf("body of %d bytes: cut far more than needed", len(req.body))
	}
	m := decodeStrict[teamsWire](t, req.body)
	body := m.Attachments[0].Content.Body
	if got := body[0].text(); utf8.RuneCountInString(got) > teamsMaxTitle || !strings.HasSuffix(got, "…") {
		t.Errorf("headline of %d characters", utf8.RuneCountInString(got))
	}
	var remotes, evidence []string
	list := &remotes
	for _, e := range body[1:] {
		switch {
		case e.Type == "TextBlock" && e.Text == "Evidence":
			list = &evidence
		case e.Type == "RichTextBlock" && len(e.Inlines) == 1 && e.Inlines[0].FontType == "Monospace":
			*list = append(*list, e.text())
		}
	}
	if !endsWithMoreLine(strings.Join(remotes, "\n")) || !endsWithMoreLine(strings.Join(evidence, "\n")) {
		t.Errorf("remotes end %q, evidence end %q: want lists cut between entries", remotes[len(remotes)-1], evidence[len(evidence)-1])
	}
}

func TestTeamsMinimalAlert(t *testing.T) {
	m := teamsMessageFor(testAlertMinimal())
	c := m.Attachments[0].Content
	if c.Actions != nil || c.Body[0].Style != "accent" {
		t.Errorf("minimal alert: actions %v style %q, want none and accent", c.Actions, c.Body[0].Style)
	}
	for _, e := range c.Body {
		if e.Type == "TextBlock" && (e.Text == "Remotes" || e.Text == "Evidence") {
			t.Errorf("empty list %s shown", e.Text)
		}
	}
}
