//go:build linux

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// readBatch is how many entries one BPF_MAP_LOOKUP_BATCH call returns at
// most: large enough that a full default map is 64 system calls, small
// enough that the buffers stay at ~400 KiB per family.
const readBatch = 4096

// reader holds the buffers ReadFlows reuses between calls.
type reader struct {
	keys4   []flowFlowKey4
	keys6   []flowFlowKey
	vals    []flowFlowValue
	noBatch bool // the kernel has no batch operations for hash maps
}

// ReadFlows calls fn for every flow in the maps (IPv4, then IPv6), reading
// them in batches (BPF_MAP_LOOKUP_BATCH, Linux 5.6+) or, on kernels
// without batch operations, one by one with the map iterator. fn's
// arguments are only valid during the call. Entries the programs add or
// change while it runs may be seen or not; none is seen twice. ReadFlows
// is not safe for concurrent use; it returns how many flows it read.
func (o *Objects) ReadFlows(fn func(*Key, *Value)) (int, error) {
	if err := o.clk.Sync(); err != nil {
		return 0, err
	}
	if !o.rd.noBatch {
		if o.rd.vals == nil {
			o.rd.keys4 = make([]flowFlowKey4, readBatch)
			o.rd.keys6 = make([]flowFlowKey, readBatch)
			o.rd.vals = make([]flowFlowValue, readBatch)
		}
		n, err := readBatches(o.objs.Flows4, o.rd.keys4, o.rd.vals, keyFromBPF4, o.value, fn)
		if err == nil {
			var n6 int
			n6, err = readBatches(o.objs.Flows6, o.rd.keys6, o.rd.vals, keyFromBPF6, o.value, fn)
			n += n6
		}
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

// readBatches reads one flow map in batches into keys and vals.
func readBatches[K any](m *ebpf.Map, keys []K, vals []flowFlowValue, conv func(*K) Key, value func(*flowFlowValue) Value, fn func(*Key, *Value)) (int, error) {
	var (
		cursor ebpf.MapBatchCursor
		total  int
		k      Key
		v      Value
	)
	for {
		n, err := m.BatchLookup(&cursor, keys, vals, nil)
		for i := range n {
			k, v = conv(&keys[i]), value(&vals[i])
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
	var bv flowFlowValue
	if k.LoAddr.Is4() {
		b := keyToBPF4(k)
		err = o.objs.Flows4.LookupAndDelete(&b, &bv)
	} else {
		b := keyToBPF6(k)
		err = o.objs.Flows6.LookupAndDelete(&b, &bv)
	}
	if errors.Is(err, ebpf.ErrKeyNotExist) {
		return Value{}, false, nil
	}
	if err != nil {
		return Value{}, false, fmt.Errorf("take flow: %w", err)
	}
	return o.value(&bv), true, nil
}

// MaxFlows is how many flows the sweeper may hold in total: each family's
// map has this many entries (Options.MaxFlows), so up to MaxFlows flows
// fit in any mix of IPv4 and IPv6, and keeping the total below it keeps
// both maps from filling.
func (o *Objects) MaxFlows() int {
	return int(min(o.objs.Flows4.MaxEntries(), o.objs.Flows6.MaxEntries()))
}
