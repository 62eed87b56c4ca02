package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/outflowhq/outflow/collector/alert"
)

var t0 = time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC)

func testAlert() *alert.Alert {
	return &alert.Alert{
		ID:          "a1b2c3",
		Host:        "10.1.2.3",
		Remotes:     []string{"203.0.113.9", "198.51.100.7"},
		RemoteNames: []string{"files.example.net", ""},
		Detectors:   []string{"new_destination", "volume_spike"},
		Start:       t0,
		End:         t0.Add(15 * time.Minute),
		BytesOut:    1_234_000_000,
		Score:       91,
		Severity:    alert.SeverityCritical,
		Summary:     "10.1.2.3 sent 1.2 GB in 15 min, 40x its usual for Tuesday 02:00.",
		Evidence: []alert.Evidence{{
			Detector: "volume_spike", Start: t0, End: t0.Add(15 * time.Minute),
			BytesOut: 1_234_000_000, Baseline: 30_600_000, Score: 88,
			Reason: "40x the host's usual for Tuesday 02:00",
		}},
		Sensors: []string{"gw1"},
	}
}

// request is what a test receiver saw.
type request struct {
	at     time.Time
	header http.Header
	body   []byte
}

// receiver is a real HTTP server answering with the statuses it is given,
// one per request, then 200; it records every request.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []request
	statuses []int
	headers  []http.Header // response headers, same order as statuses
	bodies   []string      // response bodies, same order; default a short error or "ok"
	hang     int           // hang (until the client gives up) on the first n requests
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	n := len(r.reqs)
	r.reqs = append(r.reqs, request{at: time.Now(), header: req.Header.Clone(), body: body})
	status, hdr, reply, hang := http.StatusOK, http.Header(nil), "", n < r.hang
	if n < len(r.statuses) {
		status = r.statuses[n]
	}
	if n < len(r.headers) {
		hdr = r.headers[n]
	}
	if n < len(r.bodies) {
		reply = r.bodies[n]
	}
	r.mu.Unlock()
	if hang {
		<-req.Context().Done() // the client timed out and closed the connection
		return
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	if reply != "" {
		io.WriteString(w, reply)
	} else if status >= 300 {
		io.WriteString(w, "  invalid_payload\n  (more detail)  ")
	} else {
		io.WriteString(w, "ok")
	}
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// fastRetry keeps the suite quick: same shape as the defaults, tiny waits.
var fastRetry = RetryPolicy{Attempts: 5, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxElapsed: 10 * time.Second}

func counter(set *metrics.Set, metric, notifier string) uint64 {
	return set.GetOrCreateCounter(metric + `{notifier="` + notifier + `"}`).Get()
}

func testAlertMinimal() *alert.Alert {
	return &alert.Alert{ID: "x", Host: "10.0.0.1", Severity: alert.SeverityInfo, Start: t0, End: t0}
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testAlertRich is testAlert as the collector sends it with
// collector.external_url and collector.host_names set, on its second update.
func testAlertRich() *alert.Alert {
	a := testAlert()
	a.HostName = "finance-pc-7"
	a.URL = "https://outflow.example.com/ui/alerts/a1b2c3"
	a.Status = alert.StatusFiring
	a.Update = 2
	a.Opened = t0.Add(-time.Hour)
	a.Evidence[0].Threshold = 122_400_000
	return a
}

// testAlertHuge breaks every limit a target has: a long summary, 400
// remotes with long and multi-byte names (which count more bytes than
// characters), 101 evidence items, a long host name, and names that try to
// format, link or mention.
func testAlertHuge() *alert.Alert {
	a := testAlertRich()
	a.HostName = strings.Repeat("h", 500)
	a.Summary = strings.Repeat("s", 3000) + strings.Repeat("é", 3000)
	a.Remotes, a.RemoteNames = nil, nil
	for i := range 400 {
		a.Remotes = append(a.Remotes, fmt.Sprintf("2001:db8::%x", i))
		a.RemoteNames = append(a.RemoteNames, fmt.Sprintf("%s-%d.例え.jp", strings.Repeat("名", 40), i))
	}
	a.RemoteNames[0] = "[click](https://evil.example) <!channel> @channel @here <users/all> " + strings.Repeat("n", 300)
	for i := range 100 {
		e := a.Evidence[0]
		e.Reason = fmt.Sprintf("reason %d %s", i, strings.Repeat("r", 200))
		a.Evidence = append(a.Evidence, e)
	}
	return a
}

// post sends a through n once and returns the one request the receiver saw.
func post(t *testing.T, n Notifier, rcv *receiver, a *alert.Alert) request {
	t.Helper()
	if err := n.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	if ct := reqs[0].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return reqs[0]
}

// endsWithMoreLine says whether a list was cut between entries.
func endsWithMoreLine(s string) bool {
	lines := strings.Split(strings.TrimSuffix(s, "\n```"), "\n")
	last := lines[len(lines)-1]
	return strings.HasPrefix(last, "… and ") && strings.HasSuffix(last, " more")
}

// decodeStrict decodes a body into a struct mirroring the target's
// documented schema and fails on any field the schema does not have.
func decodeStrict[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %.300s: %v", b, err)
	}
	return v
}
