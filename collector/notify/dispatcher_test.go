package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/transport"
)

// fake records alerts; when block is set, each Notify waits for it (or ctx).
type fake struct {
	name    string
	block   chan struct{}
	started chan string // receives the alert id as Notify begins, if set
	fail    error

	mu     sync.Mutex
	got    []string
	closed bool
}

func (f *fake) Name() string { return f.name }

func (f *fake) Notify(ctx context.Context, a *alert.Alert) error {
	if f.started != nil {
		f.started <- a.ID
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.fail != nil {
		return f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, a.ID)
	return nil
}

func (f *fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fake) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func alertN(i int) *alert.Alert {
	a := testAlertMinimal()
	a.ID = fmt.Sprint(i)
	return a
}

func alerts(ids ...int) []*alert.Alert {
	var out []*alert.Alert
	for _, i := range ids {
		out = append(out, alertN(i))
	}
	return out
}

func TestDispatcherSlowNotifierDoesNotBlockOthers(t *testing.T) {
	s := newAlertStream(t)
	slow := &fake{name: "slow", block: make(chan struct{}), started: make(chan string, 10)}
	fast := &fake{name: "fast"}
	d, set := s.dispatch(t, nil, slow, fast)

	s.publish(t, alerts(0, 1, 2, 3, 4)...)
	if id := <-slow.started; id != "0" {
		t.Fatalf("slow started with %s, want 0", id)
	}
	// fast delivers everything while slow is still stuck on alert 0.
	waitFor(t, func() bool { return len(fast.ids()) == 5 })
	// One in flight, four waiting.
	waitFor(t, func() bool {
		return strings.Contains(prometheus(set), `outflow_notify_queue_length{notifier="slow"} 5`)
	})
	close(slow.block)
	if err := closeWithin(t, d, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(slow.ids(), ","); got != "0,1,2,3,4" {
		t.Errorf("slow delivered %s, want 0,1,2,3,4 in order", got)
	}
	if got := strings.Join(fast.ids(), ","); got != "0,1,2,3,4" {
		t.Errorf("fast delivered %s, want 0,1,2,3,4 in order", got)
	}
	if counter(set, "outflow_notify_sent_total", "slow") != 5 || counter(set, "outflow_notify_sent_total", "fast") != 5 {
		t.Errorf("sent counters wrong:\n%s", prometheus(set))
	}
	if !slow.closed || !fast.closed {
		t.Error("notifiers not closed")
	}
	if strings.Contains(prometheus(set), "queue_length") {
		t.Error("queue length gauge still registered after Close")
	}
}

// TestDispatcherRestartMidRetry stops the collector's side (dispatcher and
// NATS server) while an alert waits between retries: after the restart it
// is delivered, once, and a further restart sends nothing again.
func TestDispatcherRestartMidRetry(t *testing.T) {
	s := newAlertStream(t)
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	hook := func() Notifier {
		w, err := NewWebhook(WebhookConfig{Name: "hook", URL: rcv.URL})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	slowRetry := &RetryPolicy{Attempts: 5, InitialBackoff: time.Minute, MaxElapsed: time.Hour}
	d, set := s.dispatch(t, slowRetry, hook())
	s.publish(t, alertN(7))
	waitFor(t, func() bool {
		return len(rcv.requests()) == 1 && counter(set, "outflow_notify_retries_total", "hook") == 1
	})
	// Stop in the middle of the one-minute wait before the second attempt.
	if err := closeWithin(t, d, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded (the alert was still being retried)", err)
	}
	if f := counter(set, "outflow_notify_failed_total", "hook"); f != 0 {
		t.Errorf("failed = %d, want 0: an alert interrupted by a stop is not a failure", f)
	}
	s.stop()
	s.start(t)

	d2, set2 := s.dispatch(t, slowRetry, hook())
	waitFor(t, func() bool { return counter(set2, "outflow_notify_sent_total", "hook") == 1 })
	if err := closeWithin(t, d2, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := counter(set2, "outflow_notify_redelivered_total", "hook"); got != 1 {
		t.Errorf("redelivered = %d, want 1", got)
	}
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (503 before the restart, 200 after)", len(reqs))
	}
	if !bytes.Equal(reqs[0].body, reqs[1].body) {
		t.Errorf("delivered after the restart:\n%s\nwant the interrupted alert:\n%s", reqs[1].body, reqs[0].body)
	}

	s.stop()
	s.start(t)
	d3, set3 := s.dispatch(t, slowRetry, hook())
	time.Sleep(1500 * time.Millisecond) // more than one fetch wait
	if err := closeWithin(t, d3, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.requests()); n != 2 || counter(set3, "outflow_notify_sent_total", "hook") != 0 {
		t.Errorf("after a second restart: %d requests (want 2), sent %d (want 0)", n, counter(set3, "outflow_notify_sent_total", "hook"))
	}
}

func TestDispatcherCountsFailuresAndRetries(t *testing.T) {
	s := newAlertStream(t)
	rcv := newReceiver(t, 500, 500, 400)
	w, _ := NewWebhook(WebhookConfig{Name: "hook", URL: rcv.URL})
	set := metrics.NewSet()
	var logs bytes.Buffer
	d := NewDispatcher(set, slogTo(&logs))
	if err := d.Add(w, Options{Retry: &fastRetry}); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background(), s.js); err != nil {
		t.Fatal(err)
	}
	s.publish(t, alertN(1)) // 500, 500, 400: failed after 2 retries
	s.publish(t, alertN(2)) // 200
	if err := closeWithin(t, d, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for metric, want := range map[string]uint64{
		"outflow_notify_sent_total": 1, "outflow_notify_failed_total": 1,
		"outflow_notify_retries_total": 2, "outflow_notify_dropped_total": 0,
		"outflow_notify_redelivered_total": 0, "outflow_notify_skipped_total": 0,
	} {
		if got := counter(set, metric, "hook"); got != want {
			t.Errorf("%s = %d, want %d", metric, got, want)
		}
	}
	if n := len(rcv.requests()); n != 4 {
		t.Errorf("receiver got %d requests, want 4 (a 400 is not retried, nor redelivered)", n)
	}
	if !strings.Contains(logs.String(), "HTTP 400") || !strings.Contains(logs.String(), "notifier=hook") {
		t.Errorf("log does not report the failure:\n%s", logs.String())
	}
}

// TestDispatcherCountsDiscarded: alerts the stream discards before a slow
// notifier reaches them are counted as dropped for it.
func TestDispatcherCountsDiscarded(t *testing.T) {
	s := newAlertStream(t)
	ctx := context.Background()
	st, err := s.js.Stream(ctx, transport.AlertStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.MaxMsgs = 3
	if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	stuck := &fake{name: "stuck", block: make(chan struct{}), started: make(chan string, 10)}
	d, set := s.dispatch(t, nil, stuck)
	s.publish(t, alertN(0))
	<-stuck.started
	s.publish(t, alerts(1, 2, 3, 4, 5)...) // the stream keeps 3, 4, 5
	close(stuck.block)
	waitFor(t, func() bool { return len(stuck.ids()) == 4 })
	if err := closeWithin(t, d, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(stuck.ids(), ","); got != "0,3,4,5" {
		t.Errorf("delivered %s, want 0,3,4,5", got)
	}
	if got := counter(set, "outflow_notify_dropped_total", "stuck"); got != 2 {
		t.Errorf("dropped = %d, want 2", got)
	}
}

func TestDispatcherSkipsAndUnreadable(t *testing.T) {
	s := newAlertStream(t)
	skipper := &fake{name: "routed", fail: ErrSkipped}
	d, set := s.dispatch(t, nil, skipper)
	if _, err := s.js.Publish(context.Background(), "outflow.alerts.warning.10-0-0-1", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	s.publish(t, alertN(1))
	waitFor(t, func() bool { return counter(set, "outflow_notify_skipped_total", "routed") == 1 })
	if err := closeWithin(t, d, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if f, sent := counter(set, "outflow_notify_failed_total", "routed"), counter(set, "outflow_notify_sent_total", "routed"); f != 1 || sent != 0 {
		t.Errorf("failed %d sent %d, want 1 (the unreadable message) and 0", f, sent)
	}
}

func TestDispatcherAddRejects(t *testing.T) {
	s := newAlertStream(t)
	d := NewDispatcher(metrics.NewSet(), nil)
	if err := d.Add(&fake{name: "a.b"}, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.b", "a_b", `a"}`} {
		if err := d.Add(&fake{name: name}, Options{}); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if err := d.Start(context.Background(), s.js); err != nil {
		t.Fatal(err)
	}
	if err := d.Add(&fake{name: "c"}, Options{}); err == nil {
		t.Error("Add after Start accepted")
	}
	d.Close(context.Background())
	if err := d.Add(&fake{name: "b"}, Options{}); err == nil {
		t.Error("Add after Close accepted")
	}
}

func TestDispatcherSharedSet(t *testing.T) {
	set := metrics.NewSet()
	d1, d2 := NewDispatcher(set, nil), NewDispatcher(set, nil)
	if err := d1.Add(&fake{name: "a"}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := d2.Add(&fake{name: "a"}, Options{}); err == nil {
		t.Error("second live Dispatcher registered the same queue gauge")
	}
	d1.Close(context.Background())
	// Closed: the name is free again.
	if err := d2.Add(&fake{name: "a"}, Options{}); err != nil {
		t.Fatal(err)
	}
	d2.Close(context.Background())
}

func prometheus(set *metrics.Set) string {
	var b bytes.Buffer
	set.WritePrometheus(&b)
	return b.String()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}
