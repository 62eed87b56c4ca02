package notify

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// AlertmanagerConfig configures a push to an Alertmanager's API.
type AlertmanagerConfig struct {
	Name    string            `yaml:"name"`    // default "alertmanager" (then "alertmanager-1", ...)
	URL     string            `yaml:"url"`     // Alertmanager's root, e.g. http://alertmanager:9093
	Headers map[string]string `yaml:"headers"` // extra request headers, e.g. Authorization
	TTL     time.Duration     `yaml:"ttl"`     // how long a firing alert lasts without news, default 9h
	Timeout time.Duration     `yaml:"timeout"` // one attempt, default 10s
	Retry   RetryPolicy       `yaml:"retry"`   //
	Route   `yaml:",inline"`
}

// DefaultAlertmanagerTTL is how far ahead a firing alert's endsAt is set.
// Alertmanager resolves an alert at endsAt, or resolve_timeout (5m) after
// the last push when endsAt is empty; Prometheus re-sends every minute, but
// Outflow sends only on change and a reminder every repeat_interval (4h by
// default). Two repeat intervals and an hour: one lost reminder does not
// resolve the alert, and the alert of a collector that died ends by itself.
const DefaultAlertmanagerTTL = 9 * time.Hour

// amAlertsPath is the API v2 endpoint alerts are pushed to.
const amAlertsPath = "/api/v2/alerts"

// amMaxTracked bounds the alerts whose last label set is remembered.
const amMaxTracked = 10000

// Alertmanager pushes alerts to an Alertmanager (POST /api/v2/alerts), as
// postable alerts with the labels and annotations of the webhook payload.
// A firing alert ends TTL after it was sent unless sent again; a resolved
// one ends when it was resolved. When an update changes the labels (a
// higher severity, another detector), Alertmanager would see a second
// alert: the label set sent before is ended in the same request.
type Alertmanager struct {
	jsonDriver
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	sent  map[string]amLabels // alert id -> labels last pushed while firing
	order []string            // ids in the order first pushed, to bound sent
}

// NewAlertmanager checks the URL and prepares the client; it sends nothing.
func NewAlertmanager(c AlertmanagerConfig) (*Alertmanager, error) {
	if c.Name == "" {
		c.Name = "alertmanager"
	}
	if c.TTL <= 0 {
		c.TTL = DefaultAlertmanagerTTL
	}
	url := c.URL
	if u, err := parseHTTPURL(url); err == nil && !strings.HasSuffix(u.Path, amAlertsPath) {
		u.Path = strings.TrimSuffix(u.Path, "/") + amAlertsPath
		url = u.String()
	}
	am := &Alertmanager{ttl: c.TTL, now: time.Now, sent: map[string]amLabels{}}
	d, err := newJSONDriver(c.Name, url, c.Headers, c.Timeout, nil)
	if err != nil {
		return nil, err
	}
	am.jsonDriver = d
	return am, nil
}

// amPostableAlert is Alertmanager's API v2 postableAlert.
type amPostableAlert struct {
	Labels       amLabels          `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func (am *Alertmanager) Notify(ctx context.Context, a *alert.Alert) error {
	now := am.now()
	labels := amLabelsFor(a)
	alerts := []amPostableAlert{{
		Labels:       labels,
		Annotations:  amAnnotationsFor(a),
		StartsAt:     startsAt(a),
		EndsAt:       now.Add(am.ttl),
		GeneratorURL: a.URL,
	}}
	resolved := a.Status == alert.StatusResolved
	if resolved {
		// Event time may run ahead of this clock; never leave it firing.
		alerts[0].EndsAt = resolvedAt(a)
		if alerts[0].EndsAt.After(now) {
			alerts[0].EndsAt = now
		}
	}
	am.mu.Lock()
	prev, changed := am.sent[a.ID]
	am.mu.Unlock()
	if changed && !maps.Equal(prev, labels) {
		old := alerts[0]
		old.Labels, old.EndsAt = prev, now
		alerts = append(alerts, old)
	}
	body, err := encodeJSON(alerts)
	if err != nil {
		return fmt.Errorf("notify %s: encode alert %s: %w", am.target.name, a.ID, err)
	}
	if err := am.target.post(ctx, body); err != nil {
		return err
	}
	am.remember(a.ID, labels, resolved)
	return nil
}

// remember keeps the labels of firing alerts, the oldest forgotten first
// beyond amMaxTracked (their old label set then ends with the TTL instead).
func (am *Alertmanager) remember(id string, labels amLabels, resolved bool) {
	am.mu.Lock()
	defer am.mu.Unlock()
	if resolved {
		delete(am.sent, id) // its id leaves order at the next compaction
		return
	}
	if _, ok := am.sent[id]; !ok {
		am.order = append(am.order, id)
	}
	am.sent[id] = labels
	for len(am.sent) > amMaxTracked {
		delete(am.sent, am.order[0])
		am.order = am.order[1:]
	}
	if len(am.order) > 2*amMaxTracked {
		live, seen := am.order[:0], make(map[string]bool, len(am.sent))
		for _, id := range am.order {
			if _, ok := am.sent[id]; ok && !seen[id] {
				live, seen[id] = append(live, id), true
			}
		}
		am.order = live
	}
}
