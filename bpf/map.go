//go:build linux

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// readBatch is how many entries one BPF_MAP_LOOKUP_BATCH call returns at
// most: large enough that a full default map is 64 system calls, small
// enough that the buffers stay at ~400 KiB.
const readBatch = 4096

// reader holds the buffers ReadFlows reuses between calls.
type reader struct {
	keys    []flowFlowKey
	vals    []flowFlowValue
	noBatch bool // the kernel has no batch operations for hash maps
}

// ReadFlows calls fn for every flow in the map, reading them in batches
// (BPF_MAP_LOOKUP_BATCH, Linux 5.6+) or, on kernels without batch
// operations, one by one with the map iterator. fn's arguments are only
// valid during the call. Entries the programs add or change while it runs
// may be seen or not; none is seen twice. ReadFlows is not safe for
// concurrent use; it returns how many flows it read.
func (o *Objects) ReadFlows(fn func(*Key, *Value)) (int, error) {
	if !o.rd.noBatch {
		n, err := o.readBatches(fn)
		if !errors.Is(err, ebpf.ErrNotSupported) {
			return n, err
		}
		if n > 0 {
			return n, err // never switch half-way: entries would repeat
		}
		o.rd.noBatch = true
	}
	n := 0
	err := o.Flows(func(k Key, v Value) {
		n++
		fn(&k, &v)
	})
	return n, err
}

func (o *Objects) readBatches(fn func(*Key, *Value)) (int, error) {
	if o.rd.keys == nil {
		o.rd.keys = make([]flowFlowKey, readBatch)
		o.rd.vals = make([]flowFlowValue, readBatch)
	}
	var (
		cursor ebpf.MapBatchCursor
		total  int
		k      Key
		v      Value
	)
	for {
		n, err := o.objs.Flows.BatchLookup(&cursor, o.rd.keys, o.rd.vals, nil)
		for i := range n {
			k, v = keyFromBPF(&o.rd.keys[i]), valueFromBPF(&o.rd.vals[i])
			fn(&k, &v)
		}
		total += n
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read flows: %w", err)
		}
	}
}

// Take removes a flow from the map and returns its counters as they were
// at that moment, so that packets counted after the flow was last read
// are not lost. ok is false when the flow was not in the map.
func (o *Objects) Take(k Key) (v Value, ok bool, err error) {
	b := keyToBPF(k)
	var bv flowFlowValue
	err = o.objs.Flows.LookupAndDelete(&b, &bv)
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return Value{}, false, nil
	}
	if err != nil {
		return Value{}, false, fmt.Errorf("take flow: %w", err)
	}
	return valueFromBPF(&bv), true, nil
}

// MaxFlows is the flow map's size.
func (o *Objects) MaxFlows() int { return int(o.objs.Flows.MaxEntries()) }
