package notify

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/outflowhq/outflow/collector/alert"
)

// message is what every chat driver shows, rendered once from an alert as
// plain text: each driver only lays it out and escapes it for its target.
type message struct {
	title    string   // headline: severity, host and its name, bytes, first remote
	summary  string   // one sentence with the numbers, may be empty
	facts    []fact   // host, severity, bytes, score, detectors, times
	remotes  []string // "203.0.113.9 (files.example.net)", most bytes first
	evidence []string // two lines per reason: what, then the numbers
	url      string   // the alert's page in the web UI, may be empty
	footer   string   // "Outflow alert <id>"
	color    string   // "#rrggbb" by severity, green once resolved
}

type fact struct{ label, value string }

// maxHostLabel bounds a configured host name in every message.
const maxHostLabel = 200

func messageFor(a *alert.Alert) message {
	return message{
		title:    title(a),
		summary:  a.Summary,
		facts:    facts(a),
		remotes:  a.RemoteLabels(),
		evidence: evidenceLines(a),
		url:      a.URL,
		footer:   "Outflow alert " + a.ID,
		color:    severityColor(a),
	}
}

// title is alert.Title with the host's configured name beside its address:
// "[critical] 10.1.2.3 (db-1) sent 1.2 GB to 203.0.113.9 (files.example.net)".
func title(a *alert.Alert) string {
	t := a.Title()
	if a.HostName == "" {
		return t
	}
	return strings.Replace(t, "] "+a.Host+" sent ", "] "+hostLabel(a)+" sent ", 1)
}

func hostLabel(a *alert.Alert) string {
	return truncate(alert.RemoteLabel(a.Host, a.HostName), maxHostLabel)
}

func facts(a *alert.Alert) []fact {
	detectors := strings.Join(a.Detectors, ", ")
	if detectors == "" {
		detectors = "none"
	}
	f := []fact{
		{"Host", hostLabel(a)},
		{"Severity", string(a.Severity)},
		{"Bytes out", alert.HumanBytes(a.BytesOut) + " (" + strconv.FormatUint(a.BytesOut, 10) + " bytes)"},
		{"Score", strconv.FormatFloat(a.Score, 'f', 0, 64)},
		{"Detectors", detectors},
		{"Window start", alert.FormatTime(a.Start)},
		{"Window end", alert.FormatTime(a.End)},
	}
	if !a.Opened.IsZero() && !a.Opened.Equal(a.Start) {
		f = append(f, fact{"Incident opened", alert.FormatTime(a.Opened)})
	}
	if !a.Resolved.IsZero() {
		f = append(f, fact{"Resolved", alert.FormatTime(a.Resolved)})
	}
	return f
}

// evidenceLines renders each reason as alert.Evidence.Text does, with the
// threshold the detector compared against when it is a byte count.
func evidenceLines(a *alert.Alert) []string {
	lines := make([]string, len(a.Evidence))
	for i := range a.Evidence {
		e := &a.Evidence[i]
		text := e.Text()
		reason, details, ok := strings.Cut(text, "\n  ")
		if thr := thresholdLabel(e); thr != "" && ok {
			// After the baseline (or the bytes): what it was compared with.
			parts := strings.Split(details, "; ")
			at := 1
			for j, p := range parts {
				if strings.HasPrefix(p, "baseline ") {
					at = j + 1
				}
			}
			parts = slices.Insert(parts, at, "threshold "+thr)
			text = reason + "\n  " + strings.Join(parts, "; ")
		}
		lines[i] = text
	}
	return lines
}

// thresholdLabel renders Evidence.Threshold in its detector's unit. The
// beaconing detector compares intervals or bytes and says which in its
// reason, so it is left to the reason.
func thresholdLabel(e *alert.Evidence) string {
	if e.Threshold <= 0 {
		return ""
	}
	switch e.Detector {
	case "beaconing":
		return ""
	case "p2p":
		return strconv.FormatFloat(e.Threshold, 'f', 0, 64) + " peers"
	}
	return alert.HumanBytes(uint64(math.Round(e.Threshold)))
}

// Severity colours, shared by every target that colours a message.
const (
	colorCritical = "#d32f2f"
	colorWarning  = "#f9a825"
	colorInfo     = "#1976d2"
	colorResolved = "#2e7d32"
)

func severityColor(a *alert.Alert) string {
	switch {
	case a.Status == alert.StatusResolved:
		return colorResolved
	case a.Severity == alert.SeverityCritical:
		return colorCritical
	case a.Severity == alert.SeverityWarning:
		return colorWarning
	}
	return colorInfo
}

// plainText renders the whole message as plain text, lists cut to budget
// characters each: the description for Alertmanager receivers.
func (m message) plainText(budget int) string {
	var b strings.Builder
	if m.summary != "" {
		b.WriteString(truncate(m.summary, budget) + "\n\n")
	}
	for _, f := range m.facts {
		b.WriteString(f.label + ": " + f.value + "\n")
	}
	if len(m.remotes) > 0 {
		b.WriteString("\nRemotes:\n" + truncateLines(m.remotes, budget) + "\n")
	}
	if len(m.evidence) > 0 {
		b.WriteString("\nEvidence:\n" + truncateLines(m.evidence, budget) + "\n")
	}
	if m.url != "" {
		b.WriteString("\n" + m.url + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Budgets for fitted messages: the characters each long text (summary,
// remotes, evidence) may take. A message that is too large for its target
// is rendered again with half the budget, down to fitMinBudget.
const (
	fitMaxBudget = 4096
	fitMinBudget = 64
)

// fit renders build with the largest budget whose result fits; below
// fitMinBudget it returns the last rendering, which every driver keeps
// within its target's limits by construction (fixed parts are bounded).
func fit[T any](build func(budget int) T, fits func(T) bool) T {
	budget := fitMaxBudget
	v := build(budget)
	for !fits(v) && budget > fitMinBudget {
		budget /= 2
		v = build(budget)
	}
	return v
}

// fitsBytes says whether v encodes to at most max bytes of JSON.
func fitsBytes[T any](max int) func(T) bool {
	return func(v T) bool {
		b, err := encodeJSON(v)
		return err == nil && len(b) <= max
	}
}

// encodeJSON is json.Marshal without HTML escaping: receivers read "<" as
// is, and "\u003c" would count six bytes against their limits.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// escapeMarkdown backslash-escapes the characters that make Markdown
// (CommonMark, as Mattermost and Discord read it) links, emphasis, code,
// quotes, headings or HTML out of text a remote chose, such as a TLS name.
var escapeMarkdown = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
	"[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`,
).Replace

// codeBlock renders lines as a fenced code block: no Markdown, links or
// mentions inside, and the numbers line up. Backticks in the text, which
// could close the fence, become primes.
func codeBlock(text string) string {
	return "```\n" + strings.ReplaceAll(text, "`", "ʹ") + "\n```"
}
