package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/outflowhq/outflow/flow"
)

// JSONLines writes flow records as JSON lines. Several pipelines may share
// one: each record is encoded whole under the lock, so lines never mix.
type JSONLines struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	enc *json.Encoder
	err error
}

// NewJSONLines buffers writes to w.
func NewJSONLines(w io.Writer) *JSONLines {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &JSONLines{bw: bw, enc: json.NewEncoder(bw)}
}

// Write appends r; the first error sticks and is returned by Flush.
func (j *JSONLines) Write(r *flow.Record) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		if err := j.enc.Encode(r); err != nil {
			j.err = fmt.Errorf("write flow records: %w", err)
		}
	}
}

// Flush writes what is buffered.
func (j *JSONLines) Flush() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	return j.bw.Flush()
}
