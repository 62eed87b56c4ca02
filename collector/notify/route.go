package notify

import (
	"context"
	"fmt"
	"slices"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/engine"
)

// Route chooses which alerts one notifier gets, with Alertmanager's meaning
// of the words: empty lists match everything, and resolutions are sent
// unless send_resolved is false. It sits inline in every driver's config.
type Route struct {
	Severities   []string `yaml:"severities"`    // info, warning, critical; empty: all
	Detectors    []string `yaml:"detectors"`     // an alert matches if any of its detectors is listed; empty: all
	SendResolved *bool    `yaml:"send_resolved"` // default true
}

// Match says whether a goes to the notifier.
func (r Route) Match(a *alert.Alert) bool {
	if a.Status == alert.StatusResolved && r.SendResolved != nil && !*r.SendResolved {
		return false
	}
	if len(r.Severities) > 0 && !slices.Contains(r.Severities, string(a.Severity)) {
		return false
	}
	if len(r.Detectors) > 0 && !slices.ContainsFunc(a.Detectors, func(d string) bool { return slices.Contains(r.Detectors, d) }) {
		return false
	}
	return true
}

func (r Route) check() []fieldError {
	var errs []fieldError
	severities := []string{string(alert.SeverityInfo), string(alert.SeverityWarning), string(alert.SeverityCritical)}
	for i, s := range r.Severities {
		if !slices.Contains(severities, s) {
			errs = append(errs, fieldError{fmt.Sprintf("severities[%d]", i), fmt.Errorf("%q is not one of %q", s, severities)})
		}
	}
	detectors := engine.DetectorNames()
	for i, d := range r.Detectors {
		if !slices.Contains(detectors, d) {
			errs = append(errs, fieldError{fmt.Sprintf("detectors[%d]", i), fmt.Errorf("%q is not one of %q", d, detectors)})
		}
	}
	return errs
}

// routed applies a Route in front of a notifier. A skipped alert returns
// ErrSkipped, which the Dispatcher counts in
// outflow_notify_skipped_total{notifier} (registered with the notifier's
// other series) instead of as sent.
type routed struct {
	Notifier
	route Route
}

func withRoute(n Notifier, r Route) Notifier { return &routed{Notifier: n, route: r} }

func (r *routed) Notify(ctx context.Context, a *alert.Alert) error {
	if !r.route.Match(a) {
		return ErrSkipped
	}
	return r.Notifier.Notify(ctx, a)
}
