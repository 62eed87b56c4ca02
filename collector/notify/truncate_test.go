package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello", 10, "hello"},
		{"hello world", 7, "hello…"}, // trailing space dropped before the mark
		{"hello", 4, "hel…"},
		{"日本語のテキスト", 4, "日本語…"},
		{"hello", 1, "…"},
		{"hello", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.max); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
	}
}

func TestTruncateLines(t *testing.T) {
	lines := []string{"203.0.113.9 (files.example.net)", "198.51.100.7", "192.0.2.1"}
	tests := []struct {
		max  int
		want string
	}{
		{100, "203.0.113.9 (files.example.net)\n198.51.100.7\n192.0.2.1"},
		{54, "203.0.113.9 (files.example.net)\n198.51.100.7\n192.0.2.1"}, // exactly fits
		{53, "203.0.113.9 (files.example.net)\n… and 2 more"},
		{44, "203.0.113.9 (files.example.net)\n… and 2 more"},
		{20, "203.0.113.9 (files.…"},
	}
	for _, tt := range tests {
		got := truncateLines(lines, tt.max)
		if got != tt.want {
			t.Errorf("truncateLines(max %d) = %q, want %q", tt.max, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > tt.max {
			t.Errorf("truncateLines(max %d) has %d characters", tt.max, n)
		}
	}
	many := make([]string, 500)
	for i := range many {
		many[i] = strings.Repeat("x", 9)
	}
	if got := truncateLines(many, 2000); utf8.RuneCountInString(got) > 2000 || !strings.HasSuffix(got, "more") {
		t.Errorf("truncateLines(500 lines, 2000) = %d characters ending %q", utf8.RuneCountInString(got), got[len(got)-20:])
	}
}
