package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// RetryPolicy bounds how hard one alert is pushed to one notifier. Zero
// fields take the defaults shown.
type RetryPolicy struct {
	Attempts       int           `yaml:"attempts"`        // total tries, first included (5)
	InitialBackoff time.Duration `yaml:"initial_backoff"` // wait before the 2nd try (1s)
	MaxBackoff     time.Duration `yaml:"max_backoff"`     // cap on one wait (30s)
	MaxElapsed     time.Duration `yaml:"max_elapsed"`     // cap on all tries and waits (2m)
}

// Defaults for the zero fields of a RetryPolicy.
const (
	DefaultAttempts       = 5
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = 30 * time.Second
	DefaultMaxElapsed     = 2 * time.Minute
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = DefaultAttempts
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = DefaultInitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = max(DefaultMaxBackoff, p.InitialBackoff)
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	return p
}

// backoff is the wait after the given failed attempt (1-based): exponential,
// capped, with "equal jitter" (half fixed, half random) so that notifiers
// failing together do not retry in lockstep yet never retry at once.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// Retry wraps n so that each Notify retries what is worth retrying:
// timeouts, connection errors and 5xx with backoff, 429 after the
// receiver's Retry-After. Other errors (4xx, encoding, a cancelled context)
// return at once. onRetry, when not nil, is called before each wait.
func Retry(n Notifier, p RetryPolicy, onRetry func(err error, wait time.Duration)) Notifier {
	return &retrying{Notifier: n, policy: p.withDefaults(), onRetry: onRetry}
}

type retrying struct {
	Notifier
	policy  RetryPolicy
	onRetry func(error, time.Duration)
}

func (r *retrying) Notify(ctx context.Context, a *alert.Alert) error {
	p := r.policy
	ctx, cancel := context.WithTimeout(ctx, p.MaxElapsed)
	defer cancel()
	deadline, _ := ctx.Deadline()
	for attempt := 1; ; attempt++ {
		err := r.Notifier.Notify(ctx, a)
		if err == nil {
			return nil
		}
		wait, ok := retryWait(err, p.backoff(attempt))
		switch {
		case !ok:
			return err
		case attempt >= p.Attempts:
			return fmt.Errorf("%w (gave up after %s)", err, attempts(attempt))
		case time.Until(deadline) < wait:
			return fmt.Errorf("%w (gave up after %s: waiting %s more would pass max_elapsed %s)",
				err, attempts(attempt), wait.Round(time.Millisecond), p.MaxElapsed)
		}
		if r.onRetry != nil {
			r.onRetry(err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up after %s: %w)", err, attempts(attempt), context.Cause(ctx))
		case <-t.C:
		}
	}
}

// retryWait says whether err is worth another try and how long to wait:
// the receiver's Retry-After when it gave one, else the backoff.
func retryWait(err error, backoff time.Duration) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) {
		if !se.retryable() {
			return 0, false
		}
		if se.RetryAfter > 0 {
			return se.RetryAfter, true
		}
		return backoff, true
	}
	var te *transientError
	return backoff, errors.As(err, &te)
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}
