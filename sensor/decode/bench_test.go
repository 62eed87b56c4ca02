package decode

import (
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
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

// BenchmarkDecodeVLAN is BenchmarkDecode with an 802.1Q tag in every
// frame, as a tap on a trunk port sees them.
func BenchmarkDecodeVLAN(b *testing.B) {
	frames := readCapture(b, filepath.Join(testdata, "real/bittorrent.pcap"))
	var n int64
	for i, fr := range frames {
		if fr.LinkType != layers.LinkTypeEthernet {
			b.Fatalf("frame %d: link type %v", i, fr.LinkType)
		}
		// TPID 0x8100 and the tag control (VLAN 100) before the frame's own EtherType
		frames[i].Data = cat(fr.Data[:12], []byte{0x81, 0x00}, tag(100, 0)[:2], fr.Data[12:])
		n += int64(len(frames[i].Data))
	}
	d := New(Config{})
	var p Packet
	b.SetBytes(n / int64(len(frames)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		fr := frames[i%len(frames)]
		_ = d.Decode(fr.Data, fr.LinkType, fr.TS, &p)
	}
	if p.VLAN != 100 {
		b.Errorf("VLAN %d, want 100", p.VLAN)
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
