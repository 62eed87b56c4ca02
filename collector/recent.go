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

// add appends as; an update replaces the alert with the same id (the
// incident's latest state, moved to the newest place).
func (r *recent) add(as []alert.Alert) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range as {
		if i := slices.IndexFunc(r.list, func(x alert.Alert) bool { return x.ID == a.ID }); i >= 0 {
			r.list = slices.Delete(r.list, i, i+1)
		}
		r.list = append(r.list, a)
	}
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
