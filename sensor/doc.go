// Package sensor runs the packet path: a source delivers frames, decode
// extracts what counts, flowtable accumulates flows and emits deltas, and
// export batches them for the collector. One Pipeline is one goroutine with
// its own table; an AF_PACKET fanout group runs one Pipeline per socket,
// the kernel keeping each flow on one socket.
//
// Time is event time: the packets' timestamps drive timeouts and exports,
// so replaying a capture gives the same records as living through it. A live
// source that goes quiet reports ErrTimeout and the pipeline advances on the
// wall clock instead.
package sensor
