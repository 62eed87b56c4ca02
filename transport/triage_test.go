package transport

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The action log returns its newest entries in order, and declaring the
// bucket and stream again (a restart) keeps what they hold.
func TestTriageLogTail(t *testing.T) {
	emb, err := StartServer(ServerConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Shutdown()
	nc, err := emb.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := TriageConfig{LogMaxAge: time.Hour}
	lg, err := EnsureTriageLog(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := lg.Tail(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty log: %q, %v", got, err)
	}
	for i := range 7 {
		if err := lg.Append("acknowledge", fmt.Appendf(nil, "e%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := lg.Append("bad.kind", nil); err == nil {
		t.Error("a kind with a dot was accepted")
	}
	lg, err = EnsureTriageLog(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n    int
		want []string
	}{{3, []string{"e4", "e5", "e6"}}, {7, []string{"e0", "e1", "e2", "e3", "e4", "e5", "e6"}}, {50, []string{"e0", "e1", "e2", "e3", "e4", "e5", "e6"}}} {
		got, err := lg.Tail(ctx, c.n)
		var s []string
		for _, b := range got {
			s = append(s, string(b))
		}
		if err != nil || !slices.Equal(s, c.want) {
			t.Errorf("Tail(%d) = %q, %v; want %q", c.n, s, err, c.want)
		}
	}
	kv, err := TriageKV(ctx, js, TriageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil || st.Bucket() != TriageBucket || st.History() != 1 {
		t.Fatalf("bucket: %v %v", st, err)
	}
	info, err := js.Stream(ctx, TriageStream)
	if err != nil {
		t.Fatal(err)
	}
	if c := info.CachedInfo().Config; c.MaxAge != time.Hour || c.MaxBytes != 256<<20 || c.Discard != jetstream.DiscardOld {
		t.Errorf("log stream config: max age %s, max bytes %d, discard %v", c.MaxAge, c.MaxBytes, c.Discard)
	}
}
