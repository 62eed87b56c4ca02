package notify

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The Execute Webhook body, mirroring
// https://discord.com/developers/docs/resources/webhook#execute-webhook and
// the embed object (https://discord.com/developers/docs/resources/message#embed-object).
type discordWire struct {
	Embeds []struct {
		Title       string `json:"title"`
		URL         string `json:"url"`
		Description string `json:"description"`
		Color       int    `json:"color"`
		Timestamp   string `json:"timestamp"`
		Fields      []struct {
			Name   string `json:"name"`
			Value  string `json:"value"`
			Inline bool   `json:"inline"`
		} `json:"fields"`
		Footer struct {
			Text string `json:"text"`
		} `json:"footer"`
	} `json:"embeds"`
	AllowedMentions struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

func TestDiscordPayload(t *testing.T) {
	rcv := newReceiver(t, http.StatusNoContent)
	n, err := NewDiscord(DiscordConfig{URL: rcv.URL + "/api/webhooks/1/tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	req := post(t, n, rcv, testAlertRich())
	m := decodeStrict[discordWire](t, req.body)
	if !strings.Contains(string(req.body), `"allowed_mentions":{"parse":[]}`) || m.AllowedMentions.Parse == nil {
		t.Errorf("allowed_mentions is not {\"parse\":[]}: %s", req.body)
	}
	if len(m.Embeds) != 1 {
		t.Fatalf("%d embeds, want 1", len(m.Embeds))
	}
	e := m.Embeds[0]
	if want := `UPDATE 2 \[critical\] 10.1.2.3 (finance-pc-7) sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more`; e.Title != want {
		t.Errorf("title %q, want %q", e.Title, want)
	}
	if e.URL != "https://outflow.example.com/ui/alerts/a1b2c3" || e.Color != 0xd32f2f || e.Timestamp != "2025-03-04T02:15:00Z" || e.Footer.Text != "Outflow alert a1b2c3" {
		t.Errorf("url %q color %#x timestamp %q footer %q", e.URL, e.Color, e.Timestamp, e.Footer.Text)
	}
	wantDesc := "10.1.2.3 sent 1.2 GB in 15 min, 40x its usual for Tuesday 02:00.\n\n```\n" +
		"- volume_spike: 40x the host's usual for Tuesday 02:00\n  1.2 GB; baseline 31 MB; threshold 122 MB; 2025-03-04 02:00:00–02:15:00 UTC; score 88\n```"
	if e.Description != wantDesc {
		t.Errorf("description\n%q\nwant\n%q", e.Description, wantDesc)
	}
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Name+"="+f.Value)
		if f.Inline != (f.Name != "Remotes") {
			t.Errorf("field %s inline=%v", f.Name, f.Inline)
		}
	}
	want := []string{
		"Host=10.1.2.3 (finance-pc-7)", "Severity=critical", "Bytes out=1.2 GB (1234000000 bytes)", "Score=91",
		`Detectors=new\_destination, volume\_spike`, "Window start=2025-03-04 02:00:00 UTC", "Window end=2025-03-04 02:15:00 UTC",
		"Incident opened=2025-03-04 01:00:00 UTC", "Remotes=```\n203.0.113.9 (files.example.net)\n198.51.100.7\n```",
	}
	if strings.Join(fields, "\n") != strings.Join(want, "\n") {
		t.Errorf("fields\n%s\nwant\n%s", strings.Join(fields, "\n"), strings.Join(want, "\n"))
	}
}

func TestDiscordLimits(t *testing.T) {
	m := discordMessageFor(testAlertHuge())
	if len(m.Embeds) > discordMaxEmbeds {
		t.Errorf("%d embeds", len(m.Embeds))
	}
	runes := utf8.RuneCountInString
	total := 0
	for _, e := range m.Embeds {
		if runes(e.Title) > discordMaxTitle || runes(e.Description) > discordMaxDescription || runes(e.Footer.Text) > discordMaxFooter || len(e.Fields) > discordMaxFields {
			t.Errorf("title %d, description %d, footer %d characters, %d fields", runes(e.Title), runes(e.Description), runes(e.Footer.Text), len(e.Fields))
		}
		total += runes(e.Title) + runes(e.Description) + runes(e.Footer.Text)
		for _, f := range e.Fields {
			if runes(f.Name) > discordMaxFieldName || runes(f.Value) > discordMaxFieldValue || f.Name == "" || f.Value == "" {
				t.Errorf("field %q of %d characters", f.Name, runes(f.Value))
			}
			total += runes(f.Name) + runes(f.Value)
		}
	}
	if total > discordMaxTotal || total < discordMaxTotal/2 {
		t.Errorf("%d characters in all, want at most %d and not cut far more than needed", total, discordMaxTotal)
	}
	e := m.Embeds[0]
	if strings.Contains(e.Title, "[click](") {
		t.Errorf("title %.80q… holds a live link", e.Title)
	}
	if !strings.HasSuffix(e.Description, "\n```") || !endsWithMoreLine(e.Description) {
		t.Errorf("description ends %q, want a closed code block cut between entries", e.Description[len(e.Description)-40:])
	}
	if r := e.Fields[len(e.Fields)-1].Value; !strings.HasSuffix(r, "\n```") || !endsWithMoreLine(r) {
		t.Errorf("remotes end %q, want a closed code block cut between entries", r[len(r)-40:])
	}
}

// Discord says how long to wait in the body of a 429 (retry_after, in
// seconds with a fraction); the Retry-After header may be missing.
func TestDiscordHonoursRetryAfterInBody(t *testing.T) {
	rcv := newReceiver(t, http.StatusTooManyRequests)
	rcv.bodies = []string{`{"message": "You are being rate limited.", "retry_after": 0.8, "global": false}`}
	n, _ := NewDiscord(DiscordConfig{Name: "dc", URL: rcv.URL})
	if err := Retry(n, fastRetry, nil).Notify(t.Context(), testAlert()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < 800*time.Millisecond {
		t.Errorf("retried after %s, want >= 0.8s (fastRetry's backoff is 1ms)", gap)
	}
}

func TestBodyRetryAfter(t *testing.T) {
	for body, want := range map[string]time.Duration{
		`{"retry_after": 1.5}`:     1500 * time.Millisecond,
		`{"retry_after": 0}`:       0,
		`{"retry_after": 1e9}`:     0, // not believed
		`{"retry_after": "2"}`:     0,
		`invalid_payload`:          0,
		`{"message": "slow down"}`: 0,
	} {
		if got := bodyRetryAfter([]byte(body)); got != want {
			t.Errorf("bodyRetryAfter(%s) = %s, want %s", body, got, want)
		}
	}
}
