package collector

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector/notify"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/transport"
)

// hookServer is a webhook receiver that answers 503 to its first request
// and 200 after, keeping every body.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, body)
		first := len(h.bodies) == 1
		h.mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) got() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

// TestNotifyAcrossRestart stops the collector while its webhook waits to
// retry an alert: the next start delivers that alert and the ones queued
// behind it, each once, and a third start sends nothing again.
func TestNotifyAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	hook := newHookServer(t)
	f, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cc := f.Collector
	cc.DataDir, cc.NATS.Listen = dir, ""
	cc.Detect.LearningWindows = 24
	cc.Notify = notify.Config{Webhooks: []notify.WebhookConfig{{URL: hook.URL,
		Retry: notify.RetryPolicy{Attempts: 5, InitialBackoff: time.Minute, MaxElapsed: time.Hour}}}}
	ctx := context.Background()
	start := func() (*Collector, *metrics.Set, func()) { return runTestCollector(t, cc) }

	col, set, stop := start()
	publishBatches(t, col, officeBatches())
	waitDrained(t, col)
	published := int(set.GetOrCreateCounter("outflow_collector_alerts_published_total").Get())
	if published == 0 {
		t.Fatal("no alert published")
	}
	waitUntil(t, 10*time.Second, func() bool { return len(hook.got()) == 1 }) // the 503; its retry is a minute away
	stop()
	before := col.Alerts()
	closeCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	if err := col.Close(closeCtx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded (an alert was waiting to be retried)", err)
	}
	cancel()

	col, set, stop = start()
	// The API's recent alerts come back from the alert stream.
	if got, want := js(t, col.Alerts()), js(t, before); got != want {
		t.Errorf("recent alerts after the restart:\n%s\nbefore:\n%s", got, want)
	}
	// The interrupted alert is handed out again once its ack wait passes.
	waitUntil(t, 2*transport.AlertAckWait, func() bool { return len(hook.got()) == 1+published })
	stop()
	if err := col.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got := hook.got()
	if !bytes.Equal(got[0], got[1]) {
		t.Errorf("the first request after the restart is not the interrupted alert:\n%s\n%s", got[0], got[1])
	}
	for i := 1; i < len(got); i++ {
		for j := i + 1; j < len(got); j++ {
			if bytes.Equal(got[i], got[j]) {
				t.Errorf("requests %d and %d after the restart carry the same alert", i, j)
			}
		}
	}
	if n := set.GetOrCreateCounter(`outflow_notify_redelivered_total{notifier="webhook"}`).Get(); n != 1 {
		t.Errorf("redelivered = %d, want 1", n)
	}

	col, _, stop = start()
	time.Sleep(1500 * time.Millisecond) // longer than a fetch wait
	stop()
	if err := col.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(hook.got()); n != 1+published {
		t.Errorf("a third start sent %d more requests, want none", n-1-published)
	}
}

func waitUntil(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("condition not met within %s", limit)
}
