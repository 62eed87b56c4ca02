//go:build linux

package bpf

import "fmt"

// Indexes of the counters array; they must match enum counter in flow.h.
const (
	counterPackets = iota
	counterNotIP
	counterTruncated
	counterTransportTruncated
	counterFragments
	counterInserts
	counterInsertFailed
	counterMax
)

// Counters are the kernel's counters summed over CPUs, since load.
type Counters struct {
	Packets            uint64 // every packet seen
	NotIP              uint64 // not IPv4/IPv6: no flow
	Truncated          uint64 // link or IP header cut or invalid: no flow
	TransportTruncated uint64 // transport header cut: counted with ports 0
	Fragments          uint64 // non-first fragments: counted with ports 0
	Inserts            uint64 // flows created; minus deletes, the map's fill
	InsertFailed       uint64 // flows lost to a full map
}

// Counters sums the per-CPU counters.
func (o *Objects) Counters() (Counters, error) {
	var sums [counterMax]uint64
	var perCPU []uint64
	for i := range uint32(counterMax) {
		if err := o.objs.Counters.Lookup(&i, &perCPU); err != nil {
			return Counters{}, fmt.Errorf("read counter %d: %w", i, err)
		}
		for _, n := range perCPU {
			sums[i] += n
		}
	}
	return Counters{
		Packets:            sums[counterPackets],
		NotIP:              sums[counterNotIP],
		Truncated:          sums[counterTruncated],
		TransportTruncated: sums[counterTransportTruncated],
		Fragments:          sums[counterFragments],
		Inserts:            sums[counterInserts],
		InsertFailed:       sums[counterInsertFailed],
	}, nil
}
