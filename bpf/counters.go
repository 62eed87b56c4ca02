//go:build linux

package bpf

import "fmt"

// Indexes of the counters; they must match enum counter in flow.h.
const (
	counterPackets = iota
	counterNotIP
	counterTruncated
	counterTransportTruncated
	counterFragments
	counterInserts
	counterInsertFailed
	counterNameEvents
	counterNameEventsRateLimited
	counterNameEventsLost
	counterMax
)

// Counters are the kernel's counters summed over CPUs, since load.
type Counters struct {
	Packets               uint64 // every packet seen
	NotIP                 uint64 // not IPv4/IPv6: no flow
	Truncated             uint64 // link or IP header cut or invalid: no flow
	TransportTruncated    uint64 // transport header cut: counted with ports 0
	Fragments             uint64 // non-first fragments: counted with ports 0
	Inserts               uint64 // flows created; minus deletes, the map's fill
	InsertFailed          uint64 // flows lost to a full map
	NameEvents            uint64 // name events written to the ring buffer
	NameEventsRateLimited uint64 // name events the token bucket dropped
	NameEventsLost        uint64 // name events dropped because the ring buffer was full
}

// Counters sums the per-CPU counters (struct counters, one array entry).
func (o *Objects) Counters() (Counters, error) {
	var sums [counterMax]uint64
	var perCPU [][counterMax]uint64
	if err := o.objs.Counters.Lookup(uint32(0), &perCPU); err != nil {
		return Counters{}, fmt.Errorf("read counters: %w", err)
	}
	for _, cpu := range perCPU {
		for i, n := range cpu {
			sums[i] += n
		}
	}
	return Counters{
		Packets:               sums[counterPackets],
		NotIP:                 sums[counterNotIP],
		Truncated:             sums[counterTruncated],
		TransportTruncated:    sums[counterTransportTruncated],
		Fragments:             sums[counterFragments],
		Inserts:               sums[counterInserts],
		InsertFailed:          sums[counterInsertFailed],
		NameEvents:            sums[counterNameEvents],
		NameEventsRateLimited: sums[counterNameEventsRateLimited],
		NameEventsLost:        sums[counterNameEventsLost],
	}, nil
}
