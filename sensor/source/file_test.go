package source

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// frame is what a test writes and expects back.
type frame struct {
	ts    int64 // Unix ns
	data  string
	wire  int
	iface int
	link  layers.LinkType
}

// pcapFile encodes frames as classic pcap.
func pcapFile(order binary.ByteOrder, nano bool, link layers.LinkType, frames []frame) []byte {
	var b bytes.Buffer
	magic := uint32(magicPcapMicro)
	if nano {
		magic = magicPcapNano
	}
	w := func(v any) { binary.Write(&b, order, v) }
	w(magic)
	w(uint16(2))
	w(uint16(4))
	w(int32(0))
	w(uint32(0))
	w(uint32(65535))
	w(uint32(link))
	for _, f := range frames {
		frac := f.ts % 1e9
		if !nano {
			frac /= 1000
		}
		w(uint32(f.ts / 1e9))
		w(uint32(frac))
		w(uint32(len(f.data)))
		w(uint32(f.wire))
		b.WriteString(f.data)
	}
	return b.Bytes()
}

type ngIfaceSpec struct {
	link   layers.LinkType
	tsres  byte // 0: default (µs)
	offset int64
}

// pcapngFile encodes one section per element of sections.
func pcapngFile(order binary.ByteOrder, sections [][]ngIfaceSpec, frames [][]frame) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, order, v) }
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		w(typ)
		w(uint32(len(body) + 12))
		b.Write(body)
		w(uint32(len(body) + 12))
	}
	enc := func(vs ...any) []byte {
		var bb bytes.Buffer
		for _, v := range vs {
			binary.Write(&bb, order, v)
		}
		return bb.Bytes()
	}
	for s, ifaces := range sections {
		block(ngSection, enc(uint32(ngByteMagic), uint16(1), uint16(0), int64(-1)))
		for _, ifc := range ifaces {
			body := enc(uint16(ifc.link), uint16(0), uint32(0))
			if ifc.tsres != 0 {
				body = append(body, enc(uint16(optTSResol), uint16(1), ifc.tsres, [3]byte{})...)
			}
			if ifc.offset != 0 {
				body = append(body, enc(uint16(optTSOffset), uint16(8), ifc.offset)...)
			}
			body = append(body, enc(uint16(0), uint16(0))...)
			block(ngInterface, body)
		}
		// An interface statistics block, to be skipped.
		block(5, enc(uint32(0), uint32(0), uint32(0)))
		for _, f := range frames[s] {
			units := uint64(f.ts - ifaces[f.iface].offset*1e9)
			switch res := ifaces[f.iface].tsres; {
			case res == 0:
				units /= 1000
			case res == 9:
			case res&0x80 != 0:
				sh := res & 0x7f
				units = units/1e9<<sh + units%1e9<<sh/1e9
			}
			body := enc(uint32(f.iface), uint32(units>>32), uint32(units), uint32(len(f.data)), uint32(f.wire))
			block(ngEnhanced, append(body, f.data...))
		}
	}
	return b.Bytes()
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

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

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "shorter than a file header"},
		{"text", "hello, world", "unknown magic number"},
		{"pcap header cut", "\xd4\xc3\xb2\xa1\x02\x00", "pcap file header"},
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

// FuzzReader checks that no input makes a reader panic or loop.
func FuzzReader(f *testing.F) {
	f.Add(pcapFile(binary.LittleEndian, false, layers.LinkTypeEthernet, testFrames))
	f.Add(pcapFile(binary.BigEndian, true, layers.LinkTypeEthernet, testFrames))
	f.Add(pcapngFile(binary.LittleEndian, [][]ngIfaceSpec{{{link: 1}, {link: 101, tsres: 0x85}}}, [][]frame{{{ts: 5, data: "x", iface: 1}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newFrameReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var info Info
		for range len(data) + 1 { // every frame or block consumes bytes
			if _, err := r.next(&info); err != nil {
				return
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
