package flow

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// jsonRecord is the JSON-lines form of a Record ("flow line"), used by
// `outflow analyze --flows` and `outflow sensor --flows`.
type jsonRecord struct {
	Proto            uint8     `json:"proto"`
	VLAN             uint16    `json:"vlan,omitempty"`
	SrcAddr          string    `json:"src_addr"`
	SrcPort          uint16    `json:"src_port"`
	DstAddr          string    `json:"dst_addr"`
	DstPort          uint16    `json:"dst_port"`
	SrcBytes         uint64    `json:"src_bytes"`
	DstBytes         uint64    `json:"dst_bytes"`
	SrcPackets       uint64    `json:"src_packets"`
	DstPackets       uint64    `json:"dst_packets"`
	Start            time.Time `json:"start"`
	End              time.Time `json:"end"`
	FlowStart        time.Time `json:"flow_start"`
	SrcFlags         uint8     `json:"src_tcp_flags,omitempty"`
	DstFlags         uint8     `json:"dst_tcp_flags,omitempty"`
	Direction        string    `json:"direction"`
	InitiatorFromSYN bool      `json:"initiator_from_syn"`
	Final            bool      `json:"final"`
	SrcName          string    `json:"src_name,omitempty"`
	DstName          string    `json:"dst_name,omitempty"`
	Query            string    `json:"query,omitempty"`
}

// MarshalJSON writes the flow-line form.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonRecord{
		Proto: r.Proto, VLAN: r.VLAN,
		SrcAddr: r.SrcAddr.String(), SrcPort: r.SrcPort,
		DstAddr: r.DstAddr.String(), DstPort: r.DstPort,
		SrcBytes: r.SrcBytes, DstBytes: r.DstBytes,
		SrcPackets: r.SrcPackets, DstPackets: r.DstPackets,
		Start: r.Start.UTC(), End: r.End.UTC(), FlowStart: r.FlowStart.UTC(),
		SrcFlags: r.SrcFlags, DstFlags: r.DstFlags,
		Direction:        r.Direction.String(),
		InitiatorFromSYN: r.InitiatorFromSYN, Final: r.Final,
		SrcName: r.SrcName, DstName: r.DstName, Query: r.Query,
	})
}

// UnmarshalJSON reads the flow-line form; errors name the bad field.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j jsonRecord
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	src, err := netip.ParseAddr(j.SrcAddr)
	if err != nil {
		return fmt.Errorf("flow record: src_addr: %w", err)
	}
	dst, err := netip.ParseAddr(j.DstAddr)
	if err != nil {
		return fmt.Errorf("flow record: dst_addr: %w", err)
	}
	dir, ok := ParseDirection(j.Direction)
	if !ok {
		return fmt.Errorf("flow record: direction: unknown value %q", j.Direction)
	}
	*r = Record{
		Proto: j.Proto, VLAN: j.VLAN, SrcAddr: src, DstAddr: dst,
		SrcPort: j.SrcPort, DstPort: j.DstPort,
		SrcBytes: j.SrcBytes, DstBytes: j.DstBytes,
		SrcPackets: j.SrcPackets, DstPackets: j.DstPackets,
		Start: j.Start, End: j.End, FlowStart: j.FlowStart,
		SrcFlags: j.SrcFlags, DstFlags: j.DstFlags, Direction: dir,
		InitiatorFromSYN: j.InitiatorFromSYN, Final: j.Final,
		SrcName: j.SrcName, DstName: j.DstName, Query: j.Query,
	}
	return nil
}
