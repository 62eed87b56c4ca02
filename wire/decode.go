package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/outflowhq/outflow/flow"
	"google.golang.org/protobuf/encoding/protowire"
)

// Decode unmarshals and validates a batch. Errors say which field of which
// flow is wrong; a version other than SchemaVersion wraps ErrSchema.
func Decode(data []byte) (*Batch, error) {
	b := new(Batch)
	if err := DecodeInto(data, b); err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeInto is Decode into b, which it overwrites entirely. It reuses the
// capacity of b.Flows, and b.SensorID and b.Health.Source when the batch
// carries the same strings, so a consumer decoding into one Batch allocates
// only for new names. The records of the previous batch are overwritten: a
// caller that keeps them must copy. After an error b holds no valid batch.
//
// It reads the protobuf wire format directly and accepts what proto.Unmarshal
// accepts, with the same result and, past the wire format, the same errors:
// fields in any order, the last of repeated scalars wins, repeated health
// messages merge, unknown fields are skipped. It is stricter in one way: a
// known field with the wrong wire type is an error naming it.
func DecodeInto(data []byte, b *Batch) error {
	prevSensor, prevSource := b.SensorID, b.Health.Source
	flows := b.Flows[:0]
	if n := countFlows(data); cap(flows) < n {
		flows = make([]flow.Record, 0, n)
	} else if flows == nil {
		flows = []flow.Record{}
	}
	*b = Batch{Flows: flows} // on error, b keeps the capacity for the next batch
	r := batchReader{b: b, flows: flows}

	for len(data) > 0 {
		if v, rest, ok := nextFlow(data); ok { // most of a batch
			if err := r.flow(v); err != nil {
				return err
			}
			data = rest
			continue
		}
		n, err := r.field(data)
		if err != nil {
			return fmt.Errorf("decode batch: %w", err)
		}
		data = data[n:]
	}

	// The checks, and their order, of the proto path this replaced.
	if r.version != SchemaVersion {
		return fmt.Errorf("decode batch: %w %d (this build reads %d)", ErrSchema, r.version, SchemaVersion)
	}
	if len(r.sensor) == 0 {
		return errors.New("decode batch: sensor_id is empty")
	}
	if r.nflows > MaxFlowsPerBatch {
		return fmt.Errorf("decode batch: %d flows, more than the limit %d", r.nflows, MaxFlowsPerBatch)
	}
	b.SensorID = reuse(prevSensor, r.sensor)
	b.Health.Source = reuse(prevSource, r.source)
	b.Clock = fromNano(r.clock)
	if r.bad != nil {
		return fmt.Errorf("decode batch from %s seq %d: flow %d: %w", b.SensorID, b.Sequence, r.badAt, r.bad)
	}
	b.Flows = r.flows
	return nil
}

// batchReader holds what DecodeInto has read so far: the fields it stores
// in b directly, and those it checks or converts at the end.
type batchReader struct {
	b              *Batch
	version        uint32
	clock          int64
	sensor, source []byte
	flows          []flow.Record
	nflows         int
	bad            error // the first invalid flow, reported after the batch-level checks
	badAt          int
	raw            rawFlow
	names          nameCache
}

// flow decodes one occurrence of the flows field. Past the limit, or past
// an invalid flow, the batch is rejected anyway: the rest is only parsed,
// for the wire-format errors that the proto path reported first.
func (r *batchReader) flow(v []byte) error {
	r.raw = rawFlow{}
	if err := r.raw.decode(v); err != nil {
		return fmt.Errorf("decode batch: flow %d: %w", r.nflows, err)
	}
	if r.nflows < MaxFlowsPerBatch && r.bad == nil {
		if len(r.flows) < cap(r.flows) { // record writes every field: no need to zero
			r.flows = r.flows[:len(r.flows)+1]
		} else {
			r.flows = append(r.flows, flow.Record{})
		}
		if err := r.raw.record(&r.flows[len(r.flows)-1], &r.names); err != nil {
			r.bad, r.badAt = err, r.nflows
		}
	}
	r.nflows++
	return nil
}

// field reads any field of the batch message and returns its length.
func (r *batchReader) field(data []byte) (int, error) {
	num, typ, n := consumeTag(data)
	if n < 0 {
		return 0, tagError(data)
	}
	if num > batchLastField {
		l := protowire.ConsumeFieldValue(num, typ, data[n:])
		if l < 0 {
			return 0, fmt.Errorf("field %d: %w", num, protowire.ParseError(l))
		}
		return n + l, nil
	}
	if want := wantType(batchBytesFields, num); typ != want {
		return 0, wireTypeError(batchFieldNames[num], typ, want)
	}
	if typ == protowire.VarintType {
		v, l := consumeVarint(data[n:])
		if l < 0 {
			return 0, fmt.Errorf("%s: %w", batchFieldNames[num], protowire.ParseError(l))
		}
		switch num {
		case batchSchemaVersion:
			r.version = uint32(v)
		case batchSequence:
			r.b.Sequence = v
		case batchRunID:
			r.b.RunID = int64(v)
		case batchClock:
			r.clock = int64(v)
		case batchPartition:
			r.b.Partition = uint32(v)
		case batchPartitions:
			r.b.Partitions = uint32(v)
		}
		return n + l, nil
	}
	v, l := protowire.ConsumeBytes(data[n:])
	if l < 0 {
		return 0, fmt.Errorf("%s: %w", batchFieldNames[num], protowire.ParseError(l))
	}
	switch num {
	case batchSensorID:
		if !utf8.Valid(v) {
			return 0, errors.New("sensor_id is not valid UTF-8")
		}
		r.sensor = v
	case batchHealth:
		if err := decodeHealth(v, &r.b.Health, &r.source); err != nil {
			return 0, fmt.Errorf("health: %w", err)
		}
	case batchFlows: // a flow nextFlow left: a length of 3 bytes or more, or cut
		if err := r.flow(v); err != nil {
			return 0, err
		}
	}
	return n + l, nil
}

// nextFlow reads a flows field with a length of one or two bytes (flows
// are shorter than 16 KiB) when it is next in d.
func nextFlow(d []byte) (v, rest []byte, ok bool) {
	if len(d) < 3 || d[0] != byte(batchFlows)<<3|byte(protowire.BytesType) {
		return nil, d, false
	}
	l, h := int(d[1]), 2
	if l >= 0x80 {
		l, h = l&0x7f|int(d[2])<<7, 3
	}
	if d[h-1] >= 0x80 || l > len(d)-h {
		return nil, d, false
	}
	return d[h : h+l], d[h+l:], true
}

// countFlows counts the flows field's occurrences, so the records can be
// allocated once. It stops quietly at malformed data: the decoder proper
// reports that.
func countFlows(d []byte) int {
	n := 0
	for len(d) > 0 && n < MaxFlowsPerBatch {
		if _, rest, ok := nextFlow(d); ok {
			d, n = rest, n+1
			continue
		}
		num, typ, l := protowire.ConsumeTag(d)
		if l < 0 {
			break
		}
		d = d[l:]
		if num == batchFlows && typ == protowire.BytesType {
			n++
		}
		if l = protowire.ConsumeFieldValue(num, typ, d); l < 0 {
			break
		}
		d = d[l:]
	}
	return n
}

func decodeHealth(data []byte, h *Health, source *[]byte) error {
	for len(data) > 0 {
		num, typ, n := consumeTag(data)
		if n < 0 {
			return tagError(data)
		}
		data = data[n:]
		if num <= healthLastField && typ != wantType(healthBytesFields, num) {
			return wireTypeError(healthFieldNames[num], typ, wantType(healthBytesFields, num))
		}
		switch {
		case num == healthSource:
			v, n := protowire.ConsumeBytes(data)
			if n < 0 {
				return fmt.Errorf("source: %w", protowire.ParseError(n))
			}
			if !utf8.Valid(v) {
				return errors.New("source is not valid UTF-8")
			}
			*source = v
			data = data[n:]
		case num <= healthLastField:
			v, n := consumeVarint(data)
			if n < 0 {
				return fmt.Errorf("%s: %w", healthFieldNames[num], protowire.ParseError(n))
			}
			data = data[n:]
			switch num {
			case healthPackets:
				h.Packets = v
			case healthBytes:
				h.Bytes = v
			case healthDrops:
				h.Drops = v
			case healthDecodeErrors:
				h.DecodeErrors = v
			case healthTableEntries:
				h.TableEntries = v
			case healthTableCapacity:
				h.TableCapacity = v
			case healthEvictions:
				h.Evictions = v
			case healthNonIP:
				h.NonIP = v
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			data = data[n:]
		}
	}
	return nil
}

// reuse returns prev when it holds the same bytes as b, saving the
// allocation for the strings that repeat from batch to batch.
func reuse(prev string, b []byte) string {
	if prev == string(b) {
		return prev
	}
	return string(b)
}
