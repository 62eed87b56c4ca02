package triage

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/allow"
	"github.com/outflowhq/outflow/collector/state"
	"github.com/outflowhq/outflow/transport"
)

// allower records the last runtime config it was given.
type allower struct{ cfg allow.Config }

func (a *allower) SetRuntimeAllow(c allow.Config) error {
	if _, err := allow.New(c, nil); err != nil {
		return err
	}
	a.cfg = c
	return nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// open starts an embedded NATS server on dir and opens a Triage on it;
// stop shuts both down (the data stays in dir).
func open(t *testing.T, dir string, al *allower, clk *clock) (*Triage, func()) {
	t.Helper()
	emb, err := transport.StartServer(transport.ServerConfig{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := emb.Connect("triage-test")
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kv, err := transport.TriageKV(ctx, js, transport.TriageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	lg, err := transport.EnsureTriageLog(ctx, js, transport.TriageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Open(ctx, Options{Store: state.NewKV(kv), Log: lg, Allow: al, Now: clk.now, Detectors: []string{"volume", "new_destination"}})
	if err != nil {
		t.Fatal(err)
	}
	return tr, func() { nc.Close(); emb.Shutdown() }
}

var leak = alert.Alert{ID: "a1", Host: "10.0.0.7", Remotes: []string{"203.0.113.77"}, Detectors: []string{"volume"},
	Start: time.Date(2025, 3, 6, 2, 10, 0, 0, time.UTC)}

// States, rules and the action log survive a restart; unexpired rules are
// handed to the engine again, expired ones are dropped (and logged).
func TestPersistAndExpire(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	al := &allower{}
	tr, stop := open(t, dir, al, clk)

	if _, err := tr.SetStatus("alice", "a1", StatusAcknowledged, "looking"); err != nil {
		t.Fatal(err)
	}
	short, err := tr.Suppress("alice", leak, Suppression{Remote: "203.0.113.77", Detector: "volume", For: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	long, err := tr.Suppress("bob", leak, Suppression{For: 48 * time.Hour, Note: "migration"})
	if err != nil {
		t.Fatal(err)
	}
	perm, err := tr.Allowlist("bob", leak, Destination{Domain: "filebox.example"})
	if err != nil {
		t.Fatal(err)
	}
	want := allow.Config{
		Rules: []allow.Rule{
			{Remotes: []string{"203.0.113.77"}, Hosts: []string{"10.0.0.7/32"}, Detectors: []string{"volume"}, Comment: "triage suppress " + short.ID + " by alice"},
			{Domains: []string{"filebox.example"}, Hosts: []string{"10.0.0.7/32"}, Comment: "triage allowlist " + perm.ID + " by bob"},
		},
		Maintenance: []allow.Window{{Hosts: []string{"10.0.0.7/32"}, From: leak.Start, To: clk.t.Add(48 * time.Hour), Comment: "triage suppress " + long.ID + " by bob"}},
	}
	if !equalJSON(t, al.cfg, want) {
		t.Fatalf("runtime allow = %+v, want %+v", al.cfg, want)
	}
	stop()

	// Restart 90 minutes later: the one-hour suppression has expired.
	clk.t = clk.t.Add(90 * time.Minute)
	al2 := &allower{}
	tr, stop = open(t, dir, al2, clk)
	defer stop()
	if s := tr.State("a1"); s.Status != StatusAcknowledged || s.By != "alice" || s.Note != "looking" || !s.At.Equal(clk.t.Add(-90*time.Minute)) {
		t.Errorf("state after restart = %+v", s)
	}
	if s := tr.State("other"); s.Status != StatusOpen || s.By != "" {
		t.Errorf("untouched state = %+v", s)
	}
	ids := func() []string {
		var out []string
		for _, r := range tr.Rules() {
			out = append(out, r.ID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{long.ID, perm.ID}) {
		t.Errorf("rules after restart = %v, want %v", got, []string{long.ID, perm.ID})
	}
	want.Rules = want.Rules[1:]
	if !equalJSON(t, al2.cfg, want) {
		t.Errorf("runtime allow after restart = %+v, want %+v", al2.cfg, want)
	}
	var log []string
	for _, a := range tr.Actions("", 100) {
		log = append(log, a.By+" "+a.Action+" "+a.At.Format(time.RFC3339))
	}
	t0, t1 := "2026-11-21T12:00:00Z", "2026-11-21T13:30:00Z"
	if wantLog := []string{"outflow expire " + t1, "bob allowlist " + t0, "bob suppress " + t0, "alice suppress " + t0, "alice acknowledge " + t0}; !slices.Equal(log, wantLog) {
		t.Errorf("action log = %q, want %q", log, wantLog)
	}

	// The window expires on the clock; the allowlisted domain stays.
	clk.t = clk.t.Add(47 * time.Hour)
	if n := tr.Expire(); n != 1 || !slices.Equal(ids(), []string{perm.ID}) || len(al2.cfg.Maintenance) != 0 || len(al2.cfg.Rules) != 1 {
		t.Errorf("after expiry: %d expired, rules %v, allow %+v", n, ids(), al2.cfg)
	}
	if err := tr.RemoveRule("alice", perm.ID); err != nil || len(tr.Rules()) != 0 || len(al2.cfg.Rules) != 0 {
		t.Errorf("remove: %v, rules %v, allow %+v", err, ids(), al2.cfg)
	}
	if err := tr.RemoveRule("alice", perm.ID); !errors.Is(err, ErrNoRule) {
		t.Errorf("second remove: %v", err)
	}
	if a := tr.Actions(leak.ID, 1); len(a) != 1 || a[0].By != "alice" || a[0].Action != ActRemoveRule || a[0].Params["rule"] != perm.ID {
		t.Errorf("last action = %+v", a)
	}
}

func TestBadInput(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	tr, stop := open(t, t.TempDir(), &allower{}, clk)
	defer stop()
	cases := []struct {
		name  string
		err   error
		field string
	}{
		{"status", second(tr.SetStatus("a", "a1", "done", "")), "status"},
		{"duration", second(tr.Suppress("a", leak, Suppression{For: time.Second})), "duration"},
		{"remote", second(tr.Suppress("a", leak, Suppression{For: time.Hour, Remote: "nope"})), "remote"},
		{"detector", second(tr.Suppress("a", leak, Suppression{For: time.Hour, Detector: "psychic"})), "detector"},
		{"both", second(tr.Allowlist("a", leak, Destination{Remote: "203.0.113.77", Domain: "x.example"})), "remote"},
		{"domain", second(tr.Allowlist("a", leak, Destination{Domain: "*.x.example"})), "domain"},
	}
	for _, c := range cases {
		var in *InputError
		if !errors.As(c.err, &in) || in.Field != c.field {
			t.Errorf("%s: %v, want an InputError for %s", c.name, c.err, c.field)
		}
	}
	if len(tr.Rules()) != 0 || len(tr.Actions("", 10)) != 0 {
		t.Errorf("refused actions left rules %v or log %v", tr.Rules(), tr.Actions("", 10))
	}
}

func second[T any](_ T, err error) error { return err }

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(x) == string(y)
}
