package alert

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// HumanBytes renders n in decimal (SI) units the way people read them in
// chat: "850 B", "31 MB", "1.2 GB". Values under 10 of a unit keep one
// decimal, larger ones are rounded to a whole number.
func HumanBytes(n uint64) string {
	if n < 1000 {
		return strconv.FormatUint(n, 10) + " B"
	}
	v := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB", "PB", "EB"} {
		v /= 1000
		if v < 9.95 {
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
		}
		// 999.5 would print as "1000"; move to the next unit instead.
		if v < 999.5 || unit == "EB" {
			return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
		}
	}
	panic("unreachable")
}

// FormatTime renders an event time for people: UTC, to the second.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// RemoteLabel renders a remote address with the name learned for it:
// "203.0.113.9 (files.example.net)", or the bare address when the name is
// unknown. Names come from DNS, SNI and Host headers, so the remote chooses
// them: control characters are removed to keep one alert one line.
func RemoteLabel(ip, name string) string {
	name = strings.TrimSpace(stripControl(name))
	if name == "" {
		return ip
	}
	return ip + " (" + name + ")"
}

// Title is the one-line headline of the alert:
// "[critical] 10.1.2.3 sent 1.2 GB to 203.0.113.9 (files.example.net)",
// with "and N more" when there are several remotes.
func (a *Alert) Title() string {
	var b strings.Builder
	switch {
	case a.Status == StatusResolved:
		b.WriteString("RESOLVED ")
	case a.Update > 0:
		fmt.Fprintf(&b, "UPDATE %d ", a.Update)
	}
	fmt.Fprintf(&b, "[%s] %s sent %s", a.Severity, a.Host, HumanBytes(a.BytesOut))
	if len(a.Remotes) > 0 {
		b.WriteString(" to ")
		b.WriteString(a.remoteLabel(0))
		if n := len(a.Remotes) - 1; n > 0 {
			fmt.Fprintf(&b, " and %d more", n)
		}
	}
	return b.String()
}

// RemoteLabels returns RemoteLabel for every remote, most bytes first.
func (a *Alert) RemoteLabels() []string {
	labels := make([]string, len(a.Remotes))
	for i := range a.Remotes {
		labels[i] = a.remoteLabel(i)
	}
	return labels
}

func (a *Alert) remoteLabel(i int) string {
	name := ""
	if i < len(a.RemoteNames) {
		name = a.RemoteNames[i]
	}
	return RemoteLabel(a.Remotes[i], name)
}

// EvidenceText renders the evidence as plain text for chat, one Text per
// detector reason, separated by newlines.
func (a *Alert) EvidenceText() string {
	lines := make([]string, len(a.Evidence))
	for i := range a.Evidence {
		lines[i] = a.Evidence[i].Text()
	}
	return strings.Join(lines, "\n")
}

// Text renders one reason in two lines: "- detector: reason", then,
// indented by two spaces, the numbers separated by "; " (bytes and remote,
// baseline, window, first seen, prevalence, score). Parts with no value (no
// baseline, unknown first-seen) are left out.
func (e *Evidence) Text() string {
	var b strings.Builder
	b.WriteString("- ")
	b.WriteString(e.Detector)
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(stripControl(e.Reason))
	}
	b.WriteString("\n  ")
	b.WriteString(strings.Join(e.details(), "; "))
	return b.String()
}

func (e *Evidence) details() []string {
	sent := HumanBytes(e.BytesOut)
	if e.Remote != "" {
		sent += " to " + RemoteLabel(e.Remote, e.Name)
	}
	parts := []string{sent}
	if e.Baseline > 0 {
		parts = append(parts, "baseline "+HumanBytes(uint64(math.Round(e.Baseline))))
	}
	if !e.Start.IsZero() {
		parts = append(parts, formatWindow(e.Start, e.End))
	}
	if !e.FirstSeen.IsZero() {
		parts = append(parts, "first seen "+FormatTime(e.FirstSeen))
	}
	switch {
	case e.Prevalence == 1:
		parts = append(parts, "1 internal host talked to it")
	case e.Prevalence > 1:
		parts = append(parts, strconv.Itoa(e.Prevalence)+" internal hosts talked to it")
	}
	return append(parts, "score "+strconv.FormatFloat(e.Score, 'f', 0, 64))
}

// formatWindow renders [start, end] compactly: the date once when both ends
// fall on the same UTC day.
func formatWindow(start, end time.Time) string {
	start, end = start.UTC(), end.UTC()
	switch {
	case end.IsZero() || !end.After(start):
		return FormatTime(start)
	case start.YearDay() == end.YearDay() && start.Year() == end.Year():
		return start.Format("2006-01-02 15:04:05") + "–" + end.Format("15:04:05") + " UTC"
	}
	return FormatTime(start) + " – " + FormatTime(end)
}

func stripControl(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
