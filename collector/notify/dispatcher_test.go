package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/outflowhq/outflow/collector/alert"
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

func TestDispatcherSlowNotifierDoesNotBlockOthers(t *testing.T) {
	set := metrics.NewSet()
	d := NewDispatcher(set, nil)
	slow := &fake{name: "slow", block: make(chan struct{}), started: make(chan string, 10)}
	fast := &fake{name: "fast"}
	if err := d.Add(slow, Options{QueueSize: 1}); err != nil {
		t.Fatal(err)
	}
	if err := d.Add(fast, Options{QueueSize: 10}); err != nil {
		t.Fatal(err)
	}

	d.Dispatch(alertN(0))
	<-slow.started // slow now holds alert 0; its queue is empty
	for i := 1; i < 5; i++ {
		d.Dispatch(alertN(i)) // 1 waits in slow's queue, 2..4 are dropped for slow
	}
	if got := counter(set, "outflow_notify_dropped_total", "slow"); got != 3 {
		t.Errorf("slow dropped %d, want 3", got)
	}
	if got := counter(set, "outflow_notify_dropped_total", "fast"); got != 0 {
		t.Errorf("fast dropped %d, want 0", got)
	}
	if !strings.Contains(prometheus(set), `outflow_notify_queue_length{notifier="slow"} 1`) {
		t.Errorf("queue length of slow is not 1:\n%s", prometheus(set))
	}
	// fast delivers everything while slow is still stuck on alert 0.
	waitFor(t, func() bool { return len(fast.ids()) == 5 })

	close(slow.block)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(slow.ids(), ","); got != "0,1" {
		t.Errorf("slow delivered %s, want 0,1", got)
	}
	if counter(set, "outflow_notify_sent_total", "slow") != 2 || counter(set, "outflow_notify_sent_total", "fast") != 5 {
		t.Errorf("sent counters wrong:\n%s", prometheus(set))
	}
	if !slow.closed || !fast.closed {
		t.Error("notifiers not closed")
	}
	d.Dispatch(alertN(9)) // after Close: dropped, no panic
	if got := counter(set, "outflow_notify_dropped_total", "fast"); got != 1 {
		t.Errorf("fast dropped %d after close, want 1", got)
	}
}

func TestDispatcherCloseDeadline(t *testing.T) {
	set := metrics.NewSet()
	d := NewDispatcher(set, nil)
	stuck := &fake{name: "stuck", block: make(chan struct{}), started: make(chan string, 10)}
	if err := d.Add(stuck, Options{QueueSize: 10}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		d.Dispatch(alertN(i))
	}
	<-stuck.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := d.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want DeadlineExceeded", err)
	}
	// The alert in flight failed; the two never attempted count as dropped.
	if f, dr := counter(set, "outflow_notify_failed_total", "stuck"), counter(set, "outflow_notify_dropped_total", "stuck"); f != 1 || dr != 2 {
		t.Errorf("failed %d dropped %d, want 1 and 2", f, dr)
	}
	if !stuck.closed {
		t.Error("notifier not closed")
	}
}

func TestDispatcherCountsFailuresAndRetries(t *testing.T) {
	set := metrics.NewSet()
	var logs bytes.Buffer
	d := NewDispatcher(set, slogTo(&logs))
	rcv := newReceiver(t, 500, 500, 400)
	w, _ := NewWebhook(WebhookConfig{Name: "hook", URL: rcv.URL})
	if err := d.Add(w, Options{Retry: &fastRetry}); err != nil {
		t.Fatal(err)
	}
	d.Dispatch(alertN(1)) // 500, 500, 400: failed after 2 retries
	d.Dispatch(alertN(2)) // 200
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for metric, want := range map[string]uint64{
		"outflow_notify_sent_total": 1, "outflow_notify_failed_total": 1,
		"outflow_notify_retries_total": 2, "outflow_notify_dropped_total": 0,
	} {
		if got := counter(set, metric, "hook"); got != want {
			t.Errorf("%s = %d, want %d", metric, got, want)
		}
	}
	if !strings.Contains(logs.String(), "HTTP 400") || !strings.Contains(logs.String(), "notifier=hook") {
		t.Errorf("log does not report the failure:\n%s", logs.String())
	}
	if strings.Contains(prometheus(set), "queue_length") {
		t.Error("queue length gauge still registered after Close")
	}
}

func TestDispatcherAddRejects(t *testing.T) {
	d := NewDispatcher(metrics.NewSet(), nil)
	if err := d.Add(&fake{name: "a"}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := d.Add(&fake{name: "a"}, Options{}); err == nil {
		t.Error("duplicate name accepted")
	}
	if err := d.Add(&fake{name: `a"}`}, Options{}); err == nil {
		t.Error("name unusable as a label accepted")
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
	d1.Dispatch(alertN(1))
	d1.Close(context.Background())
	// Closed: the name is free again and the counters carry over.
	if err := d2.Add(&fake{name: "a"}, Options{}); err != nil {
		t.Fatal(err)
	}
	d2.Close(context.Background())
	if got := counter(set, "outflow_notify_sent_total", "a"); got != 1 {
		t.Errorf("sent %d, want 1", got)
	}
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
