package notify

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// ellipsis marks text cut to fit a receiver's limit.
const ellipsis = "…"

// truncate cuts s to at most max characters (runes, as Slack and most chat
// services count them), ending in "…" when anything was cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return strings.TrimRight(s[:i], " \n") + ellipsis
		}
		n++
	}
	return s // unreachable: s has more than max runes
}

// truncateLines joins lines with newlines within max characters. Lines that
// do not fit are replaced by a final "… and N more" line, so a list is never
// cut in the middle of an entry; a single first line that is too long is
// truncated.
func truncateLines(lines []string, max int) string {
	if all := strings.Join(lines, "\n"); utf8.RuneCountInString(all) <= max {
		return all
	}
	// Something will be cut: keep room for the "… and N more" line.
	var b strings.Builder
	used := 0
	for i, line := range lines {
		n := utf8.RuneCountInString(line)
		if i > 0 {
			n++ // newline
		}
		reserve := 0
		if rest := len(lines) - i - 1; rest > 0 {
			reserve = utf8.RuneCountInString(moreLine(rest)) + 1
		}
		if used+n+reserve > max {
			if i == 0 {
				return truncate(line, max)
			}
			more := moreLine(len(lines) - i)
			if used+1+utf8.RuneCountInString(more) > max {
				return truncate(b.String(), max)
			}
			b.WriteString("\n" + more)
			return b.String()
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
		used += n
	}
	return b.String()
}

func moreLine(n int) string {
	return ellipsis + " and " + strconv.Itoa(n) + " more"
}
