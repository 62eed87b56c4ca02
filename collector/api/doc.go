// Package api serves the collector's JSON API: recent alerts (filterable by
// host, severity and detector) and sensor health. It reads through small
// interfaces and never touches the engine directly. The triage actions and
// the web UI build on it.
package api
