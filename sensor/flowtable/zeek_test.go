package flowtable_test

import (
	"errors"
	"github.com/outflowhq/outflow/internal/zeekconn"
	"io"
	"testing"
	"time"

	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/source"
)

const zeekDir = "../../../shared/testdata/zeek-conn"

// countCapture runs a capture through source → decode → flowtable, with
// a Tick per packet as a live sensor does, and sums the deltas of each flow
// (records with the same tuple, VLAN and FlowStart). VLANs are then merged:
// Zeek's connection key has none.
func countCapture(t *testing.T, path string, cfg flowtable.Config) []zeekconn.Conn {
	src, err := source.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var recs []flow.Record
	tb := flowtable.New(cfg, nil, nil, func(r *flow.Record) { recs = append(recs, *r) })
	dec := decode.New(decode.Config{})
	var p decode.Packet
	for {
		data, info, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := dec.Decode(data, info.LinkType, info.Timestamp, &p); err != nil {
			continue // ARP, PPPoE discovery...: not flows, for Zeek either
		}
		tb.Tick(p.Timestamp)
		tb.Add(&p)
	}
	tb.Flush()
	return zeekconn.FromRecords(recs)
}

func TestZeekConnLog(t *testing.T) {
	traces, err := zeekconn.Traces(zeekDir)
	if err != nil || len(traces) != 16 {
		t.Fatalf("want the 16 shared Zeek traces, found %d (%v)", len(traces), err)
	}
	for _, tr := range traces {
		t.Run(tr.Name, func(t *testing.T) {
			// Default intervals, and deltas every 100ms: both must add up
			// to Zeek's totals.
			for _, cfg := range []flowtable.Config{{}, {ActiveInterval: 100 * time.Millisecond}} {
				tr.Check(t, countCapture(t, tr.Capture, cfg))
			}
		})
	}
}
