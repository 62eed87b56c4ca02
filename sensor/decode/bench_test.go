package decode

import (
	"path/filepath"
	"testing"
)

// BenchmarkDecode decodes the frames of a real capture, loaded in memory
// first; one op is one frame.
func BenchmarkDecode(b *testing.B) {
	frames := readCapture(b, filepath.Join(testdata, "real/bittorrent.pcap"))
	d := New(Config{})
	var p Packet
	var n int64
	for _, fr := range frames {
		n += int64(len(fr.Data))
	}
	b.SetBytes(n / int64(len(frames)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		fr := frames[i%len(frames)]
		_ = d.Decode(fr.Data, fr.LinkType, fr.TS, &p)
	}
}

// TestDecodeAllocs guards the hot path: a warm decoder allocates nothing
// for IP packets and non-IP frames on every capture (VLAN, MPLS, PPPoE,
// IPv6, pcapng), whole or cut to a 60-byte snaplen. Only errors that carry
// context (IP header cut or malformed) may allocate.
func TestDecodeAllocs(t *testing.T) {
	d := New(Config{})
	var p Packet
	var all []frame
	for _, f := range captureFiles(t) {
		for _, fr := range readCapture(t, f) {
			for _, data := range [][]byte{fr.Data, fr.Data[:min(len(fr.Data), 60)]} {
				if err := d.Decode(data, fr.LinkType, fr.TS, &p); err == nil || err == ErrNotIP {
					all = append(all, frame{data, fr.LinkType, fr.TS})
				}
			}
		}
	}
	if len(all) < 25000 {
		t.Fatalf("only %d frames", len(all))
	}
	run := func() {
		for _, fr := range all {
			_ = d.Decode(fr.data, fr.lt, fr.ts, &p)
		}
	}
	run() // warm up: gopacket grows option slices once
	if a := testing.AllocsPerRun(3, run); a != 0 {
		t.Errorf("%v allocations per pass over %d frames, want 0", a, len(all))
	}
}
