// Package allow decides whether a piece of evidence is allowlisted (its
// remote is in a CIDR or under a domain suffix an operator trusts, for
// some hosts and detectors) or falls in a maintenance window (some hosts
// and detectors silenced during a recurring or one-off period). It owns
// the validated, indexed form of the `allow` section of collector.detect
// and answers per call without allocating. It must not count, log or drop
// anything: the engine asks, then keeps the evidence out of alerts and
// counts it, so an allowlisted destination still shows in metrics.
package allow
