// Package flowtable counts packets into bidirectional flows: a bounded
// table keyed by the canonical 5-tuple (plus VLAN), deciding the initiator
// from the handshake and the direction from the internal networks, and
// emitting flow.Record deltas on an active interval and at idle timeout,
// close or eviction.
//
// Time is event time: the table only knows the packet timestamps and the
// "now" its caller passes to Tick. It does no I/O and does not allocate per
// packet once warm. One table is used by one goroutine.
package flowtable
