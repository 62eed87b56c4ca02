package alert

import (
	"testing"
	"time"
)

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0 B"},
		{850, "850 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{1500, "1.5 kB"},
		{9_940, "9.9 kB"},
		{9_950, "10 kB"},
		{31_000_000, "31 MB"},
		{31_499_999, "31 MB"},
		{999_499, "999 kB"},
		{999_500, "1.0 MB"},
		{1_200_000_000, "1.2 GB"},
		{1_249_999_999, "1.2 GB"},
		{6_600_000_000_000, "6.6 TB"},
		{^uint64(0), "18 EB"},
	}
	for _, tt := range tests {
		if got := HumanBytes(tt.n); got != tt.want {
			t.Errorf("HumanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

var t0 = time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC)

func sample() *Alert {
	return &Alert{
		ID:          "a1b2c3",
		Host:        "10.1.2.3",
		Remotes:     []string{"203.0.113.9", "198.51.100.7"},
		RemoteNames: []string{"files.example.net", ""},
		Detectors:   []string{"new_destination", "volume_spike"},
		Start:       t0,
		End:         t0.Add(15 * time.Minute),
		BytesOut:    1_234_000_000,
		Score:       91,
		Severity:    SeverityCritical,
		Summary:     "10.1.2.3 sent 1.2 GB in 15 min, 40x its usual for Tuesday 02:00.",
		Evidence: []Evidence{
			{
				Detector: "volume_spike", Start: t0, End: t0.Add(15 * time.Minute),
				BytesOut: 1_234_000_000, Baseline: 30_600_000, Score: 88,
				Reason: "40x the host's usual for Tuesday 02:00",
			},
			{
				Detector: "new_destination", Remote: "203.0.113.9", Name: "files.example.net",
				Start: t0, End: t0.Add(26 * time.Hour), BytesOut: 1_100_000_000,
				FirstSeen: t0.Add(-2 * time.Minute), Prevalence: 1, Score: 91,
				Reason: "first upload to this address",
			},
		},
	}
}

func TestTitle(t *testing.T) {
	a := sample()
	if got, want := a.Title(), "[critical] 10.1.2.3 sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more"; got != want {
		t.Errorf("Title() = %q, want %q", got, want)
	}
	a.Remotes, a.RemoteNames = a.Remotes[:1], a.RemoteNames[:1]
	if got, want := a.Title(), "[critical] 10.1.2.3 sent 1.2 GB to 203.0.113.9 (files.example.net)"; got != want {
		t.Errorf("Title() = %q, want %q", got, want)
	}
	a.RemoteNames = nil // names missing entirely
	if got, want := a.Title(), "[critical] 10.1.2.3 sent 1.2 GB to 203.0.113.9"; got != want {
		t.Errorf("Title() = %q, want %q", got, want)
	}
	a.Remotes = nil
	if got, want := a.Title(), "[critical] 10.1.2.3 sent 1.2 GB"; got != want {
		t.Errorf("Title() = %q, want %q", got, want)
	}
}

func TestRemoteLabel(t *testing.T) {
	tests := []struct{ ip, name, want string }{
		{"203.0.113.9", "files.example.net", "203.0.113.9 (files.example.net)"},
		{"203.0.113.9", "", "203.0.113.9"},
		{"203.0.113.9", "  ", "203.0.113.9"},
		{"2001:db8::1", "evil\nname\x00", "2001:db8::1 (evil name)"},
	}
	for _, tt := range tests {
		if got := RemoteLabel(tt.ip, tt.name); got != tt.want {
			t.Errorf("RemoteLabel(%q, %q) = %q, want %q", tt.ip, tt.name, got, tt.want)
		}
	}
}

func TestRemoteLabels(t *testing.T) {
	got := sample().RemoteLabels()
	want := []string{"203.0.113.9 (files.example.net)", "198.51.100.7"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("RemoteLabels() = %q, want %q", got, want)
	}
}

func TestEvidenceText(t *testing.T) {
	want := "- volume_spike: 40x the host's usual for Tuesday 02:00\n" +
		"  1.2 GB; baseline 31 MB; 2025-03-04 02:00:00–02:15:00 UTC; score 88\n" +
		"- new_destination: first upload to this address\n" +
		"  1.1 GB to 203.0.113.9 (files.example.net); 2025-03-04 02:00:00 UTC – 2025-03-05 04:00:00 UTC; " +
		"first seen 2025-03-04 01:58:00 UTC; 1 internal host talked to it; score 91"
	if got := sample().EvidenceText(); got != want {
		t.Errorf("EvidenceText() =\n%s\nwant\n%s", got, want)
	}
	if got := (&Alert{}).EvidenceText(); got != "" {
		t.Errorf("EvidenceText() of no evidence = %q, want empty", got)
	}
}

func TestFormatTime(t *testing.T) {
	local := time.FixedZone("JST", 9*3600)
	if got, want := FormatTime(t0.In(local)), "2025-03-04 02:00:00 UTC"; got != want {
		t.Errorf("FormatTime = %q, want %q", got, want)
	}
	if got, want := formatWindow(t0, time.Time{}), "2025-03-04 02:00:00 UTC"; got != want {
		t.Errorf("formatWindow(no end) = %q, want %q", got, want)
	}
}
