package notify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/outflowhq/outflow/collector/alert"
)

// checkSlackLimits fails on anything Slack would reject with invalid_blocks.
func checkSlackLimits(t *testing.T, m slackMessage) {
	t.Helper()
	if len(m.Blocks) == 0 || len(m.Blocks) > slackMaxBlocks {
		t.Errorf("%d blocks, want 1..%d", len(m.Blocks), slackMaxBlocks)
	}
	runes := utf8.RuneCountInString
	for i, b := range m.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || runes(b.Text.Text) > slackMaxHeader || b.Text.Text == "" {
				t.Errorf("block %d: bad header %+v", i, b.Text)
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				t.Errorf("block %d: section with neither text nor fields", i)
			}
			if b.Text != nil && (runes(b.Text.Text) > slackMaxText || b.Text.Text == "") {
				t.Errorf("block %d: section text of %d characters", i, runes(b.Text.Text))
			}
			if len(b.Fields) > slackMaxFields {
				t.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			if a := b.Accessory; a != nil && (a.Type != "button" || a.URL == "" || len(a.URL) > slackMaxButtonURL || runes(a.Text.Text) > slackMaxButtonText) {
				t.Errorf("block %d: bad button %+v", i, a)
			}
			for j, f := range b.Fields {
				if runes(f.Text) > slackMaxField || f.Text == "" {
					t.Errorf("block %d field %d: %d characters", i, j, runes(f.Text))
				}
			}
		case "context":
			if b.Accessory != nil {
				t.Errorf("block %d: context with an accessory", i)
			}
			if len(b.Elements) == 0 || len(b.Elements) > slackMaxContextEls {
				t.Errorf("block %d: %d context elements", i, len(b.Elements))
			}
		default:
			t.Errorf("block %d: unexpected type %q", i, b.Type)
		}
	}
}

func TestSlackPayload(t *testing.T) {
	rcv := newReceiver(t)
	s, err := NewSlack(SlackConfig{URL: rcv.URL + "/services/T0/B0/X"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Notify(context.Background(), testAlert()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 || reqs[0].header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d requests, want 1 JSON POST", len(reqs))
	}
	m := decode[slackMessage](t, reqs[0].body)
	checkSlackLimits(t, m)

	title := "[critical] 10.1.2.3 sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more"
	if m.Text != title {
		t.Errorf("text = %q, want %q", m.Text, title)
	}
	var types []string
	for _, b := range m.Blocks {
		types = append(types, b.Type)
	}
	if got, want := strings.Join(types, ","), "header,section,section,section,context"; got != want {
		t.Fatalf("blocks %s, want %s", got, want)
	}
	if got := m.Blocks[0].Text.Text; got != title {
		t.Errorf("header = %q, want %q", got, title)
	}
	if got, want := m.Blocks[1].Text.Text, testAlert().Summary; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	var fields []string
	for _, f := range m.Blocks[2].Fields {
		if f.Type != "plain_text" || f.Emoji {
			t.Errorf("field %q is %s emoji=%v, want plain_text without emoji", f.Text, f.Type, f.Emoji)
		}
		fields = append(fields, f.Text)
	}
	wantFields := []string{
		"Host\n10.1.2.3",
		"Severity\ncritical",
		"Bytes out\n1.2 GB (1234000000 bytes)",
		"Score\n91",
		"Detectors\nnew_destination, volume_spike",
		"Remotes\n203.0.113.9 (files.example.net)\n198.51.100.7",
		"Window start\n2025-03-04 02:00:00 UTC",
		"Window end\n2025-03-04 02:15:00 UTC",
	}
	if fmt.Sprint(fields) != fmt.Sprint(wantFields) {
		t.Errorf("fields\n%q\nwant\n%q", fields, wantFields)
	}
	if got, want := m.Blocks[3].Text.Text, testAlert().EvidenceText(); got != want {
		t.Errorf("evidence = %q, want %q", got, want)
	}
	if els := m.Blocks[4].Elements; len(els) != 1 || els[0].Text != "Outflow alert a1b2c3" {
		t.Errorf("context = %+v, want the alert id", els)
	}
}

func TestSlackLimits(t *testing.T) {
	a := testAlert()
	a.Summary = strings.Repeat("s", 5000)
	a.Remotes, a.RemoteNames = nil, nil
	for i := range 400 {
		a.Remotes = append(a.Remotes, fmt.Sprintf("198.51.100.%d", i%256))
		a.RemoteNames = append(a.RemoteNames, fmt.Sprintf("host-%d.example.net", i))
	}
	a.RemoteNames[0] = strings.Repeat("n", 300) // a remote-chosen SNI
	for range 100 {
		a.Evidence = append(a.Evidence, a.Evidence[0])
	}
	m := slackMessageFor(a)
	checkSlackLimits(t, m)

	if got := m.Blocks[0].Text.Text; utf8.RuneCountInString(got) != slackMaxHeader || !strings.HasSuffix(got, "…") {
		t.Errorf("header of %d characters ending %q, want %d ending in …", utf8.RuneCountInString(got), got[len(got)-10:], slackMaxHeader)
	}
	summary := m.Blocks[1].Text.Text
	if want := strings.Repeat("s", slackMaxText-1) + "…"; summary != want {
		t.Errorf("summary of %d characters, want exactly %d: %d s and …", utf8.RuneCountInString(summary), slackMaxText, slackMaxText-1)
	}
	remotes := m.Blocks[2].Fields[5].Text
	if !strings.HasPrefix(remotes, "Remotes\n198.51.100.0 (nnn") || !endsWithMore(remotes) {
		t.Errorf("remotes field = %.60q…%q, want a list ending in \"… and N more\"", remotes, remotes[len(remotes)-30:])
	}
	if evidence := m.Blocks[3].Text.Text; !endsWithMore(evidence) {
		t.Errorf("evidence ends %q, want \"… and N more\"", evidence[len(evidence)-30:])
	}
}

func endsWithMore(s string) bool {
	return strings.Contains(s, "\n… and ") && strings.HasSuffix(s, " more")
}

func TestSlackEscapesFallback(t *testing.T) {
	a := testAlert()
	a.RemoteNames[0] = "<!channel> & co"
	m := slackMessageFor(a)
	if strings.Contains(m.Text, "<!channel>") || !strings.Contains(m.Text, "&lt;!channel&gt; &amp; co") {
		t.Errorf("fallback text = %q, want <, > and & escaped", m.Text)
	}
	if !strings.Contains(m.Blocks[0].Text.Text, "<!channel> & co") {
		t.Errorf("header = %q, want the name as is (plain_text)", m.Blocks[0].Text.Text)
	}
}

func TestSlackMinimalAlert(t *testing.T) {
	m := slackMessageFor(testAlertMinimal())
	checkSlackLimits(t, m)
	if len(m.Blocks) != 3 { // header, fields, context: no empty sections
		t.Errorf("%d blocks, want 3", len(m.Blocks))
	}
}

func TestSlackHostNameAndLink(t *testing.T) {
	m := slackMessageFor(testAlertRich())
	checkSlackLimits(t, m)
	if want := "UPDATE 2 [critical] 10.1.2.3 (finance-pc-7) sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more"; m.Blocks[0].Text.Text != want {
		t.Errorf("header %q, want %q", m.Blocks[0].Text.Text, want)
	}
	var fields []string
	for _, f := range m.Blocks[2].Fields {
		fields = append(fields, f.Text)
	}
	if fields[0] != "Host\n10.1.2.3 (finance-pc-7)" || fields[5] != "Remotes\n203.0.113.9 (files.example.net)\n198.51.100.7" ||
		fields[len(fields)-1] != "Incident opened\n2025-03-04 01:00:00 UTC" {
		t.Errorf("fields %q", fields)
	}
	link := m.Blocks[len(m.Blocks)-2]
	if link.Type != "section" || link.Accessory == nil || link.Accessory.URL != "https://outflow.example.com/ui/alerts/a1b2c3" || link.Accessory.Text.Text != "Open in Outflow" {
		t.Errorf("link block %+v, want a section with a button to the alert", link)
	}
	h := testAlertHuge()
	h.Status, h.Resolved = alert.StatusResolved, t0.Add(time.Hour) // every fact there is
	huge := slackMessageFor(h)
	checkSlackLimits(t, huge)
	if n := len(huge.Blocks[2].Fields); n != slackMaxFields {
		t.Errorf("%d fields, want %d", n, slackMaxFields)
	}
}
