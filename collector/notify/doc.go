// Package notify delivers alerts to people and systems: a JSON-lines file,
// a generic webhook and Slack, each a driver behind the small Notifier
// interface. It owns delivery (one bounded queue per notifier, retries with
// backoff, Retry-After, metrics) and the chat rendering limits of each
// service. It must not decide what is alerted or when: alerts arrive
// finished from the engine and are never modified here.
package notify
