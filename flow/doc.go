// Package flow holds the vocabulary shared by sensor and collector: a flow
// Record (one bidirectional conversation, or a delta of one, as a sensor
// reports it), its Direction relative to the internal networks, and the
// Networks set that decides what is internal.
//
// It owns no state and does no I/O beyond JSON encoding of records. The wire
// encoding lives in package wire; counting lives in sensor/flowtable.
package flow
