// Package state stores the collector's learned state (baselines,
// destination history) in a NATS JetStream KV bucket, so a restarted or
// fail-over collector resumes from it. It implements engine.Store and knows
// nothing of what the values mean.
package state
