// Package api serves the collector's JSON API (docs/api.md): recent alerts
// with their triage state (filterable by host, severity, detector, alert
// status and triage status), host reports, sensor health, the triage
// actions (acknowledge, resolve, reopen, suppress, allowlist) and their
// log. It checks bearer tokens (read and admin roles) and passes the
// caller's name to collector/triage. It reads through small interfaces and
// never touches the engine directly.
package api
