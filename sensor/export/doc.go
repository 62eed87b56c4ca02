// Package export turns the flow table's records into wire batches: it
// partitions records by internal host, cuts batches when full or when the
// sensor's clock says so, numbers them, and hands them to a publisher
// goroutine through a bounded queue. It can also write every record as a
// JSON line (--flows) for debugging and tests.
//
// A live sensor must not stall capture when NATS is slow, so its queue drops
// the oldest batch when full (counted); a file replay blocks instead, so a
// replay never loses data.
package export
