package notify

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// httpDrivers builds every HTTP driver against a test receiver, to check
// that each one gets the shared delivery behaviour (retry.go, http.go).
var httpDrivers = []struct {
	kind string
	new  func(url string, timeout time.Duration) (Notifier, error)
}{
	{"webhook", func(u string, d time.Duration) (Notifier, error) {
		return NewWebhook(WebhookConfig{Name: "x", URL: u, Timeout: d})
	}},
	{"slack", func(u string, d time.Duration) (Notifier, error) {
		return NewSlack(SlackConfig{Name: "x", URL: u, Timeout: d})
	}},
	{"teams", func(u string, d time.Duration) (Notifier, error) {
		return NewTeams(TeamsConfig{Name: "x", URL: u, Timeout: d})
	}},
	{"mattermost", func(u string, d time.Duration) (Notifier, error) {
		return NewMattermost(MattermostConfig{Name: "x", URL: u, Timeout: d})
	}},
	{"discord", func(u string, d time.Duration) (Notifier, error) {
		return NewDiscord(DiscordConfig{Name: "x", URL: u, Timeout: d})
	}},
	{"googlechat", func(u string, d time.Duration) (Notifier, error) {
		return NewGoogleChat(GoogleChatConfig{Name: "x", URL: u, Timeout: d})
	}},
	{"alertmanager", func(u string, d time.Duration) (Notifier, error) {
		return NewAlertmanager(AlertmanagerConfig{Name: "x", URL: u, Timeout: d})
	}},
}

// TestDriversDelivery runs each driver through Retry against a receiver
// that rate-limits, fails, rejects or hangs, as the targets do. Retry's
// own rules are tested in retry_test.go; this checks every driver reports
// its outcomes so that Retry can apply them.
func TestDriversDelivery(t *testing.T) {
	for _, d := range httpDrivers {
		t.Run(d.kind, func(t *testing.T) {
			t.Parallel()
			send := func(rcv *receiver, timeout time.Duration) (error, int) {
				n, err := d.new(rcv.URL, timeout)
				if err != nil {
					t.Fatal(err)
				}
				defer n.Close()
				err = Retry(n, fastRetry, nil).Notify(t.Context(), testAlertRich())
				return err, len(rcv.requests())
			}

			limited := newReceiver(t, http.StatusTooManyRequests)
			limited.headers = []http.Header{{"Retry-After": {"1"}}}
			if err, n := send(limited, time.Second); err != nil || n != 2 {
				t.Errorf("429: err %v after %d requests, want delivered on the 2nd", err, n)
			} else if reqs := limited.requests(); reqs[1].at.Sub(reqs[0].at) < time.Second {
				t.Errorf("429: retried after %s, want Retry-After's 1s", reqs[1].at.Sub(reqs[0].at))
			}

			if err, n := send(newReceiver(t, 502, 503), time.Second); err != nil || n != 3 {
				t.Errorf("5xx: err %v after %d requests, want delivered on the 3rd", err, n)
			}

			var se *StatusError
			if err, n := send(newReceiver(t, http.StatusBadRequest), time.Second); !errors.As(err, &se) || se.Status != 400 || n != 1 {
				t.Errorf("400: err %v after %d requests, want a StatusError and no retry", err, n)
			}

			hang := newReceiver(t)
			hang.hang = 1
			if err, n := send(hang, 100*time.Millisecond); err != nil || n != 2 {
				t.Errorf("timeout: err %v after %d requests, want delivered on the 2nd", err, n)
			}
		})
	}
}

func TestDriversDefaultNames(t *testing.T) {
	for _, d := range httpDrivers {
		n, err := d.new("https://example.com/x", 0)
		if err != nil || n.Name() != "x" {
			t.Errorf("%s: name %q err %v", d.kind, n.Name(), err)
		}
	}
	for kind, n := range map[string]interface{ Name() string }{
		"teams":      must(NewTeams(TeamsConfig{URL: "https://x"})),
		"mattermost": must(NewMattermost(MattermostConfig{URL: "https://x"})),
		"discord":    must(NewDiscord(DiscordConfig{URL: "https://x"})),
		"googlechat": must(NewGoogleChat(GoogleChatConfig{URL: "https://x"})),
	} {
		if n.Name() != kind {
			t.Errorf("unnamed %s is called %q", kind, n.Name())
		}
	}
	if _, err := NewDiscord(DiscordConfig{URL: "discord.com/api/webhooks/1/SECRET"}); err == nil {
		t.Error("a URL without scheme was accepted")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
