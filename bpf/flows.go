//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
)

// DefaultMaxFlows is the flow maps' size as compiled into flow.c, the same
// bound as the packet path's flow table.
const DefaultMaxFlows = 262144

// Objects are the loaded programs and maps.
type Objects struct {
	objs flowObjects
	rd   reader // ReadFlows' buffers
	clk  *clock // last times: jiffies to CLOCK_MONOTONIC
}

// Options size the maps and limit name events. Zero fields take defaults.
type Options struct {
	MaxFlows   uint32 // entries of each family's flow map, 0: DefaultMaxFlows
	EventRate  uint32 // name events per second per CPU, 0: 1000
	EventBurst uint32 // token bucket depth, 0: EventRate
}

// DefaultEventRate is the name events' rate per CPU when Options leave it 0.
const DefaultEventRate = 1000

// Load loads the programs and maps with the defaults.
func Load() (*Objects, error) {
	return LoadWith(Options{})
}

// LoadMaxFlows loads the programs with flow maps of maxFlows entries each
// (0: DefaultMaxFlows).
func LoadMaxFlows(maxFlows uint32) (*Objects, error) {
	return LoadWith(Options{MaxFlows: maxFlows})
}

// LoadWith loads the programs and maps sized and limited by opts.
//
// The flows are in two maps, IPv4 (16-byte keys) and IPv6 (40-byte keys),
// each of opts.MaxFlows entries: whatever the mix of families, MaxFlows
// flows in total always fit, so the sweeper bounds the total by
// MaxFlows() and neither map fills first. The price is memory: both maps
// are preallocated.
func LoadWith(opts Options) (*Objects, error) {
	return loadSpecWith(loadFlow, opts)
}

// loadSpecWith loads the programs of a bpf2go build (loadFlow, or the
// benchmark build in tests) into Objects.
func loadSpecWith(loadSpec func() (*ebpf.CollectionSpec, error), opts Options) (*Objects, error) {
	if opts.EventRate == 0 {
		opts.EventRate = DefaultEventRate
	}
	if opts.EventBurst == 0 {
		opts.EventBurst = opts.EventRate
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock rlimit: %w", err)
	}
	spec, err := loadSpec()
	if err != nil {
		return nil, err
	}
	if opts.MaxFlows > 0 {
		spec.Maps[flowMapFlows4].MaxEntries = opts.MaxFlows
		spec.Maps[flowMapFlows6].MaxEntries = opts.MaxFlows
	}
	for name, v := range map[string]uint32{flowVarEventRate: opts.EventRate, flowVarEventBurst: opts.EventBurst} {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
	}
	o := &Objects{}
	if err := spec.LoadAndAssign(&o.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load flow programs: %+v", ve)
		}
		return nil, fmt.Errorf("load flow programs: %w", err)
	}
	// The first reading starts the tick measurement: it is done by the
	// first sweep (calibrateOver later), not waited for here.
	o.clk = &clock{prog: o.objs.ClockSync, pairs: o.objs.Clock}
	o.clk.mu.Lock()
	err = o.clk.sync()
	o.clk.mu.Unlock()
	if err != nil {
		o.objs.Close()
		return nil, err
	}
	return o, nil
}

// Close releases the programs and maps. Links made by Attach hold their
// own references and must be closed separately.
func (o *Objects) Close() error {
	return o.objs.Close()
}

// Side is one end of a flow's canonical key.
type Side uint8

const (
	SideUnknown Side = 0 // no SYN or SYN-ACK seen
	SideLo      Side = 1
	SideHi      Side = 2
)

// Key identifies a flow. Lo is the side with the smaller (address, port)
// pair as big-endian bytes, so both directions share one key.
type Key struct {
	LoAddr, HiAddr netip.Addr
	LoPort, HiPort uint16 // ICMP: Zeek pseudo-ports (type, counterpart type or code)
	Proto          uint8
	VLAN           uint16 // outermost 802.1Q id, 0 when untagged
}

// Value holds a flow's counters since it was inserted. Bytes are IP-layer
// bytes; times are CLOCK_MONOTONIC nanoseconds, counted by the kernel in
// jiffies: each is the start of the tick its packet was in (4 ms at
// HZ=250).
type Value struct {
	LoPackets, HiPackets uint64 // sent by each side
	LoBytes, HiBytes     uint64
	FirstNs, LastNs      uint64
	LoFlags, HiFlags     uint8 // TCP flags OR'd per sending side
	Initiator            Side
	FirstSender          Side // the side whose packet created the entry
}

// The kernel's keys: flowFlowKey4 in the IPv4 map, flowFlowKey (family
// 6) in the IPv6 map. A Key's family is its LoAddr's (Is4; an
// IPv4-mapped IPv6 address is IPv6, as the program keys it).

func keyFromBPF4(k *flowFlowKey4) Key {
	return Key{
		LoAddr: netip.AddrFrom4(k.AddrLo), HiAddr: netip.AddrFrom4(k.AddrHi),
		LoPort: k.PortLo, HiPort: k.PortHi, Proto: k.Proto, VLAN: k.Vlan,
	}
}

func keyToBPF4(k Key) flowFlowKey4 {
	return flowFlowKey4{
		AddrLo: k.LoAddr.As4(), AddrHi: k.HiAddr.As4(),
		PortLo: k.LoPort, PortHi: k.HiPort, Vlan: k.VLAN, Proto: k.Proto, Family: 4,
	}
}

func keyFromBPF6(k *flowFlowKey) Key {
	return Key{
		LoAddr: netip.AddrFrom16(k.AddrLo), HiAddr: netip.AddrFrom16(k.AddrHi),
		LoPort: k.PortLo, HiPort: k.PortHi, Proto: k.Proto, VLAN: k.Vlan,
	}
}

func keyToBPF6(k Key) flowFlowKey {
	return flowFlowKey{
		AddrLo: k.LoAddr.As16(), AddrHi: k.HiAddr.As16(),
		PortLo: k.LoPort, PortHi: k.HiPort, Vlan: k.VLAN, Proto: k.Proto, Family: 6,
	}
}

func (o *Objects) value(v *flowFlowValue) Value {
	return Value{
		LoPackets: v.PacketsLo, HiPackets: v.PacketsHi,
		LoBytes: v.BytesLo, HiBytes: v.BytesHi,
		FirstNs: o.clk.ns(v.FirstJiffies), LastNs: o.clk.ns(v.LastJiffies),
		LoFlags: uint8(v.FlagsLo), HiFlags: uint8(v.FlagsHi),
		Initiator: Side(v.Initiator), FirstSender: Side(v.FirstSide),
	}
}

// Flows calls fn for every flow in the maps, IPv4 then IPv6. Entries may
// change while it runs; a concurrent delete can make an iteration restart
// or skip keys, which the cilium/ebpf iterator reports as an error.
func (o *Objects) Flows(fn func(Key, Value)) error {
	if err := o.clk.Sync(); err != nil {
		return err
	}
	var (
		k4 flowFlowKey4
		k6 flowFlowKey
		v  flowFlowValue
	)
	it := o.objs.Flows4.Iterate()
	for it.Next(&k4, &v) {
		fn(keyFromBPF4(&k4), o.value(&v))
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("iterate IPv4 flows: %w", err)
	}
	it = o.objs.Flows6.Iterate()
	for it.Next(&k6, &v) {
		fn(keyFromBPF6(&k6), o.value(&v))
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("iterate IPv6 flows: %w", err)
	}
	return nil
}

// Delete removes a flow from the map (the sweeper's job once exported).
func (o *Objects) Delete(k Key) error {
	var err error
	if k.LoAddr.Is4() {
		b := keyToBPF4(k)
		err = o.objs.Flows4.Delete(&b)
	} else {
		b := keyToBPF6(k)
		err = o.objs.Flows6.Delete(&b)
	}
	if err != nil {
		return fmt.Errorf("delete flow: %w", err)
	}
	return nil
}
