// Package triage keeps what analysts decide about alerts: each incident's
// triage status (open, acknowledged, resolved, with who, when and a note),
// the allowlist rules and suppressions they add from an alert, and the log
// of every action with who and when. It persists them through a Store (a
// JetStream KV bucket) and a Log (a bounded stream), reloads them on start
// and hands the rules to the detection engine through the small Allower
// interface, removing suppressions when they expire. It does not import the
// engine, serve HTTP or check tokens: collector/api does that and passes
// the caller's name.
package triage
