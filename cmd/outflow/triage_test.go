package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/outflowhq/outflow/collector"
	"github.com/outflowhq/outflow/collector/api"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/httpserver"
	"github.com/outflowhq/outflow/transport"
	"github.com/outflowhq/outflow/wire"
)

const (
	adminToken = "admin-secret-0123456789"
	readToken  = "read-secret-0123456789"
)

// triageCollector is a collector started by startCollector on dir, with an
// admin token (alice) and a read token (wall); edit may change its config.
type triageCollector struct {
	t    *testing.T
	col  *collector.Collector
	srv  *httpserver.Server
	stop func()
	seq  uint64
}

func startTriageCollector(t *testing.T, dir string, seq uint64, edit func(*config.Collector)) *triageCollector {
	t.Helper()
	f, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cc := f.Collector
	cc.DataDir, cc.Listen, cc.NATS.Listen = dir, "127.0.0.1:0", ""
	cc.API.Tokens = []api.Token{{Name: "alice", Token: adminToken, Role: "admin"}, {Name: "wall", Token: readToken}}
	if edit != nil {
		edit(&cc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	col, srv, err := startCollector(ctx, &cc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- col.Run(ctx) }()
	tc := &triageCollector{t: t, col: col, srv: srv, seq: seq}
	tc.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := stopCollector(col, srv); err != nil {
			t.Error(err)
		}
	}
	return tc
}

var (
	triageT0     = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	triageHost   = netip.MustParseAddr("10.30.0.5")
	triageRemote = netip.MustParseAddr("198.51.100.9")
)

// upload publishes 1.2 GB from the host to remote at t0+at (over the 1 GiB
// backstop: a volume alert while the host is learning), then a quiet batch
// 15 minutes later so the watermark passes it, and waits until both are
// handled.
func (tc *triageCollector) upload(at time.Duration, remote netip.Addr) {
	tc.t.Helper()
	when := triageT0.Add(at)
	tc.publish(when.Add(time.Minute), flow.Record{Proto: 6, Direction: flow.Outbound, SrcAddr: triageHost, DstAddr: remote,
		SrcPort: 50000, DstPort: 443, SrcBytes: 1_200_000_000, DstBytes: 200_000, SrcPackets: 800_000, DstPackets: 20_000,
		Start: when.Add(-10 * time.Minute), End: when, FlowStart: when.Add(-10 * time.Minute)})
	tc.publish(when.Add(15*time.Minute), flow.Record{Proto: 17, Direction: flow.Outbound, SrcAddr: triageHost, DstAddr: netip.MustParseAddr("192.0.2.123"),
		SrcPort: 123, DstPort: 123, SrcBytes: 76, DstBytes: 76, SrcPackets: 1, DstPackets: 1,
		Start: when.Add(14 * time.Minute), End: when.Add(14 * time.Minute), FlowStart: when.Add(14 * time.Minute)})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ok, err := tc.col.Drained(context.Background()); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tc.t.Fatal("collector did not drain within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (tc *triageCollector) publish(clock time.Time, r flow.Record) {
	tc.t.Helper()
	tc.seq++
	b := &wire.Batch{SensorID: "gw", RunID: 1, Sequence: tc.seq, Partitions: 1, Clock: clock, Flows: []flow.Record{r}}
	data, err := wire.Encode(b, nil)
	if err != nil {
		tc.t.Fatal(err)
	}
	m := &nats.Msg{Subject: transport.FlowSubject(0, "gw"), Data: data, Header: nats.Header{wire.HeaderSchema: []string{"1"}}}
	if _, err := tc.col.JetStream().PublishMsg(context.Background(), m); err != nil {
		tc.t.Fatal(err)
	}
}

// call sends a request with token ("" for none) and returns the status and
// the decoded JSON body.
func (tc *triageCollector) call(method, path, token, body string) (int, map[string]any) {
	tc.t.Helper()
	req, err := http.NewRequest(method, "http://"+tc.srv.Addr()+path, strings.NewReader(body))
	if err != nil {
		tc.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		tc.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, data, err)
	}
	return resp.StatusCode, m
}

// metric reads one counter from /metrics (0 when absent).
func metric(t *testing.T, addr, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(name+" ")); ok {
			return string(v)
		}
	}
	return "0"
}

// The triage API end to end: tokens and roles, an acknowledgement with
// who and when, a suppression that suppresses (counted, no alert), and
// state that survives a collector restart.
func TestTriageAPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tc := startTriageCollector(t, dir, 0, nil)
	tc.upload(5*time.Minute, triageRemote)
	alerts := tc.col.Alerts()
	if len(alerts) != 1 || alerts[0].Host != triageHost.String() || !slices.Equal(alerts[0].Detectors, []string{"volume"}) {
		t.Fatalf("alerts after the upload: %+v", alerts)
	}
	id := alerts[0].ID
	ack := "/api/v1/alerts/" + id + "/acknowledge"

	auth := []struct {
		method, path, token, body string
		code                      int
		err                       string
	}{
		{"GET", "/api/v1/alerts", "", "", 401, "missing token: send Authorization: Bearer <token>"},
		{"GET", "/api/v1/alerts", "wrong", "", 401, "unknown token"},
		{"POST", ack, "", `{}`, 401, "missing token: send Authorization: Bearer <token>"},
		{"POST", ack, readToken, `{}`, 403, `token "wall" is read-only: triage actions need an admin token`},
		{"POST", "/api/v1/alerts/nope/acknowledge", adminToken, `{}`, 404, "no recent alert with id nope"},
		{"POST", ack, adminToken, `{"note": 1}`, 400, "note: want a string"},
		{"POST", ack, adminToken, `{"notes": "x"}`, 400, "notes: unknown field"},
		{"POST", "/api/v1/alerts/" + id + "/suppress", adminToken, `{"duration": "forever"}`, 400, `duration: want a duration such as 30m, 4h or 168h, got "forever"`},
		{"POST", "/api/v1/alerts/" + id + "/suppress", adminToken, `{"duration": "1h", "detector": "psychic"}`, 400, `detector: unknown detector "psychic"`},
		{"GET", "/api/v1/alerts?triage=maybe", readToken, "", 400, `triage: want one of ["open","acknowledged","resolved"], got "maybe"`},
	}
	for _, c := range auth {
		code, m := tc.call(c.method, c.path, c.token, c.body)
		if code != c.code || m["error"] != c.err {
			t.Errorf("%s %s (token %q): %d %q, want %d %q", c.method, c.path, c.token, code, m["error"], c.code, c.err)
		}
	}

	before := time.Now().UTC().Truncate(time.Second)
	code, m := tc.call("POST", ack, adminToken, `{"note": "checking with the user"}`)
	st, _ := m["state"].(map[string]any)
	at, _ := time.Parse(time.RFC3339Nano, str(st["at"]))
	if code != 200 || st["status"] != "acknowledged" || st["by"] != "alice" || st["note"] != "checking with the user" ||
		at.Before(before) || at.After(time.Now()) {
		t.Fatalf("acknowledge: %d %v", code, m)
	}
	// Filters see the triage state; a read token may read.
	for q, want := range map[string]int{"?triage=acknowledged": 1, "?triage=open": 0, "?host=10.30.0.5&detector=volume&severity=critical": 1, "?status=resolved": 0} {
		if code, m := tc.call("GET", "/api/v1/alerts"+q, readToken, ""); code != 200 || len(m["alerts"].([]any)) != want {
			t.Errorf("alerts%s: %d, %d alerts, want %d", q, code, len(m["alerts"].([]any)), want)
		}
	}

	// Suppress the remote for volume: the next upload to it is counted as
	// allowlisted evidence and raises nothing (the first incident stays
	// as it was: traffic to its remote keeps it open).
	code, m = tc.call("POST", "/api/v1/alerts/"+id+"/suppress", adminToken, `{"remote": "198.51.100.9", "detector": "volume", "duration": "2h"}`)
	if code != 200 {
		t.Fatalf("suppress: %d %v", code, m)
	}
	ruleID := str(m["rule"].(map[string]any)["id"])
	tc.upload(2*time.Hour+5*time.Minute, triageRemote)
	if got := metric(t, tc.srv.Addr(), `outflow_collector_evidence_allowlisted_total{detector="volume"}`); got != "1" {
		t.Errorf("allowlisted volume evidence = %s, want 1", got)
	}
	if as := tc.col.Alerts(); len(as) != 1 || as[0].ID != id || as[0].Update != 0 {
		t.Errorf("alerts after the suppressed upload: %+v", as)
	}
	// Without a remote it is a window for the host: an upload elsewhere is
	// silenced.
	if code, m := tc.call("POST", "/api/v1/alerts/"+id+"/suppress", adminToken, `{"duration": "1h", "note": "migration"}`); code != 200 {
		t.Fatalf("suppress without remote: %d %v", code, m)
	}
	tc.upload(3*time.Hour+5*time.Minute, netip.MustParseAddr("203.0.113.50"))
	if got := metric(t, tc.srv.Addr(), `outflow_collector_evidence_silenced_total{detector="volume"}`); got != "1" {
		t.Errorf("silenced volume evidence = %s, want 1", got)
	}
	if as := tc.col.Alerts(); len(as) != 1 {
		t.Errorf("alerts after the silenced upload: %+v", as)
	}
	_, m = tc.call("GET", "/api/v1/actions", readToken, "")
	var log []string
	for _, a := range m["actions"].([]any) {
		a := a.(map[string]any)
		log = append(log, str(a["by"])+" "+str(a["action"])+" "+str(a["alert"]))
	}
	if want := []string{"alice suppress " + id, "alice suppress " + id, "alice acknowledge " + id}; !slices.Equal(log, want) {
		t.Errorf("action log = %q, want %q", log, want)
	}
	seq := tc.seq
	tc.stop()

	// After a restart on the same data: the rule and the log are back and
	// the suppression still suppresses.
	tc = startTriageCollector(t, dir, seq, nil)
	defer tc.stop()
	_, m = tc.call("GET", "/api/v1/rules", readToken, "")
	if rules := m["rules"].([]any); len(rules) != 2 || rules[0].(map[string]any)["id"] != ruleID {
		t.Fatalf("rules after restart: %v", m)
	}
	if _, m = tc.call("GET", "/api/v1/actions?alert="+id, readToken, ""); len(m["actions"].([]any)) != 3 {
		t.Errorf("log after restart: %v", m)
	}
	tc.upload(4*time.Hour+5*time.Minute, triageRemote)
	if got := metric(t, tc.srv.Addr(), `outflow_collector_evidence_allowlisted_total{detector="volume"}`); got != "1" {
		t.Errorf("allowlisted volume evidence after restart = %s, want 1", got)
	}
	// The recent list is restored from the alert stream; the suppressed
	// upload added nothing to it.
	if as := tc.col.Alerts(); len(as) != 1 || as[0].ID != id {
		t.Errorf("alerts after restart: %+v, want only the restored %s", as, id)
	}
}

// Without tokens the API reads for everyone and refuses every action,
// naming the key to configure.
func TestTriageWithoutTokens(t *testing.T) {
	tc := startTriageCollector(t, filepath.Join(t.TempDir(), "data"), 0, func(c *config.Collector) { c.API.Tokens = nil })
	defer tc.stop()
	tc.upload(5*time.Minute, triageRemote)
	code, m := tc.call("GET", "/api/v1/alerts", "", "")
	if code != 200 || len(m["alerts"].([]any)) != 1 {
		t.Fatalf("alerts: %d %v", code, m)
	}
	id := str(m["alerts"].([]any)[0].(map[string]any)["id"])
	code, m = tc.call("POST", "/api/v1/alerts/"+id+"/acknowledge", adminToken, `{}`)
	if want := "triage actions need an admin token and none is configured (collector.api.tokens)"; code != 403 || m["error"] != want {
		t.Errorf("action without tokens: %d %v", code, m)
	}
	if code, m = tc.call("GET", "/api/v1/whoami", "", ""); code != 200 || m["role"] != "read" || m["tokens"] != false {
		t.Errorf("whoami: %d %v", code, m)
	}
}

func str(v any) string { s, _ := v.(string); return s }
