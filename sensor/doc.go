// Package sensor runs the packet path: a source delivers frames, decode
// extracts what counts, flowtable accumulates flows and emits deltas, and
// export batches them for the collector. A Pipeline has its own table. An
// AF_PACKET fanout group runs one single-goroutine Pipeline per socket, the
// kernel keeping each flow on one socket; a replay, one source, runs as
// stages (stages.go): chunks of frames decoded on every core and counted
// in capture order, with the same records as one goroutine would emit.
//
// Time is event time: the packets' timestamps drive timeouts and exports,
// so replaying a capture gives the same records as living through it. A live
// source that goes quiet reports ErrTimeout and the pipeline advances on the
// wall clock instead.
package sensor
