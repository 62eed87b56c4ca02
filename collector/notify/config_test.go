package notify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
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
			URL: "https://x", Timeout: -time.Second, QueueSize: -1,
			Retry: RetryPolicy{Attempts: -1, MaxElapsed: -1},
		}}}, []string{
			"notify.webhooks[0].timeout: negative", "notify.webhooks[0].queue_size: negative",
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
	d.Dispatch(testAlert())
	if err := d.Close(context.Background()); err != nil {
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
