// Package notify delivers alerts to people and systems: a JSON-lines file,
// a generic webhook (Alertmanager's payload), Slack, Microsoft Teams,
// Mattermost, Discord, Google Chat and an Alertmanager's API, each a driver
// behind the small Notifier interface, each behind a route (severities,
// detectors, send_resolved). It owns delivery (retries with backoff,
// Retry-After, metrics), the rendering of an alert for each target and
// that target's size limits. It must not decide what is alerted or when:
// alerts arrive finished from the engine and are never modified here.
package notify
