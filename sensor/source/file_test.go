package source

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// readAll returns every frame of the file and the error that ended it.
func readAll(t testing.TB, path string) ([]frame, Stats, error) {
	t.Helper()
	src, err := OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	defer src.Close()
	var got []frame
	for {
		data, info, err := src.Next()
		if err != nil {
			return got, src.Stats(), err
		}
		if info.CaptureLen != len(data) {
			t.Errorf("CaptureLen %d, len(data) %d", info.CaptureLen, len(data))
		}
		got = append(got, frame{ts: info.Timestamp, data: string(data), wire: info.WireLen, link: info.LinkType})
	}
}

var testFrames = []frame{
	{ts: 1_700_000_000_123_456_000, data: "first frame", wire: 60},
	{ts: 1_700_000_001_000_001_000, data: "second", wire: 1514},
	{ts: 1_700_000_002_999_999_000, data: "", wire: 0},
}

func TestPcap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
		nano  bool
	}{
		{"little-endian µs", binary.LittleEndian, false},
		{"big-endian µs", binary.BigEndian, false},
		{"little-endian ns", binary.LittleEndian, true},
		{"big-endian ns", binary.BigEndian, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := append([]frame(nil), testFrames...)
			if tc.nano {
				frames[0].ts += 789
			}
			path := writeTemp(t, "x.pcap", pcapFile(tc.order, tc.nano, layers.LinkTypeLinuxSLL, frames))
			got, st, err := readAll(t, path)
			if err != io.EOF {
				t.Fatalf("ended with %v, want io.EOF", err)
			}
			for i := range frames {
				frames[i].link = layers.LinkTypeLinuxSLL
			}
			checkFrames(t, got, frames)
			if st != (Stats{Packets: 3}) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func checkFrames(t *testing.T, got, want []frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		w := want[i]
		w.iface = 0
		if got[i] != w {
			t.Errorf("frame %d: got %+v, want %+v", i, got[i], w)
		}
	}
}

func TestPcapng(t *testing.T) {
	// Two sections: the second restarts interface numbers and changes
	// timestamp resolutions; link types differ per interface.
	sections := [][]ngIfaceSpec{
		{{link: layers.LinkTypeEthernet}, {link: layers.LinkTypeRaw, tsres: 9}},
		{{link: layers.LinkTypeLinuxSLL, tsres: 0x80 | 20}, {link: layers.LinkTypeEthernet, tsres: 9, offset: 1_000_000_000}},
	}
	frames := [][]frame{
		{
			{ts: 1_700_000_000_000_001_000, data: "eth", wire: 60, iface: 0, link: layers.LinkTypeEthernet},
			{ts: 1_700_000_000_000_001_001, data: "raw ip", wire: 40, iface: 1, link: layers.LinkTypeRaw},
		},
		{
			{ts: 1_700_000_001 << 20 * 1e9 >> 20, data: "sll, 2^-20 s", wire: 100, iface: 0, link: layers.LinkTypeLinuxSLL},
			{ts: 1_700_000_002_000_000_007, data: "offset", wire: 7, iface: 1, link: layers.LinkTypeEthernet},
		},
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(order.String(), func(t *testing.T) {
			path := writeTemp(t, "x.pcapng", pcapngFile(order, sections, frames))
			got, st, err := readAll(t, path)
			if err != io.EOF {
				t.Fatalf("ended with %v, want io.EOF", err)
			}
			checkFrames(t, got, append(append([]frame(nil), frames[0]...), frames[1]...))
			if st.Packets != 4 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestGzip(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(pcapFile(binary.LittleEndian, false, layers.LinkTypeEthernet, testFrames))
	zw.Close()
	got, _, err := readAll(t, writeTemp(t, "x.pcap.gz", b.Bytes()))
	if err != io.EOF || len(got) != 3 {
		t.Errorf("got %d frames, err %v", len(got), err)
	}
}

func TestGzipPcapng(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(append(append(ngHead(0), epb(1, "one")...), epb(2, "two")...))
	zw.Close()
	got, st, err := readAll(t, writeTemp(t, "x.pcapng.gz", b.Bytes()))
	if err != io.EOF || len(got) != 2 || got[1].data != "two" || got[1].ts != 2000 || st.Truncated != 0 {
		t.Errorf("got %+v, stats %+v, err %v", got, st, err)
	}
}

func TestTruncatedAndCorrupt(t *testing.T) {
	good := pcapFile(binary.LittleEndian, false, layers.LinkTypeEthernet, testFrames[:2])
	ng := pcapngFile(binary.LittleEndian, [][]ngIfaceSpec{{{link: layers.LinkTypeEthernet}}}, [][]frame{testFrames[:2]})
	corruptLen := bytes.Clone(good)
	binary.LittleEndian.PutUint32(corruptLen[24+8:], 1<<30) // first record's captured length
	badIface := bytes.Clone(ng)
	// The last block is the EPB of "second": 12 bytes of framing, 20
	// fixed, 8 of padded data. Its interface id follows type and length.
	binary.LittleEndian.PutUint32(badIface[len(ng)-40+8:], 7)
	for _, tc := range []struct {
		name      string
		data      []byte
		frames    int
		truncated uint64
		errText   string // "" for io.EOF
	}{
		{"pcap cut inside a record header", good[:len(good)-len(testFrames[1].data)-3], 1, 1, ""},
		{"pcap cut inside record data", good[:len(good)-2], 1, 1, ""},
		{"pcap cut after a record header", good[:len(good)-len(testFrames[1].data)], 1, 1, ""},
		{"pcap record longer than any snap length", corruptLen, 0, 0, "packet 1: corrupt capture: record of 1073741824 bytes"},
		{"pcapng cut inside a block", ng[:len(ng)-5], 1, 1, ""},
		{"pcapng cut inside a block header", ng[:len(ng)-40+5], 1, 1, ""},
		{"pcapng packet on an unknown interface", badIface, 1, 0, "packet 2: corrupt capture: packet on interface 7"},
		{"pcapng bad trailing length", append(bytes.Clone(ng[:len(ng)-4]), 1, 0, 0, 0), 1, 0, "trailing length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "x.cap", tc.data)
			got, st, err := readAll(t, path)
			if len(got) != tc.frames || st.Truncated != tc.truncated || st.Packets != uint64(tc.frames) {
				t.Errorf("got %d frames, stats %+v; want %d frames, truncated %d", len(got), st, tc.frames, tc.truncated)
			}
			switch {
			case tc.errText == "" && err != io.EOF:
				t.Errorf("ended with %v, want io.EOF", err)
			case tc.errText != "" && (err == nil || !strings.Contains(err.Error(), tc.errText) || !strings.Contains(err.Error(), path)):
				t.Errorf("ended with %v, want an error naming %s and containing %q", err, path, tc.errText)
			}
		})
	}
}

// Lengths checked against their block and the 16 MiB bound, records
// longer than the read buffer, libpcap's leniency, and what becomes of
// malformed options.
func TestRecordChecks(t *testing.T) {
	big := strings.Repeat("j", lookAhead+1000) // copied, not handed out in place
	bigPcap := pcapFile(binary.LittleEndian, true, layers.LinkTypeEthernet, []frame{{ts: 1, data: big, wire: len(big)}, {ts: 2, data: "x", wire: 1}})
	binary.LittleEndian.PutUint32(bigPcap[16:], 1<<20) // snap length
	caplenPastBlock := epb(2, "four")
	binary.LittleEndian.PutUint32(caplenPastBlock[20:], 1<<30)
	bigBadTrailer := append(ngHead(0), epb(1, big)...)
	binary.LittleEndian.PutUint32(bigBadTrailer[len(bigBadTrailer)-4:], 8)
	// A packet option claiming 64 bytes where 4 are left. Packet options
	// are never read: the block's own lengths are right, so is the frame.
	overrun := epb(2, "four", 1, 0, 64, 0, 0, 0, 0, 0)
	origBelowCaplen := pcapFile(binary.LittleEndian, false, layers.LinkTypeEthernet, []frame{{ts: 1e9, data: "twelve bytes", wire: 4}})
	opt := func(code, n uint16, v ...byte) []byte {
		o := binary.LittleEndian.AppendUint16(nil, code)
		o = binary.LittleEndian.AppendUint16(o, n)
		o = append(o, v...)
		for len(o)%4 != 0 {
			o = append(o, 0)
		}
		return o
	}
	withIfaceOpts := func(opts ...byte) []byte { return append(ngHead(0, opts...), epb(1, "one")...) }

	for _, tc := range []struct {
		name      string
		data      []byte
		frames    int
		wire      int // of the last frame
		truncated uint64
		errText   string // "" for io.EOF
	}{
		{"pcap original length below captured", origBelowCaplen, 1, 12, 0, ""},
		{"pcap record longer than the read buffer", bigPcap, 2, 1, 0, ""},
		{"pcap record over 16 MiB", append(bytes.Clone(bigPcap[:24]), le(0, 0, maxRecord+1, 10)...), 0, 0, 0, "packet 1: corrupt capture: record of 16777217 bytes"},
		{"pcapng frame longer than the read buffer", append(append(ngHead(0), epb(1, big)...), epb(2, "x")...), 2, 1, 0, ""},
		{"pcapng cut inside a long frame", append(ngHead(0), epb(1, big)...)[:lookAhead-100], 0, 0, 1, ""},
		{"pcapng bad trailer after a long frame", bigBadTrailer, 0, 0, 0, fmt.Sprintf("packet 1: corrupt capture: block type 0x6: length %d, trailing length 8", 32+len(big))},
		{"pcapng captured length past its block", append(append(ngHead(0), epb(1, "one")...), caplenPastBlock...), 1, 3, 0, "packet 2: corrupt capture: block type 0x6: 1073741824 bytes of data"},
		{"pcapng block shorter than its fields", append(ngHead(0), ngBlock(ngEnhanced, le(0), 0)...), 0, 0, 0, "packet 1: corrupt capture: block type 0x6 of length 16"},
		{"pcapng block over 16 MiB", append(ngHead(0), ngBlock(ngEnhanced, le(0, 0, 0, 4, 4), 32<<20)...), 0, 0, 0, "packet 1: corrupt capture: block type 0x6 of length 33554432"},
		{"pcapng block length not a multiple of 4", append(ngHead(0), ngBlock(ngEnhanced, le(0, 0, 0, 4, 4), 34)...), 0, 0, 0, "packet 1: corrupt capture: block type 0x6 of length 34"},
		{"pcapng packet option past its block", append(append(append(ngHead(0), epb(1, "one")...), overrun...), epb(3, "three")...), 3, 5, 0, ""},
		{"pcapng interface option past its block", withIfaceOpts(opt(2, 64, 'e', 't', 'h', '0')...), 0, 0, 0, "packet 1: corrupt capture: interface 0: option 2 of 64 bytes runs past its block"},
		{"pcapng if_tsresol too fine", withIfaceOpts(opt(optTSResol, 1, 20)...), 0, 0, 0, "interface 0: timestamp resolution 0x14"},
		{"pcapng if_tsresol of 2 bytes", withIfaceOpts(opt(optTSResol, 2, 9, 0)...), 0, 0, 0, "interface 0: if_tsresol of 2 bytes"},
		{"pcapng if_tsoffset of 4 bytes", withIfaceOpts(opt(optTSOffset, 4, 1, 0, 0, 0)...), 0, 0, 0, "interface 0: if_tsoffset of 4 bytes"},
		{"pcapng unknown interface option", withIfaceOpts(append(opt(2, 4, 'e', 't', 'h', '0'), opt(optEnd, 0)...)...), 1, 3, 0, ""},
		{"pcapng simple packet on no interface", append(ngSHB(), ngBlock(ngSimple, append(le(1), 'x'), 0)...), 0, 0, 0, "packet 1: corrupt capture: packet on interface 0, section has 0"},
		{"pcapng simple packet longer than its block", append(ngHead(0), ngBlock(ngSimple, append(le(10), "01234"...), 0)...), 0, 0, 0, "block type 0x3: 10 bytes of data, room for 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "x.cap", tc.data)
			got, st, err := readAll(t, path)
			if len(got) != tc.frames || st.Truncated != tc.truncated || st.Packets != uint64(tc.frames) {
				t.Errorf("got %d frames, stats %+v; want %d frames, truncated %d (err %v)", len(got), st, tc.frames, tc.truncated, err)
			}
			if len(got) > 0 && got[len(got)-1].wire != tc.wire {
				t.Errorf("last frame's wire length %d, want %d", got[len(got)-1].wire, tc.wire)
			}
			if len(got) > 0 && len(got[0].data) == len(big) && got[0].data != big {
				t.Errorf("long frame's bytes differ")
			}
			switch {
			case tc.errText == "" && err != io.EOF:
				t.Errorf("ended with %v, want io.EOF", err)
			case tc.errText != "" && (err == nil || !strings.Contains(err.Error(), tc.errText)):
				t.Errorf("ended with %v, want an error containing %q", err, tc.errText)
			}
		})
	}
}

// A corrupt length must be an error or a truncation, not an allocation of
// what the file claims: over 16 MiB it is corruption; below, a record
// longer than the read buffer is buffered as its bytes arrive.
func TestCorruptLengthAllocation(t *testing.T) {
	filler := bytes.Repeat([]byte{0}, 40<<20)
	ng := append(ngHead(0), epb(1, "one")...)
	bad := epb(2, "two")
	binary.LittleEndian.PutUint32(bad[4:], 24<<20)  // block length
	binary.LittleEndian.PutUint32(bad[20:], 20<<20) // captured length
	ng = append(append(ng, bad...), filler...)

	hugeSnap := pcapFile(binary.LittleEndian, false, layers.LinkTypeEthernet, []frame{{ts: 1e9, data: "one", wire: 3}})
	binary.LittleEndian.PutUint32(hugeSnap[16:], 0xffffffff) // snap length
	hugeSnap = append(hugeSnap, le(0, 0, 30<<20, 30<<20)...)
	hugeSnap = append(hugeSnap, filler...)

	short := append(ngHead(0), epb(1, "one")...)
	short = append(short, ngBlock(ngEnhanced, le(0, 0, 0, 15<<20, 15<<20), 15<<20+32)[:28]...)
	short = append(short, make([]byte, 1000)...)

	for _, tc := range []struct {
		name  string
		data  []byte
		end   error // errCorrupt or io.ErrUnexpectedEOF
		bytes uint64
	}{
		{"pcapng block over 16 MiB", ng, errCorrupt, 2 * lookAhead},
		{"pcap record over 16 MiB", hugeSnap, errCorrupt, 2 * lookAhead},
		{"pcapng 15 MiB block in a short file", short, io.ErrUnexpectedEOF, 4 * lookAhead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := newFrameReader(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			var info Info
			n := 0
			for ; ; n++ {
				if _, err = r.next(&info); err != nil {
					break
				}
			}
			runtime.ReadMemStats(&after)
			if n != 1 || !errors.Is(err, tc.end) {
				t.Errorf("%d frames, then %v; want 1 and %v", n, err, tc.end)
			}
			if a := after.TotalAlloc - before.TotalAlloc; a > tc.bytes {
				t.Errorf("allocated %d bytes, want at most %d", a, tc.bytes)
			}
		})
	}
}

// Simple Packet Blocks carry no timestamp: they take the previous packet's.
func TestSimplePacketBlock(t *testing.T) {
	spb := ngBlock(ngSimple, append(le(10), "0123456789"...), 0)
	data := append(append(ngHead(4), epb(7, "eth")...), spb...)
	got, _, err := readAll(t, writeTemp(t, "x.pcapng", data))
	want := []frame{
		{ts: 7000, data: "eth", wire: 3, link: layers.LinkTypeEthernet},
		{ts: 7000, data: "0123", wire: 10, link: layers.LinkTypeEthernet}, // cut to interface 0's snap length
	}
	if err != io.EOF {
		t.Fatalf("ended with %v", err)
	}
	checkFrames(t, got, want)
}

// Timestamps in binary units (if_tsresol 2^-n) are exact: the file's units
// times 10^9/2^n, rounded down, plus if_tsoffset. pcapgo is off by up to
// 46% of the sub-second part (n = 29).
func TestBinaryTimestamps(t *testing.T) {
	const ts = 1_700_000_000_999_123_456
	for _, n := range []byte{0, 1, 20, 29, 30, 32, 33} { // 2^-34 units of 2023 overflow 64 bits
		ifc := []ngIfaceSpec{{link: layers.LinkTypeEthernet, tsres: 0x80 | n}, {link: layers.LinkTypeRaw, tsres: 0x80 | n, offset: 3600}}
		frames := []frame{{ts: ts, data: "a", wire: 1}, {ts: ts + 1e6, data: "b", wire: 1, iface: 1}}
		data := pcapngFile(binary.LittleEndian, [][]ngIfaceSpec{ifc}, [][]frame{frames})
		got, _, err := readAll(t, writeTemp(t, "x.pcapng", data))
		if err != io.EOF || len(got) != 2 {
			t.Fatalf("2^-%d: %d frames, err %v", n, len(got), err)
		}
		for i, f := range frames {
			units := new(big.Int).SetUint64(ngUnits(ifc[f.iface], f.ts))
			want := units.Mul(units, big.NewInt(1e9)).Rsh(units, uint(n)).Int64() + ifc[f.iface].offset*1e9
			if got[i].ts != want {
				t.Errorf("2^-%d: frame %d at %d, want %d", n, i, got[i].ts, want)
			}
			if d := f.ts - got[i].ts; d < 0 || d > 1e9>>min(n, 30)+1 {
				t.Errorf("2^-%d: frame %d at %d, written at %d", n, i, got[i].ts, f.ts)
			}
		}
	}
}

// Every frame, in place or from the large-record buffer, costs no
// allocation once the buffers have grown.
func TestFileAllocs(t *testing.T) {
	var frames []frame
	for i := range 3000 {
		size := []int{60, 1514, 590}[i%3]
		if i%100 == 50 {
			size = lookAhead + 1 // copied
		}
		frames = append(frames, frame{ts: int64(i) * 1000, data: strings.Repeat("x", size), wire: size, iface: i % 2})
	}
	pcap := pcapFile(binary.LittleEndian, true, layers.LinkTypeEthernet, frames)
	binary.LittleEndian.PutUint32(pcap[16:], 1<<20) // snap length
	ng := pcapngFile(binary.BigEndian, [][]ngIfaceSpec{{{link: layers.LinkTypeEthernet, tsres: 9}, {link: layers.LinkTypeRaw, tsres: 0x80 | 24}}}, [][]frame{frames})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(ng)
	zw.Close()
	for name, data := range map[string][]byte{"pcap": pcap, "pcapng": ng, "pcapng.gz": gz.Bytes()} {
		t.Run(name, func(t *testing.T) {
			src, err := OpenFile(writeTemp(t, "x."+name, data))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			for range 100 { // past the first long record
				if _, _, err := src.Next(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(2000, func() {
				if _, _, err := src.Next(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per frame", allocs)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ngV2 := ngSHB()
	binary.LittleEndian.PutUint16(ngV2[12:], 2)
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "shorter than a file header"},
		{"text", "hello, world", "unknown magic number"},
		{"pcap header cut", "\xd4\xc3\xb2\xa1\x02\x00", "pcap file header"},
		{"pcap version 1", "\xd4\xc3\xb2\xa1\x01\x00\x04\x00" + strings.Repeat("\x00", 16), "pcap version 1"},
		{"pcapng section header cut", string(ngSHB()[:20]), "pcapng section header: unexpected EOF"},
		{"pcapng without byte-order magic", string(ngSHB()[:8]) + "\x00\x00\x00\x00" + string(ngSHB()[12:]), "section header without byte-order magic"},
		{"pcapng version 2", string(ngV2), "pcapng version 2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "x.cap", []byte(tc.data))
			_, err := OpenFile(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "open capture "+path) {
				t.Errorf("got %v, want open capture %s: ...%s", err, path, tc.want)
			}
		})
	}
	_, err := OpenFile("/nonexistent/x.pcap")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestSharedCaptures reads the public captures; counts are tcpdump's
// (tcpdump -r FILE | wc -l).
func TestSharedCaptures(t *testing.T) {
	dir := "../../../shared/testdata/zeek-conn"
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared test data not found")
	}
	for name, want := range sharedCounts {
		got, st, err := readAll(t, filepath.Join(dir, name))
		if err != io.EOF || len(got) != want || st.Truncated != 0 {
			t.Errorf("%s: %d frames (stats %+v, err %v), want %d", name, len(got), st, err, want)
		}
	}
}

// FuzzReader checks that no input makes a reader panic or loop, and that
// frames are consistent.
func FuzzReader(f *testing.F) {
	f.Add(pcapFile(binary.LittleEndian, false, layers.LinkTypeEthernet, testFrames))
	f.Add(pcapFile(binary.BigEndian, true, layers.LinkTypeEthernet, testFrames))
	f.Add(pcapngFile(binary.LittleEndian, [][]ngIfaceSpec{{{link: 1}, {link: 101, tsres: 0x85}}}, [][]frame{{{ts: 5, data: "x", iface: 1}}}))
	f.Add(append(append(ngHead(4), epb(7, "eth")...), ngBlock(ngSimple, append(le(10), "0123456789"...), 0)...))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(pcapngFile(binary.BigEndian, [][]ngIfaceSpec{{{link: 1, offset: 7}}}, [][]frame{{{ts: 5e9, data: "xy", wire: 9}}}))
	zw.Close()
	f.Add(gz.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newFrameReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Every frame or block consumes at least 12 bytes of the stream.
		size := len(data)
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			n, _ := io.Copy(io.Discard, zr)
			size += int(n)
		}
		var info Info
		for range size/12 + 1 {
			d, err := r.next(&info)
			if err != nil {
				return
			}
			if info.WireLen < len(d) || len(d) > maxRecord {
				t.Fatalf("frame of %d bytes, wire length %d", len(d), info.WireLen)
			}
		}
		t.Fatal("reader did not end")
	})
}

var sharedCounts = map[string]int{
	"dhcp_dhcp.pcap":                          9,
	"ftp_ipv4.pcap":                           95,
	"ftp_ipv6.pcap":                           136,
	"http_concurrent-range-requests.pcap":     57,
	"mixed-vlan-mpls.pcap":                    47,
	"mpls-in-vlan.pcap":                       3,
	"pop3_pop3.pcap":                          125,
	"pppoe.pcap":                              65,
	"q-in-q.pcap":                             5,
	"ssh_ssh.pcap":                            1797,
	"tcp-http-with-padding.pcap":              25,
	"tcp_missing-syn.pcap":                    21,
	"wikipedia.pcap":                          136,
	"irc-dcc-send.pcapng":                     1184,
	"pcapng-multi-interface.pcapng":           6,
	"tcp_http-on-irc-port-missing-syn.pcapng": 13,
}
