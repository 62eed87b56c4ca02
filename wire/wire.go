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

// SchemaVersion is the batch schema this build writes and reads.
const SchemaVersion = 1

// HeaderSchema is the NATS header carrying the schema version, so a
// collector can reject a batch it cannot read before unmarshalling it.
const HeaderSchema = "Outflow-Schema"

// MaxFlowsPerBatch bounds what a decoder accepts in one message.
const MaxFlowsPerBatch = 1 << 16

// Batch is the decoded form of pb.Batch.
type Batch struct {
	SensorID   string
	Sequence   uint64
	RunID      int64
	Clock      time.Time
	Partition  uint32
	Partitions uint32
	Health     Health
	Flows      []flow.Record
}

// Health mirrors pb.Health.
type Health struct {
	Packets, Bytes, Drops, DecodeErrors    uint64
	TableEntries, TableCapacity, Evictions uint64
	NonIP                                  uint64
	Source                                 string
}

// ErrSchema is wrapped by Decode when the batch's schema version is unknown.
var ErrSchema = errors.New("unknown schema version")

// MsgID is the JetStream de-duplication id of a batch: retries of the same
// batch carry the same id, a new sensor run gets new ids.
func (b *Batch) MsgID() string {
	return fmt.Sprintf("%s.%d.%d.%d", b.SensorID, b.RunID, b.Partition, b.Sequence)
}

// Encode marshals b. buf is reused when it has capacity.
func Encode(b *Batch, buf []byte) ([]byte, error) {
	m := &pb.Batch{
		SchemaVersion: SchemaVersion,
		SensorId:      b.SensorID,
		Sequence:      b.Sequence,
		RunId:         b.RunID,
		ClockUnixNano: unixNano(b.Clock),
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
		m.Flows[i] = toPB(&b.Flows[i])
	}
	return proto.MarshalOptions{}.MarshalAppend(buf[:0], m)
}

// Decode unmarshals and validates a batch. Errors say which field of which
// flow is wrong; a version other than SchemaVersion wraps ErrSchema.
func Decode(data []byte) (*Batch, error) {
	var m pb.Batch
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode batch: %w", err)
	}
	if m.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("decode batch: %w %d (this build reads %d)", ErrSchema, m.SchemaVersion, SchemaVersion)
	}
	if m.SensorId == "" {
		return nil, errors.New("decode batch: sensor_id is empty")
	}
	if len(m.Flows) > MaxFlowsPerBatch {
		return nil, fmt.Errorf("decode batch: %d flows, more than the limit %d", len(m.Flows), MaxFlowsPerBatch)
	}
	b := &Batch{
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
		if err := fromPB(f, &b.Flows[i]); err != nil {
			return nil, fmt.Errorf("decode batch from %s seq %d: flow %d: %w", m.SensorId, m.Sequence, i, err)
		}
	}
	return b, nil
}

func toPB(r *flow.Record) *pb.Flow {
	return &pb.Flow{
		Proto: uint32(r.Proto), Vlan: uint32(r.VLAN),
		SrcAddr: addrBytes(r.SrcAddr), DstAddr: addrBytes(r.DstAddr),
		SrcPort: uint32(r.SrcPort), DstPort: uint32(r.DstPort),
		SrcBytes: r.SrcBytes, DstBytes: r.DstBytes, SrcPackets: r.SrcPackets, DstPackets: r.DstPackets,
		StartUnixNano: unixNano(r.Start), EndUnixNano: unixNano(r.End), FlowStartUnixNano: unixNano(r.FlowStart),
		SrcTcpFlags: uint32(r.SrcFlags), DstTcpFlags: uint32(r.DstFlags),
		Direction: pb.Direction(r.Direction), InitiatorFromSyn: r.InitiatorFromSYN, Final: r.Final,
		SrcName: r.SrcName, DstName: r.DstName,
	}
}

func fromPB(f *pb.Flow, r *flow.Record) error {
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
	r.Start, r.End, r.FlowStart = fromNano(f.StartUnixNano), fromNano(f.EndUnixNano), fromNano(f.FlowStartUnixNano)
	r.SrcFlags, r.DstFlags = uint8(f.SrcTcpFlags), uint8(f.DstTcpFlags)
	r.Direction = flow.Direction(f.Direction)
	r.InitiatorFromSYN, r.Final = f.InitiatorFromSyn, f.Final
	r.SrcName, r.DstName = f.SrcName, f.DstName
	return nil
}

func addrBytes(a netip.Addr) []byte {
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

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time { return time.Unix(0, n).UTC() }
