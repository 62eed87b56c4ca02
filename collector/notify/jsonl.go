package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/outflowhq/outflow/collector/alert"
)

// JSONLConfig configures a JSON-lines alert log.
type JSONLConfig struct {
	Name  string `yaml:"name"` // default "jsonl" (then "jsonl-1", ...)
	Path  string `yaml:"path"` // file to append to, "-" for stdout
	Route `yaml:",inline"`
}

// JSONL appends each alert as one JSON object on its own line.
//
// Fsync policy: every alert is written with a single write(2) to a file
// opened with O_APPEND and fsynced before Notify returns, so an alert that
// was reported sent survives a crash or power loss. Alerts are rare (a few
// a minute at worst), so the cost is negligible. Stdout is not fsynced.
// The file is created 0640 and never truncated or rotated here; rotate it
// with copytruncate, which O_APPEND tolerates.
type JSONL struct {
	name   string
	mu     sync.Mutex // one line at a time, never interleaved
	w      io.Writer
	file   *os.File // synced after each alert; nil for stdout and non-regular files
	closer *os.File // nil for stdout
}

// NewJSONL opens (or creates) the log file.
func NewJSONL(c JSONLConfig) (*JSONL, error) {
	j := &JSONL{name: c.Name}
	if j.name == "" {
		j.name = "jsonl"
	}
	if c.Path == "-" {
		j.w = os.Stdout
		return j, nil
	}
	f, err := os.OpenFile(c.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("notify %s: %w", j.name, err)
	}
	j.w = f
	// Only a regular file is synced: /dev/null, a FIFO or a terminal
	// cannot be (fsync fails with EINVAL) and need not be.
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		j.file = f
	}
	j.closer = f
	return j, nil
}

func (j *JSONL) Name() string { return j.name }

func (j *JSONL) Notify(_ context.Context, a *alert.Alert) error {
	line, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("notify %s: encode alert %s: %w", j.name, a.ID, err)
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(line); err != nil {
		return fmt.Errorf("notify %s: write alert %s: %w", j.name, a.ID, err)
	}
	if j.file != nil {
		if err := j.file.Sync(); err != nil {
			return fmt.Errorf("notify %s: fsync alert %s: %w", j.name, a.ID, err)
		}
	}
	return nil
}

// Close closes the file; stdout is left open.
func (j *JSONL) Close() error {
	if j.closer == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.closer.Close(); err != nil {
		return fmt.Errorf("notify %s: close: %w", j.name, err)
	}
	return nil
}
