package wire

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/wire/pb"
	"google.golang.org/protobuf/proto"
)

func sampleBatch() *Batch {
	t0 := time.Date(2026, 11, 20, 2, 13, 0, 5, time.UTC)
	return &Batch{
		SensorID: "gw1", Sequence: 7, RunID: 1234, Clock: t0.Add(10 * time.Second), Partition: 1, Partitions: 4,
		Health: Health{Packets: 100, Bytes: 90000, Drops: 2, DecodeErrors: 1, TableEntries: 5, TableCapacity: 1024, Evictions: 3, NonIP: 4, Source: "pcap"},
		Flows: []flow.Record{
			{Proto: 6, VLAN: 12, SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("203.0.113.9"),
				SrcPort: 51000, DstPort: 443, SrcBytes: 1_200_000, DstBytes: 40_000, SrcPackets: 900, DstPackets: 450,
				Start: t0, End: t0.Add(9 * time.Second), FlowStart: t0, SrcFlags: 0x1b, DstFlags: 0x12,
				Direction: flow.Outbound, InitiatorFromSYN: true, DstName: "files.example.net"},
			{Proto: 17, SrcAddr: netip.MustParseAddr("2001:db8::5"), DstAddr: netip.MustParseAddr("fd00::7"),
				SrcPort: 53, DstPort: 40000, SrcBytes: 120, DstBytes: 0, SrcPackets: 1,
				Start: t0, End: t0, FlowStart: t0.Add(-time.Minute), Direction: flow.Inbound, Final: true},
			{Proto: 17, SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.53"),
				SrcPort: 40001, DstPort: 53, SrcBytes: 90, DstBytes: 140, SrcPackets: 1, DstPackets: 1,
				Start: t0, End: t0, FlowStart: t0, Direction: flow.Internal, Final: true,
				Query: "mzxw6ytboi.00000001.tunnel.example"},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	in := sampleBatch()
	data, err := Encode(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip differs:\n in %+v\nout %+v", in, out)
	}
	if got, want := in.MsgID(), "gw1.1234.1.7"; got != want {
		t.Fatalf("MsgID = %q, want %q", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := Encode(sampleBatch(), nil)
	mutate := func(f func(*pb.Batch)) []byte {
		var m pb.Batch
		if err := proto.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(&m)
		b, err := proto.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"garbage", []byte("this is not protobuf \xff\xff\xff"), "decode batch: "},
		{"empty", nil, "unknown schema version 0"},
		{"future schema", mutate(func(m *pb.Batch) { m.SchemaVersion = 2 }), "unknown schema version 2 (this build reads 1)"},
		{"no sensor", mutate(func(m *pb.Batch) { m.SensorId = "" }), "sensor_id is empty"},
		{"bad addr", mutate(func(m *pb.Batch) { m.Flows[1].DstAddr = []byte{1, 2, 3} }), "flow 1: dst_addr has 3 bytes, want 4 or 16"},
		{"bad port", mutate(func(m *pb.Batch) { m.Flows[0].SrcPort = 70000 }), "flow 0: port out of range (src 70000, dst 443)"},
		{"bad proto", mutate(func(m *pb.Batch) { m.Flows[0].Proto = 300 }), "flow 0: proto 300 out of range"},
		{"bad direction", mutate(func(m *pb.Batch) { m.Flows[0].Direction = 9 }), "flow 0: direction 9 unknown"},
		{"time backwards", mutate(func(m *pb.Batch) { m.Flows[0].EndUnixNano = m.Flows[0].StartUnixNano - 1 }), "flow 0: end "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	if _, err := Decode(mutate(func(m *pb.Batch) { m.SchemaVersion = 2 })); !errors.Is(err, ErrSchema) {
		t.Fatalf("future schema: %v does not wrap ErrSchema", err)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(sampleBatch(), nil)
	f.Add(good)
	f.Add([]byte{})
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same batch.
		again, err := Encode(b, nil)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		b2, err := Decode(again)
		if err != nil {
			t.Fatalf("decode of re-encoded batch: %v", err)
		}
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("not stable:\n%+v\n%+v", b, b2)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	bt := sampleBatch()
	for len(bt.Flows) < 2048 {
		bt.Flows = append(bt.Flows, bt.Flows[0])
	}
	data, _ := Encode(bt, nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bt.Flows)), "ns/record")
}
