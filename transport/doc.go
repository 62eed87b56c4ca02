// Package transport carries flow batches from sensors to collectors over
// NATS JetStream: it starts the embedded server the collector uses by
// default, declares the FLOWS and ALERTS streams and the state KV bucket,
// publishes batches with a de-duplication id, and runs the collector's
// durable pull consumer.
//
// Subjects: outflow.flows.<partition>.<sensor> for flow batches,
// outflow.alerts.<severity>.<host> for alerts.
//
// It knows the wire format only as bytes plus a schema header; decoding and
// what happens to the records is the caller's business.
package transport
