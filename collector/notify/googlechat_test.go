package notify

import (
	"strings"
	"testing"
)

// A message with cards, mirroring
// https://developers.google.com/workspace/chat/api/reference/rest/v1/spaces.messages#Message
// and https://developers.google.com/workspace/chat/api/reference/rest/v1/cards.
type googleChatWire struct {
	Text         string `json:"text"`
	FallbackText string `json:"fallbackText"`
	CardsV2      []struct {
		CardID string `json:"cardId"`
		Card   struct {
			Header struct {
				Title    string `json:"title"`
				Subtitle string `json:"subtitle"`
			} `json:"header"`
			Sections []struct {
				Header      string `json:"header"`
				Collapsible bool   `json:"collapsible"`
				Widgets     []struct {
					TextParagraph *struct {
						Text string `json:"text"`
					} `json:"textParagraph"`
					DecoratedText *struct {
						TopLabel string `json:"topLabel"`
						Text     string `json:"text"`
						WrapText bool   `json:"wrapText"`
					} `json:"decoratedText"`
					ButtonList *struct {
						Buttons []struct {
							Text    string `json:"text"`
							OnClick struct {
								OpenLink struct {
									URL string `json:"url"`
								} `json:"openLink"`
							} `json:"onClick"`
						} `json:"buttons"`
					} `json:"buttonList"`
				} `json:"widgets"`
			} `json:"sections"`
		} `json:"card"`
	} `json:"cardsV2"`
}

// lines renders every widget as "section: what it shows".
func (m googleChatWire) lines() []string {
	var out []string
	for _, s := range m.CardsV2[0].Card.Sections {
		for _, w := range s.Widgets {
			switch {
			case w.TextParagraph != nil:
				out = append(out, s.Header+": "+w.TextParagraph.Text)
			case w.DecoratedText != nil:
				out = append(out, s.Header+": "+w.DecoratedText.TopLabel+"="+w.DecoratedText.Text)
			case w.ButtonList != nil:
				for _, b := range w.ButtonList.Buttons {
					out = append(out, s.Header+": button "+b.Text+" "+b.OnClick.OpenLink.URL)
				}
			}
		}
	}
	return out
}

func TestGoogleChatPayload(t *testing.T) {
	rcv := newReceiver(t)
	n, err := NewGoogleChat(GoogleChatConfig{URL: rcv.URL + "/v1/spaces/AAA/messages?key=k&token=t"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	m := decodeStrict[googleChatWire](t, post(t, n, rcv, testAlertRich()).body)
	headline := "UPDATE 2 [critical] 10.1.2.3 (finance-pc-7) sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more"
	if m.Text != headline || m.FallbackText != headline {
		t.Errorf("text %q fallback %q, want the headline", m.Text, m.FallbackText)
	}
	if len(m.CardsV2) != 1 || m.CardsV2[0].CardID == "" {
		t.Fatalf("cardsV2 %+v, want one card with an id", m.CardsV2)
	}
	h := m.CardsV2[0].Card.Header
	if h.Title != "10.1.2.3 (finance-pc-7) · critical" || h.Subtitle != "Outflow alert a1b2c3" {
		t.Errorf("header %+v", h)
	}
	want := []string{
		": 10.1.2.3 sent 1.2 GB in 15 min, 40x its usual for Tuesday 02:00.",
		"Details: Host=10.1.2.3 (finance-pc-7)",
		`Details: Severity=<font color="#d32f2f">critical</font>`,
		"Details: Bytes out=1.2 GB (1234000000 bytes)",
		"Details: Score=91",
		"Details: Detectors=new_destination, volume_spike",
		"Details: Window start=2025-03-04 02:00:00 UTC",
		"Details: Window end=2025-03-04 02:15:00 UTC",
		"Details: Incident opened=2025-03-04 01:00:00 UTC",
		"Remotes: 203.0.113.9 (files.example.net)<br>198.51.100.7",
		"Evidence: - volume_spike: 40x the host&#39;s usual for Tuesday 02:00<br>  1.2 GB; baseline 31 MB; threshold 122 MB; 2025-03-04 02:00:00–02:15:00 UTC; score 88",
		": button Open in Outflow https://outflow.example.com/ui/alerts/a1b2c3",
	}
	if got := m.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("card\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGoogleChatLimits(t *testing.T) {
	rcv := newReceiver(t)
	n, _ := NewGoogleChat(GoogleChatConfig{URL: rcv.URL})
	body := post(t, n, rcv, testAlertHuge()).body
	if len(body) > googleChatMaxBytes || len(body) < googleChatMaxBytes/2 {
		t.Errorf("message of %d bytes, want at most %d and not cut far more than needed", len(body), googleChatMaxBytes)
	}
	m := decodeStrict[googleChatWire](t, body)
	if strings.ContainsAny(m.Text, "<>") {
		t.Errorf("text %.100q… could mention or link", m.Text)
	}
	lines := m.lines()
	if len(lines) > googleChatMaxWidgets {
		t.Errorf("%d widgets", len(lines))
	}
	for _, l := range lines {
		if strings.Contains(l, "<!channel>") || strings.Contains(l, "<users/all>") {
			t.Errorf("card text %.80q… is not escaped", l)
		}
		if (strings.HasPrefix(l, "Remotes: ") || strings.HasPrefix(l, "Evidence: ")) && !endsWithMoreLine(strings.ReplaceAll(l, "<br>", "\n")) {
			t.Errorf("%.40q… not cut between entries", l)
		}
	}
}
