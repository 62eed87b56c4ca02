package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// retried sends one alert through a webhook wrapped in Retry and reports
// the error and the number of retries.
func retried(t *testing.T, url string, timeout time.Duration, p RetryPolicy) (error, int) {
	t.Helper()
	w, err := NewWebhook(WebhookConfig{Name: "hook", URL: url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	var retries atomic.Int32
	n := Retry(w, p, func(error, time.Duration) { retries.Add(1) })
	err = n.Notify(context.Background(), testAlert())
	return err, int(retries.Load())
}

func TestRetry429HonoursRetryAfter(t *testing.T) {
	rcv := newReceiver(t, http.StatusTooManyRequests)
	rcv.headers = []http.Header{{"Retry-After": {"1"}}}
	err, retries := retried(t, rcv.URL, time.Second, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 2 || retries != 1 {
		t.Fatalf("got %d requests and %d retries, want 2 and 1", len(reqs), retries)
	}
	// A lower bound only: Retry-After is a promise we must keep.
	if gap := reqs[1].at.Sub(reqs[0].at); gap < time.Second {
		t.Errorf("retried after %s, want >= 1s", gap)
	}
}

func TestRetry5xxThenSuccess(t *testing.T) {
	rcv := newReceiver(t, 500, 502)
	err, retries := retried(t, rcv.URL, time.Second, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.requests()); n != 3 || retries != 2 {
		t.Errorf("got %d requests and %d retries, want 3 and 2 (delivered once)", n, retries)
	}
}

func TestRetry4xxIsFinal(t *testing.T) {
	rcv := newReceiver(t, http.StatusBadRequest)
	err, retries := retried(t, rcv.URL, time.Second, fastRetry)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 400 || se.Notifier != "hook" {
		t.Fatalf("err = %v, want a StatusError 400 from hook", err)
	}
	if want := "notify hook: HTTP 400 Bad Request: invalid_payload (more detail)"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if n := len(rcv.requests()); n != 1 || retries != 0 {
		t.Errorf("got %d requests and %d retries, want 1 and 0", n, retries)
	}
}

func TestRetryGivesUp(t *testing.T) {
	rcv := newReceiver(t, 503, 503, 503, 503, 503, 503)
	p := fastRetry
	p.Attempts = 3
	err, retries := retried(t, rcv.URL, time.Second, p)
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("err = %v, want 503 and gave up after 3 attempts", err)
	}
	if n := len(rcv.requests()); n != 3 || retries != 2 {
		t.Errorf("got %d requests and %d retries, want 3 and 2", n, retries)
	}
}

func TestRetryHangingServerTimesOut(t *testing.T) {
	rcv := newReceiver(t)
	rcv.hang = 1
	err, retries := retried(t, rcv.URL, 100*time.Millisecond, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.requests()); n != 2 || retries != 1 {
		t.Errorf("got %d requests and %d retries, want 2 and 1", n, retries)
	}
}

func TestRetryConnectionRefusedKeepsURLSecret(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	p := fastRetry
	p.Attempts = 2
	err, retries := retried(t, "http://"+addr+"/services/T0/B0/SECRET", time.Second, p)
	if err == nil || retries != 1 {
		t.Fatalf("err = %v after %d retries, want an error after 1 retry", err, retries)
	}
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "http://"+addr) {
		t.Errorf("err = %q, want scheme and host only", err)
	}
}

func TestRetryStopsAtMaxElapsed(t *testing.T) {
	rcv := newReceiver(t, http.StatusTooManyRequests)
	rcv.headers = []http.Header{{"Retry-After": {"3600"}}}
	p := fastRetry
	p.MaxElapsed = time.Second
	start := time.Now()
	err, retries := retried(t, rcv.URL, time.Second, p)
	if err == nil || !strings.Contains(err.Error(), "max_elapsed") || retries != 0 {
		t.Errorf("err = %v after %d retries, want give-up naming max_elapsed and no retry", err, retries)
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Errorf("waited %s for a wait it knew it could not afford", time.Since(start))
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	rcv := newReceiver(t, 500, 500, 500)
	w, _ := NewWebhook(WebhookConfig{URL: rcv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	n := Retry(w, RetryPolicy{InitialBackoff: time.Hour, MaxElapsed: 2 * time.Hour}, func(error, time.Duration) { cancel() })
	err := n.Notify(ctx, testAlert())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 20 {
			if got := p.backoff(attempt); got < want/2 || got > want {
				t.Fatalf("backoff(%d) = %s, want in [%s, %s]", attempt, got, want/2, want)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"Tue, 04 Mar 2025 02:00:30 GMT", 30 * time.Second},
		{"Tue, 04 Mar 2025 01:00:00 GMT", 0}, // past
		{"-1", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.v, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.v, got, tt.want)
		}
	}
}
