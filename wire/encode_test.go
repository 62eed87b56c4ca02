package wire

import (
	"bytes"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
)

// TestEncodeMatchesProto: Encode writes the bytes proto.Marshal writes for
// the same batch, edge cases included (FuzzDecodeMatchesProto checks every
// decodable batch too).
func TestEncodeMatchesProto(t *testing.T) {
	long := strings.Repeat("x", 300) // lengths of two bytes, inside and outside
	t0 := time.Date(2026, 11, 20, 2, 13, 0, 5, time.UTC)
	cases := map[string]*Batch{
		"sample": sampleBatch(),
		"empty":  {},
		"extremes": {SensorID: long, Sequence: math.MaxUint64, RunID: -1, Clock: time.Unix(0, math.MinInt64),
			Partition: math.MaxUint32, Partitions: 1,
			Health: Health{Packets: math.MaxUint64, Bytes: math.MaxUint64, Drops: math.MaxUint64, DecodeErrors: math.MaxUint64,
				TableEntries: math.MaxUint64, TableCapacity: math.MaxUint64, Evictions: math.MaxUint64, NonIP: math.MaxUint64, Source: long},
			Flows: []flow.Record{
				{},
				{Proto: 255, VLAN: math.MaxUint16, SrcAddr: netip.MustParseAddr("::ffff:10.0.0.1"), DstAddr: netip.MustParseAddr("fe80::1%eth0"),
					SrcPort: math.MaxUint16, DstPort: 1, SrcBytes: math.MaxUint64, Start: t0.In(time.FixedZone("x", 3600)), End: time.Unix(-1, 0),
					SrcFlags: 255, DstFlags: 1, Direction: 255, Final: true, SrcName: long, DstName: "é", Query: long},
			}},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := refEncode(b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Encode(b, make([]byte, 3, 10))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode differs from proto.Marshal:\n got %x\nwant %x", got, want)
			}
		})
	}
}

func TestEncodeRejectsInvalidUTF8(t *testing.T) {
	for _, b := range []*Batch{
		{SensorID: "a\xff"},
		{SensorID: "s", Health: Health{Source: "\xc0"}},
		{SensorID: "s", Flows: []flow.Record{{DstName: "ok"}, {SrcName: "\xff"}}},
		{SensorID: "s", Flows: []flow.Record{{Query: "a.example\xff"}}},
	} {
		if _, refErr := refEncode(b); refErr == nil {
			t.Fatalf("proto.Marshal accepts %+v", b)
		}
		if _, err := Encode(b, nil); err == nil {
			t.Errorf("Encode accepts %+v", b)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	bt := sampleBatch()
	for len(bt.Flows) < 2048 {
		bt.Flows = append(bt.Flows, bt.Flows[0])
	}
	buf, _ := Encode(bt, nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Encode(bt, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bt.Flows)), "ns/record")
}

// BenchmarkEncodeProto is the proto.Marshal path Encode replaced.
func BenchmarkEncodeProto(b *testing.B) {
	bt := sampleBatch()
	for len(bt.Flows) < 2048 {
		bt.Flows = append(bt.Flows, bt.Flows[0])
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := refEncode(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(bt.Flows)), "ns/record")
}
