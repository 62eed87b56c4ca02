package notify

import (
	"html"
	"strings"

	"github.com/outflowhq/outflow/collector/alert"
)

// GoogleChat posts the headline as text (the notification, and what
// clients without cards show) and a cardsV2 card: host and severity in the
// header, summary, facts, remotes, evidence and a button to the alert.
type GoogleChat struct{ jsonDriver }

// NewGoogleChat checks the URL and prepares the client; it sends nothing.
func NewGoogleChat(c GoogleChatConfig) (*GoogleChat, error) {
	d, err := newChat("googlechat", c, googleChatMessageFor)
	if err != nil {
		return nil, err
	}
	return &GoogleChat{d}, nil
}

// Google Chat limits: a message, text and cards together, is at most
// 32,000 bytes
// (https://developers.google.com/workspace/chat/api/reference/rest/v1/spaces.messages/create);
// a card shows at most 100 widgets and ignores the rest
// (https://developers.google.com/workspace/chat/api/reference/rest/v1/cards).
const (
	googleChatMaxBytes   = 32000
	googleChatMaxWidgets = 100
	googleChatMaxText    = 1000 // the text message: the headline only
)

type googleChatMessage struct {
	Text         string           `json:"text"`
	FallbackText string           `json:"fallbackText"`
	CardsV2      []googleChatCard `json:"cardsV2"`
}

type googleChatCard struct {
	CardID string             `json:"cardId"`
	Card   googleChatCardBody `json:"card"`
}

type googleChatCardBody struct {
	Header   googleChatHeader    `json:"header"`
	Sections []googleChatSection `json:"sections"`
}

type googleChatHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
}

type googleChatSection struct {
	Header      string             `json:"header,omitempty"`
	Collapsible bool               `json:"collapsible,omitempty"`
	Widgets     []googleChatWidget `json:"widgets"`
}

// googleChatWidget holds exactly one of its fields, as the API's Widget.
type googleChatWidget struct {
	TextParagraph *googleChatTextParagraph `json:"textParagraph,omitempty"`
	DecoratedText *googleChatDecoratedText `json:"decoratedText,omitempty"`
	ButtonList    *googleChatButtonList    `json:"buttonList,omitempty"`
}

type googleChatTextParagraph struct {
	Text string `json:"text"`
}

type googleChatDecoratedText struct {
	TopLabel string `json:"topLabel"`
	Text     string `json:"text"`
	WrapText bool   `json:"wrapText"`
}

type googleChatButtonList struct {
	Buttons []googleChatButton `json:"buttons"`
}

type googleChatButton struct {
	Text    string            `json:"text"`
	OnClick googleChatOnClick `json:"onClick"`
}

type googleChatOnClick struct {
	OpenLink struct {
		URL string `json:"url"`
	} `json:"openLink"`
}

func googleChatMessageFor(a *alert.Alert) googleChatMessage {
	m := messageFor(a)
	return fit(func(budget int) googleChatMessage { return googleChatBuild(m, a, budget) }, fitsBytes[googleChatMessage](googleChatMaxBytes))
}

func googleChatBuild(m message, a *alert.Alert, budget int) googleChatMessage {
	text := googleChatText(truncate(m.title, googleChatMaxText))
	var sections []googleChatSection
	if m.summary != "" {
		sections = append(sections, googleChatSection{Widgets: []googleChatWidget{googleChatParagraph(truncate(m.summary, budget))}})
	}
	details := googleChatSection{Header: "Details"}
	for _, f := range m.facts {
		value := googleChatHTML(f.value)
		if f.label == "Severity" {
			value = `<font color="` + m.color + `">` + value + `</font>`
		}
		details.Widgets = append(details.Widgets, googleChatWidget{DecoratedText: &googleChatDecoratedText{TopLabel: f.label, Text: value, WrapText: true}})
	}
	sections = append(sections, details)
	if len(m.remotes) > 0 {
		sections = append(sections, googleChatSection{Header: "Remotes", Widgets: []googleChatWidget{googleChatParagraph(truncateLines(m.remotes, budget))}})
	}
	if len(m.evidence) > 0 {
		sections = append(sections, googleChatSection{Header: "Evidence", Widgets: []googleChatWidget{googleChatParagraph(truncateLines(m.evidence, budget))}})
	}
	if m.url != "" {
		b := googleChatButton{Text: "Open in Outflow"}
		b.OnClick.OpenLink.URL = m.url
		sections = append(sections, googleChatSection{Widgets: []googleChatWidget{{ButtonList: &googleChatButtonList{Buttons: []googleChatButton{b}}}}})
	}
	return googleChatMessage{
		Text:         text,
		FallbackText: text,
		CardsV2: []googleChatCard{{
			CardID: "outflow-alert",
			Card: googleChatCardBody{
				Header:   googleChatHeader{Title: hostLabel(a) + " · " + string(a.Severity), Subtitle: m.footer},
				Sections: sections,
			},
		}},
	}
}

func googleChatParagraph(s string) googleChatWidget {
	return googleChatWidget{TextParagraph: &googleChatTextParagraph{Text: googleChatHTML(s)}}
}

// googleChatHTML escapes text for card widgets, which read a subset of
// HTML, and keeps its line breaks.
func googleChatHTML(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "\n", "<br>")
}

// googleChatText keeps remote-chosen text from forming a mention
// (<users/all>) or a link (<url|label>) in a text message, where "<" has
// no escape: angle brackets become single guillemets.
var googleChatText = strings.NewReplacer("<", "‹", ">", "›").Replace
