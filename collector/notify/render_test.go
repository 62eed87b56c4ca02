package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

func TestTitleNamesTheHost(t *testing.T) {
	if got, want := title(testAlert()), testAlert().Title(); got != want {
		t.Errorf("title without a host name = %q, want alert.Title %q", got, want)
	}
	want := "UPDATE 2 [critical] 10.1.2.3 (finance-pc-7) sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more"
	if got := title(testAlertRich()); got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
}

func TestFacts(t *testing.T) {
	a := testAlertRich()
	a.Status, a.Resolved = alert.StatusResolved, t0.Add(time.Hour)
	var got []string
	for _, f := range facts(a) {
		got = append(got, f.label+"="+f.value)
	}
	want := []string{
		"Host=10.1.2.3 (finance-pc-7)", "Severity=critical", "Bytes out=1.2 GB (1234000000 bytes)", "Score=91",
		"Detectors=new_destination, volume_spike", "Window start=2025-03-04 02:00:00 UTC", "Window end=2025-03-04 02:15:00 UTC",
		"Incident opened=2025-03-04 01:00:00 UTC", "Resolved=2025-03-04 03:00:00 UTC",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("facts\n%q\nwant\n%q", got, want)
	}
	if f := facts(testAlertMinimal()); f[4].value != "none" || len(f) != 7 {
		t.Errorf("minimal alert facts %q, want 7 with Detectors none", f)
	}
}

func TestEvidenceLinesShowThreshold(t *testing.T) {
	a := testAlertRich()
	a.Evidence = append(a.Evidence,
		alert.Evidence{Detector: "p2p", Threshold: 20, Score: 70, Reason: "45 peers"},
		alert.Evidence{Detector: "beaconing", Threshold: 0.5, Score: 60, Reason: "every 60 s"})
	got := evidenceLines(a)
	want := []string{
		"- volume_spike: 40x the host's usual for Tuesday 02:00\n  1.2 GB; baseline 31 MB; threshold 122 MB; 2025-03-04 02:00:00–02:15:00 UTC; score 88",
		"- p2p: 45 peers\n  0 B; threshold 20 peers; score 70",
		"- beaconing: every 60 s\n  0 B; score 60",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("evidence\n%q\nwant\n%q", got, want)
	}
}

func TestSeverityColor(t *testing.T) {
	for _, tt := range []struct {
		sev    alert.Severity
		status string
		want   string
	}{
		{alert.SeverityCritical, "", colorCritical},
		{alert.SeverityWarning, alert.StatusFiring, colorWarning},
		{alert.SeverityInfo, "", colorInfo},
		{alert.SeverityCritical, alert.StatusResolved, colorResolved},
	} {
		if got := severityColor(&alert.Alert{Severity: tt.sev, Status: tt.status}); got != tt.want {
			t.Errorf("%s/%s: %s, want %s", tt.sev, tt.status, got, tt.want)
		}
	}
}

func TestFitHalvesTheBudget(t *testing.T) {
	var tried []int
	got := fit(func(budget int) int { tried = append(tried, budget); return budget }, func(b int) bool { return b <= 1000 })
	if got != 512 || fmt.Sprint(tried) != "[4096 2048 1024 512]" {
		t.Errorf("fit = %d after %v, want 512 after [4096 2048 1024 512]", got, tried)
	}
	if got := fit(func(budget int) int { return budget }, func(int) bool { return false }); got != fitMinBudget {
		t.Errorf("fit that never fits = %d, want the smallest budget %d", got, fitMinBudget)
	}
}

func TestEscapeMarkdown(t *testing.T) {
	in := "[click](https://evil.example) *b* _i_ ~s~ `c` <x> #h | \\"
	want := `\[click\](https://evil.example) \*b\* \_i\_ \~s\~ \` + "`c\\`" + ` \<x\> \#h \| \\`
	if got := escapeMarkdown(in); got != want {
		t.Errorf("escapeMarkdown = %q, want %q", got, want)
	}
	if got := codeBlock("a ``` b"); got != "```\na ʹʹʹ b\n```" {
		t.Errorf("codeBlock = %q: a fence inside must not close it", got)
	}
}

func TestEncodeJSONKeepsAngleBrackets(t *testing.T) {
	b, err := encodeJSON(map[string]string{"t": "<a & b>"})
	if err != nil || string(b) != `{"t":"<a & b>"}` {
		t.Errorf("encodeJSON = %s, %v", b, err)
	}
	if !strings.HasSuffix(messageFor(testAlertRich()).plainText(100), "\nhttps://outflow.example.com/ui/alerts/a1b2c3") {
		t.Error("plain text does not end with the link")
	}
}
