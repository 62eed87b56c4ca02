package wire

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/outflowhq/outflow/flow"
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

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time { return time.Unix(0, n).UTC() }

// addrBytes is the src_addr/dst_addr encoding: 4 bytes for IPv4, 16 for
// anything else, nothing for the zero Addr.
func addrBytes(a netip.Addr, buf *[16]byte) []byte {
	if !a.IsValid() {
		return nil
	}
	if a.Is4() {
		*(*[4]byte)(buf[:4]) = a.As4()
		return buf[:4]
	}
	*buf = a.As16()
	return buf[:]
}
