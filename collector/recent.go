package collector

import (
	"slices"
	"sync"

	"github.com/outflowhq/outflow/collector/alert"
)

// recent keeps the newest alerts for the API, bounded; older ones live in
// the alert stream and the JSON-lines file.
type recent struct {
	mu   sync.Mutex
	max  int
	list []alert.Alert
}

func (r *recent) add(as []alert.Alert) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, as...)
	if over := len(r.list) - r.max; over > 0 {
		r.list = slices.Delete(r.list, 0, over)
	}
}

// Alerts returns the newest first.
func (r *recent) Alerts() []alert.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.list)
	slices.Reverse(out)
	return out
}
