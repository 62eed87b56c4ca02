package source

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestSameFramesAsPcapgo reads every shared capture, and synthetic ones
// with what the shared ones lack (link types mixed in one file, sections
// in both byte orders, decimal resolutions, if_tsoffset), with our reader
// and with gopacket's pcapgo: the frames must be the same, in timestamp,
// captured bytes, wire length and link type.
func TestSameFramesAsPcapgo(t *testing.T) {
	var paths []string
	for _, dir := range []string{"../../../shared/testdata/zeek-conn", "../../../shared/testdata/real"} {
		for _, ext := range []string{"*.pcap", "*.pcapng"} {
			m, _ := filepath.Glob(filepath.Join(dir, ext))
			paths = append(paths, m...)
		}
	}
	if len(paths) == 0 {
		t.Log("shared test data not found: synthetic captures only")
	}
	paths = append(paths, syntheticCaptures(t)...)
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := readPcapgo(t, path)
			got, st, err := readAll(t, path)
			if err != io.EOF || st.Truncated != 0 {
				t.Errorf("ended with %v, stats %+v", err, st)
			}
			if len(got) != len(want) {
				t.Fatalf("%d frames, pcapgo %d", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.ts != w.ts || g.wire != w.wire || g.link != w.link || g.data != w.data {
					t.Fatalf("frame %d: got time %d, wire length %d, link type %v, %d bytes %.16x...; pcapgo %d, %d, %v, %d bytes %.16x...",
						i+1, g.ts, g.wire, g.link, len(g.data), g.data, w.ts, w.wire, w.link, len(w.data), w.data)
				}
			}
		})
	}
}

// readPcapgo reads a capture with pcapgo, each frame's link type from its
// interface.
func readPcapgo(t *testing.T, path string) []frame {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	br := bufio.NewReader(fh)
	magic, _ := br.Peek(4)
	var next func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatal(err)
		}
		next = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				return nil, ci, 0, err
			}
			ifc, err := r.Interface(ci.InterfaceIndex)
			return data, ci, ifc.LinkType, err
		}
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		next = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
			data, ci, err := r.ReadPacketData()
			return data, ci, r.LinkType(), err
		}
	}
	var frames []frame
	for {
		data, ci, link, err := next()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatalf("pcapgo: frame %d: %v", len(frames)+1, err)
		}
		frames = append(frames, frame{ts: ci.Timestamp.UnixNano(), data: string(data), wire: ci.Length, link: link})
	}
}

// syntheticCaptures writes captures of every kind the shared ones lack,
// within what pcapgo reads right (no binary timestamp resolutions).
func syntheticCaptures(t *testing.T) []string {
	var frames []frame
	for i := range 40 {
		frames = append(frames, frame{ts: 1_700_000_000_123_456_789 + int64(i)*7_654_321_987, data: strings.Repeat(string(rune('a'+i%26)), i*37%1600), wire: 1600, iface: i % 3})
	}
	usec := append([]frame(nil), frames...)
	for i := range usec {
		usec[i].ts -= usec[i].ts % 1000
	}
	ifaces := []ngIfaceSpec{{link: layers.LinkTypeEthernet, tsres: 9}, {link: layers.LinkTypeRaw, tsres: 3, offset: -3600}, {link: layers.LinkTypeLinuxSLL}}
	sections := [][]ngIfaceSpec{ifaces, {ifaces[2], ifaces[0], ifaces[1]}}
	// The reader must see both byte orders in one file.
	ng := append(pcapngFile(binary.LittleEndian, sections[:1], [][]frame{frames[:20]}), pcapngFile(binary.BigEndian, sections[1:], [][]frame{frames[20:]})...)
	dir := t.TempDir()
	var paths []string
	for name, data := range map[string][]byte{
		"le-usec.pcap": pcapFile(binary.LittleEndian, false, layers.LinkTypeEthernet, usec),
		"be-nsec.pcap": pcapFile(binary.BigEndian, true, layers.LinkTypeLinuxSLL, frames),
		"mixed.pcapng": ng,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}
