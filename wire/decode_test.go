package wire

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/wire/pb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func TestDecodeStricterThanProto(t *testing.T) {
	good, _ := Encode(sampleBatch(), nil)
	fields := parseFields(good)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"flow field", marshalFields(inSub(batchFlows, fields, mistype(flowSrcPort))), "decode batch: flow 0: src_port: wrong wire type fixed32, want varint"},
		{"flow name", marshalFields(inSub(batchFlows, fields, mistype(flowDstName))), "decode batch: flow 0: dst_name: wrong wire type fixed32, want bytes"},
		{"flow query", marshalFields(inSub(batchFlows, fields, mistype(flowQuery))), "decode batch: flow 2: query: wrong wire type fixed32, want bytes"},
		{"batch field", marshalFields(mistype(batchSensorID)(fields)), "decode batch: sensor_id: wrong wire type fixed32, want bytes"},
		{"health field", marshalFields(inSub(batchHealth, fields, mistype(healthSource))), "decode batch: health: source: wrong wire type fixed32, want bytes"},
		{"flows", marshalFields(mistype(batchFlows)(fields)), "decode batch: flows: wrong wire type fixed32, want bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, m, refErr := refDecode(c.data)
			if m == nil || !hasMistypedField(m) {
				t.Fatalf("proto.Unmarshal: %v; mistyped field not kept as unknown", refErr)
			}
			_, err := Decode(c.data)
			if err == nil || err.Error() != c.want || !errors.Is(err, errWireType) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestDecodeWireErrors(t *testing.T) {
	good, _ := Encode(sampleBatch(), nil)
	fields := parseFields(good)
	badName := marshalFields(rewrite(fields, func(fs []wireField) []wireField {
		return append(fs, wireField{num: flowSrcName, typ: protowire.BytesType, val: []byte("a\xc0")})
	}))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"cut", good[:len(good)-1], "decode batch: partitions: unexpected EOF"},
		{"cut flow", good[:len(good)/2], "decode batch: flows: unexpected EOF"},
		{"field 0", []byte{0x00, 0x01}, "decode batch: field tag: invalid field number"},
		{"field 2^29", protowire.AppendTag(nil, 1<<29, protowire.VarintType), "decode batch: field tag: invalid field number"},
		{"end group", protowire.AppendTag(nil, 50, protowire.EndGroupType), "decode batch: field 50: proto: mismatching end group marker"},
		{"utf-8", badName, "decode batch: flow 0: src_name is not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, m, refErr := refDecode(c.data)
			if refErr == nil || m != nil {
				t.Fatalf("proto.Unmarshal accepts it (%v)", refErr)
			}
			_, err := Decode(c.data)
			// protowire's errors say "proto:" with a space or, at random, a no-break space.
			if err == nil || strings.ReplaceAll(err.Error(), "\u00a0", " ") != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestDecodeFlowLimit: the count check comes after the schema and sensor
// checks and before any flow's validation, as in the proto path; flows past
// the limit are parsed but not kept.
func TestDecodeFlowLimit(t *testing.T) {
	one, _ := Encode(&Batch{SensorID: "s", Flows: sampleBatch().Flows[1:2]}, nil)
	flowField := marshalFields(parseFields(one)[3:4]) // schema, sensor, health, flow
	if f := parseFields(flowField); len(f) != 1 || f[0].num != batchFlows {
		t.Fatalf("not the flow field: %+v", f)
	}
	batch := func(n int, badFirst bool) []byte {
		out := append([]byte(nil), one[:len(one)-len(flowField)]...)
		if badFirst {
			out = protowire.AppendTag(out, batchFlows, protowire.BytesType)
			out = protowire.AppendBytes(out, []byte{0x08, 0xff, 0x03}) // proto 511
			n--
		}
		for range n {
			out = append(out, flowField...)
		}
		return out
	}
	for _, c := range []struct {
		n       int
		bad     bool
		wantErr string
	}{
		{MaxFlowsPerBatch, false, ""},
		{MaxFlowsPerBatch + 1, false, "decode batch: 65537 flows, more than the limit 65536"},
		{MaxFlowsPerBatch + 1, true, "decode batch: 65537 flows, more than the limit 65536"},
		{MaxFlowsPerBatch, true, "decode batch from s seq 0: flow 0: proto 511 out of range"},
	} {
		data := batch(c.n, c.bad)
		want, _, refErr := refDecode(data)
		got, err := Decode(data)
		if fmt.Sprint(err) != fmt.Sprint(refErr) || (c.wantErr != "" && fmt.Sprint(err) != c.wantErr) {
			t.Fatalf("%d flows: err = %v, proto path %v, want %q", c.n, err, refErr, c.wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%d flows: batches differ", c.n)
		}
	}
}

func TestDecodeIntoAllocations(t *testing.T) {
	noNames := sampleBatch()
	for i := range noNames.Flows {
		noNames.Flows[i].SrcName, noNames.Flows[i].DstName, noNames.Flows[i].Query = "", "", ""
	}
	for len(noNames.Flows) < 256 {
		noNames.Flows = append(noNames.Flows, noNames.Flows...)
	}
	withNames := sampleBatch()
	for len(withNames.Flows) < 256 {
		withNames.Flows = append(withNames.Flows, withNames.Flows...)
	}
	for _, c := range []struct {
		name string
		b    *Batch
		max  float64
	}{
		{"no names", noNames, 0},
		{"a repeated name and a repeated query", withNames, 2},
	} {
		data, _ := Encode(c.b, nil)
		var into Batch
		if err := DecodeInto(data, &into); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if err := DecodeInto(data, &into); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > c.max {
			t.Errorf("%s: %.0f allocations per batch of %d, want at most %.0f", c.name, allocs, len(c.b.Flows), c.max)
		}
	}
}

func TestNameCache(t *testing.T) {
	var c nameCache
	a := c.intern([]byte("cdn.example.net"))
	b := c.intern([]byte("cdn.example.net"))
	if a != "cdn.example.net" || b != a || c.intern(nil) != "" || c.intern([]byte("x")) != "x" {
		t.Fatalf("intern: %q %q", a, b)
	}
	for i := range 1000 { // far more names than slots: still right, just not shared
		n := fmt.Sprintf("host-%d.example.org", i)
		if got := c.intern([]byte(n)); got != n {
			t.Fatalf("intern(%q) = %q", n, got)
		}
	}
}

// TestSchemaFields keeps fields.go in step with pb/outflow.proto.
func TestSchemaFields(t *testing.T) {
	for _, c := range []struct {
		msg   proto.Message
		names []string
		bytes uint64
		last  protowire.Number
	}{
		{&pb.Batch{}, batchFieldNames[:], batchBytesFields, batchLastField},
		{&pb.Health{}, healthFieldNames[:], healthBytesFields, healthLastField},
		{&pb.Flow{}, flowFieldNames[:], flowBytesFields, flowLastField},
	} {
		fields := c.msg.ProtoReflect().Descriptor().Fields()
		if fields.Len() != int(c.last) || len(c.names) != int(c.last)+1 {
			t.Errorf("%T: %d fields in the schema, %d known here", c.msg, fields.Len(), c.last)
		}
		for i := range fields.Len() {
			fd := fields.Get(i)
			num := fd.Number()
			if num > c.last || c.names[num] != string(fd.Name()) {
				t.Errorf("%T: field %d is %s, not known here by that name", c.msg, num, fd.Name())
				continue
			}
			k := fd.Kind()
			isBytes := k == protoreflect.StringKind || k == protoreflect.BytesKind || k == protoreflect.MessageKind
			if isBytes != (wantType(c.bytes, num) == protowire.BytesType) {
				t.Errorf("%T: field %s has kind %v", c.msg, fd.Name(), fd.Kind())
			}
		}
	}
	if pb.Direction_DIRECTION_OUTBOUND != pb.Direction(flow.Outbound) || pb.Direction_DIRECTION_EXTERNAL != pb.Direction(flow.External) {
		t.Error("pb.Direction and flow.Direction disagree")
	}
	// DecodeInto reuses records without zeroing them: rawFlow.record must
	// set every field, and Encode must write it.
	if n := reflect.TypeFor[flow.Record]().NumField(); n != 21 {
		t.Errorf("flow.Record has %d fields, not 21: update rawFlow.record, appendFlow and this test", n)
	}
}

func BenchmarkDecodeInto(b *testing.B) {
	for _, names := range []string{"none", "repeated", "unique"} {
		b.Run("names="+names, func(b *testing.B) {
			bt := sampleBatch()
			base := bt.Flows[0]
			bt.Flows = nil
			for i := range 2048 {
				r := base
				switch names {
				case "none":
					r.DstName = ""
				case "unique":
					r.DstName = fmt.Sprintf("host-%d.example.net", i)
				}
				bt.Flows = append(bt.Flows, r)
			}
			data, _ := Encode(bt, nil)
			var into Batch
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := DecodeInto(data, &into); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bt.Flows)), "ns/record")
		})
	}
}

// BenchmarkDecodeProto is the proto.Unmarshal path Decode replaced, on
// BenchmarkDecode's input, for comparison.
func BenchmarkDecodeProto(b *testing.B) {
	bt := sampleBatch()
	for len(bt.Flows) < 2048 {
		bt.Flows = append(bt.Flows, bt.Flows[0])
	}
	data, _ := Encode(bt, nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := refDecode(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bt.Flows)), "ns/record")
}

// TestConsumeVarint: the 8-byte-load paths agree with protowire on every
// length, on overflow and on cut input, with bytes after the varint or not.
func TestConsumeVarint(t *testing.T) {
	var cases [][]byte
	for bitsLen := 0; bitsLen <= 64; bitsLen++ {
		v := uint64(1)<<bitsLen - 1
		enc := protowire.AppendVarint(nil, v)
		cases = append(cases, enc, append(enc, 0xff, 0x01, 0, 0, 0, 0, 0, 0, 0, 0), enc[:len(enc)-1])
	}
	cases = append(cases,
		[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, // overflows 64 bits
		[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
		[]byte{0x80, 0x00, 1, 2, 3, 4, 5, 6, 7}, // not minimal: still 0
	)
	for _, c := range cases {
		wantV, wantN := protowire.ConsumeVarint(c)
		if v, n := consumeVarint(c); v != wantV || n != wantN {
			t.Errorf("consumeVarint(%x) = %d, %d; want %d, %d", c, v, n, wantV, wantN)
		}
		// The inline copy in rawFlow.decode, through a field that stores it.
		msg := append([]byte{byte(flowSrcBytes) << 3}, c...)
		var f rawFlow
		err := f.decode(msg)
		if (err == nil) != (wantN == len(c)) || (err == nil && f.v[flowSrcBytes] != wantV) {
			t.Errorf("decode src_bytes %x: %d, %v; want %d, %d", c, f.v[flowSrcBytes], err, wantV, wantN)
		}
	}
}
