package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad configuration or flag stops each command at once with an error
// that names what is wrong, and exit status 1 (2 for usage).
func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "outflow.yaml")
	if err := os.WriteFile(bad, []byte("sensor:\n  flowtable:\n    max_flow: 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	invalid := filepath.Join(dir, "invalid.yaml")
	if err := os.WriteFile(invalid, []byte("collector:\n  notify:\n    webhooks:\n      - url: hooks.example.com/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"sensor", "-config", bad, "-pcap", "x.pcap"}, []string{"outflow sensor: config " + bad + ": line 3", `unknown key "max_flow"`}},
		{[]string{"collector", "-config", invalid}, []string{"outflow collector: ", "notify.webhooks[0].url"}},
		{[]string{"analyze", "-internal", "10.0.0.0/33", "x.pcap"}, []string{"sensor.internal", "10.0.0.0/33"}},
		{[]string{"analyze", filepath.Join(dir, "missing.pcap")}, []string{"missing.pcap", "no such file"}},
		{[]string{"analyze"}, []string{"no capture files given"}},
		{[]string{"sensor", "-id", "a.b", "-pcap", "x.pcap"}, []string{"sensor.id", `"a.b"`}},
		{[]string{"generate", "-scenario", "huge", filepath.Join(dir, "g.pcap")}, []string{`-scenario "huge": want demo or bench`}},
		{[]string{"nonsense"}, []string{`unknown command "nonsense"`}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, stderr, err := outflow(t, c.args...)
			if err == nil {
				t.Fatal("exit status 0")
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "goroutine ") {
				t.Fatalf("crashed:\n%s", stderr)
			}
		})
	}
}
