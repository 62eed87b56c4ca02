// Package collector wires the collector: it starts (or connects to) NATS,
// declares the streams, restores detection state from the KV bucket, runs
// the durable consumer into ingest → engine, and sends the alerts the engine
// raises to the alert stream, the notifiers and the API's recent list.
// Sub-packages do the work; this package only connects them and owns the
// order of start-up and shutdown.
package collector
