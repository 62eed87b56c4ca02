package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// Notifier delivers one alert somewhere. Drivers make one attempt per
// Notify call and leave retries to Retry (the Dispatcher wires it), so the
// policy lives in one place. Notify must be safe for concurrent use and must
// not modify the alert.
type Notifier interface {
	// Name identifies the notifier in errors, logs and metric labels.
	Name() string
	Notify(ctx context.Context, a *alert.Alert) error
	Close() error
}

// StatusError is returned when a receiver answers with a status other than
// 2xx. Retry retries 5xx and 429 (waiting RetryAfter when the receiver set
// it) and gives up on every other status.
type StatusError struct {
	Notifier   string
	Status     int
	Body       string        // short excerpt of the response body
	RetryAfter time.Duration // from the Retry-After header, 0 when absent
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("notify %s: HTTP %d %s", e.Notifier, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

func (e *StatusError) retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// transientError marks a failure worth retrying: a timeout or a connection
// error before the receiver answered.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }
