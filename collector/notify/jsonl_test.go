package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/outflowhq/outflow/collector/alert"
)

func TestJSONLAppendsLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	if err := os.WriteFile(path, []byte(`{"id":"old"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := NewJSONL(JSONLConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	a := testAlert()
	if err := j.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(a)
	got, _ := os.ReadFile(path)
	if string(got) != `{"id":"old"}`+"\n"+string(want)+"\n" {
		t.Errorf("file =\n%s\nwant the old line then\n%s", got, want)
	}
}

func TestJSONLCreatesFile0640(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	j, err := NewJSONL(JSONLConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The umask may only remove bits.
	if perm := fi.Mode().Perm(); perm&^0o640 != 0 {
		t.Errorf("mode %o, want within 0640", perm)
	}
}

func TestJSONLConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	j, err := NewJSONL(JSONLConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var want []string
	for i := range 50 {
		a := testAlert()
		a.ID = fmt.Sprintf("alert-%02d", i)
		want = append(want, a.ID)
		wg.Go(func() {
			if err := j.Notify(context.Background(), a); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	j.Close()
	data, _ := os.ReadFile(path)
	var got []string
	for line := range strings.Lines(string(data)) {
		var a alert.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, a.ID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ids %v, want %v", got, want)
	}
}

func TestJSONLOpenError(t *testing.T) {
	_, err := NewJSONL(JSONLConfig{Name: "log", Path: filepath.Join(t.TempDir(), "missing", "a.jsonl")})
	if err == nil || !strings.HasPrefix(err.Error(), "notify log: ") {
		t.Errorf("err = %v, want one naming the notifier", err)
	}
}

// An alert log on /dev/null (or any non-regular file) is written without
// fsync, which such files refuse.
func TestJSONLDevNull(t *testing.T) {
	j, err := NewJSONL(JSONLConfig{Path: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Notify(context.Background(), &alert.Alert{ID: "x"}); err != nil {
		t.Fatalf("notify to %s: %v", os.DevNull, err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}
