package wire

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/wire/pb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// FuzzDecodeMatchesProto: for any input, Decode and the proto.Unmarshal
// path (refDecode) both fail or both give deeply equal batches; when the
// reference fails past the wire format (validation), the error text is the
// same. The one allowed difference is Decode's stricter check: a known field
// with the wrong wire type, which proto.Unmarshal keeps as an unknown field.
// DecodeInto into a used Batch must give what Decode gives, and Encode must
// write what the reference encoder writes for every decoded batch.
func FuzzDecodeMatchesProto(f *testing.F) {
	for _, seed := range decodeSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, m, wantErr := refDecode(data)
		got, err := Decode(data)

		for _, into := range []*Batch{sampleBatch(), dirtyBatch()} {
			err2 := DecodeInto(data, into)
			if fmt.Sprint(err) != fmt.Sprint(err2) {
				t.Fatalf("Decode: %v\nDecodeInto a used batch: %v", err, err2)
			}
			if err == nil && !reflect.DeepEqual(got, into) {
				t.Fatalf("DecodeInto a used batch differs:\n%+v\n%+v", got, into)
			}
		}

		stricter := errors.Is(err, errWireType) && m != nil && hasMistypedField(m)
		switch {
		case err == nil && wantErr == nil:
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("batches differ:\n got %+v\nwant %+v", got, want)
			}
			enc, err := Encode(got, nil)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			ref, err := refEncode(got)
			if err != nil {
				t.Fatalf("refEncode: %v", err)
			}
			if string(enc) != string(ref) {
				t.Fatalf("Encode differs from proto.Marshal:\n%x\n%x", enc, ref)
			}
		case err == nil:
			t.Fatalf("Decode accepts what the proto path rejects (%v): %+v", wantErr, got)
		case wantErr == nil:
			if !stricter {
				t.Fatalf("Decode rejects what the proto path accepts: %v", err)
			}
		case m != nil: // the reference failed in validation, after unmarshalling
			if err.Error() != wantErr.Error() && !stricter {
				t.Fatalf("errors differ:\n got %v\nwant %v", err, wantErr)
			}
		}
		if errors.Is(err, errWireType) && m != nil && !hasMistypedField(m) {
			t.Fatalf("%v, but proto.Unmarshal saw no field with a wrong wire type", err)
		}
	})
}

// hasMistypedField reports whether proto.Unmarshal kept, as unknown, a
// field whose number the schema knows: one that came with a wire type other
// than the schema's.
func hasMistypedField(m *pb.Batch) bool {
	msgs := []proto.Message{m}
	if m.Health != nil {
		msgs = append(msgs, m.Health)
	}
	for _, f := range m.Flows {
		msgs = append(msgs, f)
	}
	for _, msg := range msgs {
		r := msg.ProtoReflect()
		for u := r.GetUnknown(); len(u) > 0; {
			num, _, n := protowire.ConsumeField(u)
			if n < 0 {
				break
			}
			if r.Descriptor().Fields().ByNumber(num) != nil {
				return true
			}
			u = u[n:]
		}
	}
	return false
}

// dirtyBatch is a used Batch unlike any decoded one, for DecodeInto.
func dirtyBatch() *Batch {
	b := sampleBatch()
	b.SensorID, b.Health.Source, b.Sequence, b.Partitions = "old", "afpacket", 99, 7
	b.Flows = append(b.Flows, b.Flows...)[:1]
	b.Flows[0].SrcName = "left.over"
	return b
}

// decodeSeeds are valid batches written the ways another encoder could
// write them, and a few invalid ones.
func decodeSeeds(tb testing.TB) [][]byte {
	good, err := Encode(sampleBatch(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	empty, _ := Encode(&Batch{SensorID: "s", Health: Health{Source: "ebpf"}}, nil)
	fields := parseFields(good)
	seeds := [][]byte{
		good, empty, nil, good[:len(good)/2],
		marshalFields(rewrite(fields, reverse)),
		marshalFields(rewrite(fields, withUnknown)),
		marshalFields(rewrite(fields, duplicated)),
		marshalFields(rewrite(rewrite(fields, withUnknown), reverse)),
		marshalFields(splitHealth(fields)),
		marshalFields(inSub(batchFlows, fields, mistype(flowSrcPort))),
		marshalFields(inSub(batchHealth, fields, mistype(healthPackets))),
		marshalFields(mistype(batchSensorID)(fields)),
		// uint32 fields keep the low 32 bits of a wider varint, as proto3 says.
		marshalFields(setVarint(batchSchemaVersion, 1<<32+1)(inSub(batchFlows, fields, setVarint(flowProto, 1<<32+6)))),
		marshalFields(rewrite(fields, func(fs []wireField) []wireField {
			return append(fs, wireField{num: flowDstName, typ: protowire.BytesType, val: []byte("\xff")})
		})),
		marshalFields(rewrite(fields, func(fs []wireField) []wireField {
			return append(fs, wireField{num: flowQuery, typ: protowire.BytesType, val: []byte("q\xff")})
		})),
		marshalFields(inSub(batchFlows, fields, mistype(flowQuery))),
	}
	for _, m := range []func(*pb.Batch){
		func(m *pb.Batch) { m.Flows[0].Direction = -1 },                     // 10-byte varint
		func(m *pb.Batch) { m.Flows[0].SrcAddr = []byte{} },                 // empty bytes
		func(m *pb.Batch) { m.Flows[0].EndUnixNano = -1 },                   // end before start
		func(m *pb.Batch) { m.Health = nil },                                // no health at all
		func(m *pb.Batch) { m.Flows[0].DstName = strings.Repeat("n", 300) }, // 2-byte lengths
		func(m *pb.Batch) { m.Flows[1].Query = strings.Repeat("q", 253) },   // a long query name
	} {
		seeds = append(seeds, mutated(tb, good, m))
	}
	return seeds
}

func mutated(tb testing.TB, data []byte, f func(*pb.Batch)) []byte {
	var m pb.Batch
	if err := proto.Unmarshal(data, &m); err != nil {
		tb.Fatal(err)
	}
	f(&m)
	out, err := proto.Marshal(&m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
