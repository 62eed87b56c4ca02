package notify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.yaml.in/yaml/v3"

	"github.com/outflowhq/outflow/collector/alert"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // each must appear in the error
	}{
		{"empty is fine", Config{}, nil},
		{"valid", Config{
			JSONL:    []JSONLConfig{{Path: "-"}},
			Webhooks: []WebhookConfig{{URL: "https://siem.example/hook"}, {URL: "http://10.0.0.5:8080/x"}},
			Slack:    []SlackConfig{{Name: "soc", URL: "https://hooks.slack.com/services/T/B/X"}},
		}, nil},
		{"url without scheme", Config{Webhooks: []WebhookConfig{{URL: "https://ok"}, {URL: "siem.example/hook"}}},
			[]string{"notify.webhooks[1].url: missing scheme"}},
		{"url missing", Config{Slack: []SlackConfig{{}}}, []string{"notify.slack[0].url: missing"}},
		{"url bad scheme", Config{Webhooks: []WebhookConfig{{URL: "ftp://x/y"}}},
			[]string{`notify.webhooks[0].url: scheme "ftp" is not http or https`}},
		{"url no host", Config{Webhooks: []WebhookConfig{{URL: "https:///path"}}},
			[]string{"notify.webhooks[0].url: missing host"}},
		{"jsonl path", Config{JSONL: []JSONLConfig{{}}}, []string{"notify.jsonl[0].path: missing"}},
		{"negatives", Config{Webhooks: []WebhookConfig{{
			URL: "https://x", Timeout: -time.Second,
			Retry: RetryPolicy{Attempts: -1, MaxElapsed: -1},
		}}}, []string{
			"notify.webhooks[0].timeout: negative",
			"notify.webhooks[0].retry.attempts: negative", "notify.webhooks[0].retry.max_elapsed: negative",
		}},
		{"header", Config{Webhooks: []WebhookConfig{{URL: "https://x", Headers: map[string]string{"Bad Name": "v"}}}},
			[]string{`notify.webhooks[0].headers: invalid header name "Bad Name"`}},
		{"header value", Config{Webhooks: []WebhookConfig{{URL: "https://x", Headers: map[string]string{"X-A": "v\r\nX-B: w"}}}},
			[]string{"notify.webhooks[0].headers: header X-A: value contains a line break"}},
		{"duplicate names", Config{
			Webhooks: []WebhookConfig{{Name: "soc", URL: "https://x"}},
			Slack:    []SlackConfig{{Name: "soc", URL: "https://y"}},
		}, []string{`notify.slack[0].name: "soc" is already the name of notify.webhooks[0]`}},
		{"bad name", Config{JSONL: []JSONLConfig{{Name: "my log", Path: "-"}}},
			[]string{`notify.jsonl[0].name: "my log": use letters`}},
		{"every driver", Config{
			Teams:         []TeamsConfig{{URL: "https://x.logic.azure.com/workflows/1"}},
			Mattermost:    []MattermostConfig{{URL: "https://mm.example/hooks/1"}},
			Discord:       []DiscordConfig{{URL: "https://discord.com/api/webhooks/1/t"}},
			GoogleChat:    []GoogleChatConfig{{URL: "https://chat.googleapis.com/v1/spaces/A/messages"}},
			Alertmanagers: []AlertmanagerConfig{{URL: "http://am:9093", TTL: time.Hour}},
			Webhooks:      []WebhookConfig{{URL: "https://x", Format: FormatOutflow}, {URL: "https://y", Format: FormatAlertmanager}},
		}, nil},
		{"new drivers' keys", Config{
			Teams:         []TeamsConfig{{}},
			Mattermost:    []MattermostConfig{{URL: "mm.example/hooks/1"}},
			Discord:       []DiscordConfig{{URL: "https://d", Timeout: -1}},
			GoogleChat:    []GoogleChatConfig{{URL: "https://g", Retry: RetryPolicy{MaxBackoff: -1}}},
			Alertmanagers: []AlertmanagerConfig{{URL: "https://a", TTL: -1, Headers: map[string]string{"a b": "c"}}},
		}, []string{
			"notify.teams[0].url: missing", "notify.mattermost[0].url: missing scheme", "notify.discord[0].timeout: negative",
			"notify.googlechat[0].retry.max_backoff: negative", "notify.alertmanagers[0].ttl: negative",
			`notify.alertmanagers[0].headers: invalid header name "a b"`,
		}},
		{"webhook format", Config{Webhooks: []WebhookConfig{{URL: "https://x", Format: "json"}}},
			[]string{`notify.webhooks[0].format: "json" is not "alertmanager" or "outflow"`}},
		{"routes", Config{
			Slack:   []SlackConfig{{URL: "https://s", Route: Route{Severities: []string{"critical", "high"}}}},
			Discord: []DiscordConfig{{URL: "https://d", Route: Route{Detectors: []string{"volume", "exfil"}}}},
			JSONL:   []JSONLConfig{{Path: "-", Route: Route{Severities: []string{"info"}, Detectors: []string{"p2p"}}}},
		}, []string{
			`notify.slack[0].severities[1]: "high" is not one of ["info" "warning" "critical"]`,
			`notify.discord[0].detectors[1]: "exfil" is not one of`,
		}},
		{"default names are unique per kind", Config{
			Teams:   []TeamsConfig{{URL: "https://t"}, {URL: "https://t"}},
			Discord: []DiscordConfig{{URL: "https://d"}, {Name: "teams-1", URL: "https://d"}},
		}, []string{`notify.discord[1].name: "teams-1" is already the name of notify.teams[1]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tt.want) {
				t.Errorf("Validate() reported %d problems, want %d:\n%v", n, len(tt.want), err)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	hook := newReceiver(t)
	slack := newReceiver(t)
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	set := metrics.NewSet()
	d, err := Build(Config{
		JSONL:    []JSONLConfig{{Path: path}},
		Webhooks: []WebhookConfig{{URL: hook.URL}, {URL: hook.URL, Retry: fastRetry}},
		Slack:    []SlackConfig{{URL: slack.URL, Retry: fastRetry}},
	}, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newAlertStream(t)
	if err := d.Start(context.Background(), s.js); err != nil {
		t.Fatal(err)
	}
	s.publish(t, testAlert())
	if err := closeWithin(t, d, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"jsonl", "webhook", "webhook-1", "slack"} {
		if got := counter(set, "outflow_notify_sent_total", name); got != 1 {
			t.Errorf("%s sent %d, want 1", name, got)
		}
	}
	if n := len(hook.requests()); n != 2 {
		t.Errorf("webhook receiver got %d requests, want 2", n)
	}
	if data, _ := os.ReadFile(path); strings.Count(string(data), "\n") != 1 {
		t.Errorf("jsonl file has %q, want one line", data)
	}
	out := prometheus(set)
	// Every notifier has every series, at 0 when nothing happened.
	for _, m := range []string{"failed_total", "dropped_total", "retries_total"} {
		if series := "outflow_notify_" + m + `{notifier="jsonl"} 0`; !strings.Contains(out, series) {
			t.Errorf("%s missing:\n%s", series, out)
		}
	}
}

func TestBuildReportsOpenErrors(t *testing.T) {
	_, err := Build(Config{
		JSONL: []JSONLConfig{{Path: filepath.Join(t.TempDir(), "no", "such", "dir.jsonl")}},
	}, metrics.NewSet(), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "notify.jsonl[0]: notify jsonl: open ") {
		t.Errorf("Build = %v, want an error naming notify.jsonl[0]", err)
	}
}

// TestBuildRoutes builds one of every driver, each behind a route, and
// publishes one critical alert from volume_spike and new_destination.
func TestBuildRoutes(t *testing.T) {
	rcv := newReceiver(t)
	no := false
	set := metrics.NewSet()
	d, err := Build(Config{
		Teams:         []TeamsConfig{{URL: rcv.URL, Route: Route{Severities: []string{"info"}}}},
		Mattermost:    []MattermostConfig{{URL: rcv.URL, Route: Route{SendResolved: &no}}},
		Discord:       []DiscordConfig{{URL: rcv.URL, Route: Route{Detectors: []string{"p2p"}}}},
		GoogleChat:    []GoogleChatConfig{{URL: rcv.URL, Route: Route{Detectors: []string{"volume", "new_destination"}}}},
		Alertmanagers: []AlertmanagerConfig{{URL: rcv.URL, Route: Route{Severities: []string{"warning", "critical"}}}},
	}, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newAlertStream(t)
	if err := d.Start(context.Background(), s.js); err != nil {
		t.Fatal(err)
	}
	a := testAlert()
	a.Detectors = []string{"new_destination", "volume"}
	resolved := testAlert()
	resolved.ID, resolved.Status, resolved.Detectors = "r1", alert.StatusResolved, a.Detectors
	s.publish(t, a, resolved)
	if err := closeWithin(t, d, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]uint64{ // sent, skipped
		"teams": {0, 2}, "mattermost": {1, 1}, "discord": {0, 2}, "googlechat": {2, 0}, "alertmanager": {2, 0},
	} {
		sent, skipped := counter(set, "outflow_notify_sent_total", name), counter(set, "outflow_notify_skipped_total", name)
		if sent != want[0] || skipped != want[1] {
			t.Errorf("%s sent %d skipped %d, want %d and %d", name, sent, skipped, want[0], want[1])
		}
	}
	if n := len(rcv.requests()); n != 5 {
		t.Errorf("receiver got %d requests, want 5", n)
	}
}

// TestConfigYAML decodes the keys as the config file spells them, with
// the route inline in each entry.
func TestConfigYAML(t *testing.T) {
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(`
teams: [{name: soc-teams, url: "https://x/workflows/1", severities: [critical], send_resolved: false}]
mattermost: [{url: "https://mm/hooks/1", detectors: [p2p, dns_tunnel]}]
discord: [{url: "https://discord.com/api/webhooks/1/t", timeout: 5s}]
googlechat: [{url: "https://chat.googleapis.com/v1/spaces/A/messages"}]
alertmanagers: [{url: "http://am:9093", ttl: 6h, headers: {Authorization: "Bearer t"}}]
webhooks: [{url: "https://siem", format: outflow}]
`))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if r := cfg.Teams[0].Route; r.Severities[0] != "critical" || r.SendResolved == nil || *r.SendResolved {
		t.Errorf("teams route %+v", r)
	}
	if cfg.Mattermost[0].Detectors[1] != "dns_tunnel" || cfg.Discord[0].Timeout != 5*time.Second ||
		cfg.Alertmanagers[0].TTL != 6*time.Hour || cfg.Webhooks[0].Format != FormatOutflow || cfg.GoogleChat[0].URL == "" {
		t.Errorf("decoded %+v", cfg)
	}
}
