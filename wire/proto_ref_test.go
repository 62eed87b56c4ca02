package wire

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/wire/pb"
	"google.golang.org/protobuf/proto"
)

// The reference path: proto.Unmarshal into the generated types, then the
// conversion and validation Decode did before it read the wire format
// itself. Decode must agree with it (FuzzDecodeMatchesProto) and Encode
// must write what it writes (TestEncodeMatchesProto).

// refDecode is the former Decode. m is the unmarshalled message, nil when
// proto.Unmarshal failed.
func refDecode(data []byte) (b *Batch, m *pb.Batch, err error) {
	m = new(pb.Batch)
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, nil, fmt.Errorf("decode batch: %w", err)
	}
	if m.SchemaVersion != SchemaVersion {
		return nil, m, fmt.Errorf("decode batch: %w %d (this build reads %d)", ErrSchema, m.SchemaVersion, SchemaVersion)
	}
	if m.SensorId == "" {
		return nil, m, errors.New("decode batch: sensor_id is empty")
	}
	if len(m.Flows) > MaxFlowsPerBatch {
		return nil, m, fmt.Errorf("decode batch: %d flows, more than the limit %d", len(m.Flows), MaxFlowsPerBatch)
	}
	b = &Batch{
		SensorID: m.SensorId, Sequence: m.Sequence, RunID: m.RunId,
		Clock: time.Unix(0, m.ClockUnixNano).UTC(), Partition: m.Partition, Partitions: m.Partitions,
		Flows: make([]flow.Record, len(m.Flows)),
	}
	if h := m.Health; h != nil {
		b.Health = Health{Packets: h.Packets, Bytes: h.Bytes, Drops: h.Drops, DecodeErrors: h.DecodeErrors,
			TableEntries: h.TableEntries, TableCapacity: h.TableCapacity, Evictions: h.Evictions,
			NonIP: h.NonIp, Source: h.Source}
	}
	for i, f := range m.Flows {
		if err := refFromPB(f, &b.Flows[i]); err != nil {
			return nil, m, fmt.Errorf("decode batch from %s seq %d: flow %d: %w", m.SensorId, m.Sequence, i, err)
		}
	}
	return b, m, nil
}

// refEncode is the former Encode.
func refEncode(b *Batch) ([]byte, error) {
	m := &pb.Batch{
		SchemaVersion: SchemaVersion,
		SensorId:      b.SensorID,
		Sequence:      b.Sequence,
		RunId:         b.RunID,
		ClockUnixNano: refUnixNano(b.Clock),
		Partition:     b.Partition,
		Partitions:    b.Partitions,
		Health: &pb.Health{
			Packets: b.Health.Packets, Bytes: b.Health.Bytes, Drops: b.Health.Drops,
			DecodeErrors: b.Health.DecodeErrors, TableEntries: b.Health.TableEntries,
			TableCapacity: b.Health.TableCapacity, Evictions: b.Health.Evictions,
			NonIp: b.Health.NonIP, Source: b.Health.Source,
		},
		Flows: make([]*pb.Flow, len(b.Flows)),
	}
	for i := range b.Flows {
		m.Flows[i] = refToPB(&b.Flows[i])
	}
	return proto.Marshal(m)
}

func refToPB(r *flow.Record) *pb.Flow {
	return &pb.Flow{
		Proto: uint32(r.Proto), Vlan: uint32(r.VLAN),
		SrcAddr: refAddrBytes(r.SrcAddr), DstAddr: refAddrBytes(r.DstAddr),
		SrcPort: uint32(r.SrcPort), DstPort: uint32(r.DstPort),
		SrcBytes: r.SrcBytes, DstBytes: r.DstBytes, SrcPackets: r.SrcPackets, DstPackets: r.DstPackets,
		StartUnixNano: refUnixNano(r.Start), EndUnixNano: refUnixNano(r.End), FlowStartUnixNano: refUnixNano(r.FlowStart),
		SrcTcpFlags: uint32(r.SrcFlags), DstTcpFlags: uint32(r.DstFlags),
		Direction: pb.Direction(r.Direction), InitiatorFromSyn: r.InitiatorFromSYN, Final: r.Final,
		SrcName: r.SrcName, DstName: r.DstName, Query: r.Query,
	}
}

func refFromPB(f *pb.Flow, r *flow.Record) error {
	var ok bool
	if f.Proto > 255 {
		return fmt.Errorf("proto %d out of range", f.Proto)
	}
	if f.Vlan > 4095 {
		return fmt.Errorf("vlan %d out of range", f.Vlan)
	}
	if f.SrcPort > 65535 || f.DstPort > 65535 {
		return fmt.Errorf("port out of range (src %d, dst %d)", f.SrcPort, f.DstPort)
	}
	if f.SrcTcpFlags > 255 || f.DstTcpFlags > 255 {
		return errors.New("tcp flags out of range")
	}
	if r.SrcAddr, ok = netip.AddrFromSlice(f.SrcAddr); !ok {
		return fmt.Errorf("src_addr has %d bytes, want 4 or 16", len(f.SrcAddr))
	}
	if r.DstAddr, ok = netip.AddrFromSlice(f.DstAddr); !ok {
		return fmt.Errorf("dst_addr has %d bytes, want 4 or 16", len(f.DstAddr))
	}
	if f.Direction < pb.Direction_DIRECTION_OUTBOUND || f.Direction > pb.Direction_DIRECTION_EXTERNAL {
		return fmt.Errorf("direction %d unknown", f.Direction)
	}
	if f.EndUnixNano < f.StartUnixNano {
		return fmt.Errorf("end %d before start %d", f.EndUnixNano, f.StartUnixNano)
	}
	r.Proto, r.VLAN = uint8(f.Proto), uint16(f.Vlan)
	r.SrcPort, r.DstPort = uint16(f.SrcPort), uint16(f.DstPort)
	r.SrcBytes, r.DstBytes, r.SrcPackets, r.DstPackets = f.SrcBytes, f.DstBytes, f.SrcPackets, f.DstPackets
	r.Start, r.End, r.FlowStart = refFromNano(f.StartUnixNano), refFromNano(f.EndUnixNano), refFromNano(f.FlowStartUnixNano)
	r.SrcFlags, r.DstFlags = uint8(f.SrcTcpFlags), uint8(f.DstTcpFlags)
	r.Direction = flow.Direction(f.Direction)
	r.InitiatorFromSYN, r.Final = f.InitiatorFromSyn, f.Final
	r.SrcName, r.DstName, r.Query = f.SrcName, f.DstName, f.Query
	return nil
}

func refAddrBytes(a netip.Addr) []byte {
	if !a.IsValid() {
		return nil
	}
	if a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

func refUnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func refFromNano(n int64) time.Time { return time.Unix(0, n).UTC() }
