package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// An incoming webhook body, mirroring
// https://developers.mattermost.com/integrate/webhooks/incoming/ and
// https://developers.mattermost.com/integrate/reference/message-attachments/.
type mattermostWire struct {
	Text        string `json:"text"`
	Attachments []struct {
		Fallback  string `json:"fallback"`
		Color     string `json:"color"`
		Title     string `json:"title"`
		TitleLink string `json:"title_link"`
		Text      string `json:"text"`
		Footer    string `json:"footer"`
		Fields    []struct {
			Short bool   `json:"short"`
			Title string `json:"title"`
			Value string `json:"value"`
		} `json:"fields"`
	} `json:"attachments"`
}

func TestMattermostPayload(t *testing.T) {
	rcv := newReceiver(t)
	n, err := NewMattermost(MattermostConfig{URL: rcv.URL + "/hooks/xyz"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	m := decodeStrict[mattermostWire](t, post(t, n, rcv, testAlertRich()).body)
	title := `UPDATE 2 \[critical\] 10.1.2.3 (finance-pc-7) sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more`
	if m.Text != "**"+title+"**" {
		t.Errorf("text = %q, want the escaped headline in bold", m.Text)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(m.Attachments))
	}
	at := m.Attachments[0]
	if at.Fallback != strings.ReplaceAll(title, `\`, "") || at.Color != "#d32f2f" || at.Footer != "Outflow alert a1b2c3" {
		t.Errorf("fallback %q color %q footer %q", at.Fallback, at.Color, at.Footer)
	}
	if at.Title != "Open in Outflow" || at.TitleLink != "https://outflow.example.com/ui/alerts/a1b2c3" {
		t.Errorf("title %q link %q, want a link to the alert", at.Title, at.TitleLink)
	}
	wantText := "10.1.2.3 sent 1.2 GB in 15 min, 40x its usual for Tuesday 02:00.\n\n```\n" +
		"- volume_spike: 40x the host's usual for Tuesday 02:00\n  1.2 GB; baseline 31 MB; threshold 122 MB; 2025-03-04 02:00:00–02:15:00 UTC; score 88\n```"
	if at.Text != wantText {
		t.Errorf("attachment text\n%q\nwant\n%q", at.Text, wantText)
	}
	var fields []string
	for _, f := range at.Fields {
		short := "long"
		if f.Short {
			short = "short"
		}
		fields = append(fields, short+" "+f.Title+": "+f.Value)
	}
	want := []string{
		"short Host: 10.1.2.3 (finance-pc-7)", "short Severity: critical", "short Bytes out: 1.2 GB (1234000000 bytes)",
		"short Score: 91", `short Detectors: new\_destination, volume\_spike`, "short Window start: 2025-03-04 02:00:00 UTC",
		"short Window end: 2025-03-04 02:15:00 UTC", "short Incident opened: 2025-03-04 01:00:00 UTC",
		"long Remotes: ```\n203.0.113.9 (files.example.net)\n198.51.100.7\n```",
	}
	if strings.Join(fields, "\n") != strings.Join(want, "\n") {
		t.Errorf("fields\n%s\nwant\n%s", strings.Join(fields, "\n"), strings.Join(want, "\n"))
	}
}

func TestMattermostLimitsAndMentions(t *testing.T) {
	m := mattermostMessageFor(testAlertHuge())
	b, _ := encodeJSON(m)
	if n := utf8.RuneCount(b); n > mattermostMaxChars {
		t.Errorf("body of %d characters, want at most %d", n, mattermostMaxChars)
	}
	at := m.Attachments[0]
	for _, s := range []string{m.Text, at.Text, at.Fallback, at.Fields[0].Value} {
		if strings.Contains(s, "@channel") || strings.Contains(s, "@here") {
			t.Errorf("%.80q… can mention everyone", s)
		}
	}
	if strings.Contains(m.Text, "[click](") {
		t.Errorf("text %.80q… holds a live link", m.Text)
	}
	remotes := at.Fields[len(at.Fields)-1]
	if remotes.Title != "Remotes" || !strings.HasPrefix(remotes.Value, "```\n") || !strings.HasSuffix(remotes.Value, "\n```") || !endsWithMoreLine(remotes.Value) {
		t.Errorf("remotes %.60q…, want a closed code block cut between entries", remotes.Value)
	}
	if !strings.HasSuffix(at.Text, "\n```") || !endsWithMoreLine(at.Text) {
		t.Errorf("evidence ends %q, want a closed code block cut between entries", at.Text[len(at.Text)-40:])
	}
}
