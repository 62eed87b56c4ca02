package source

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// Encoders of the capture files the tests read.

// frame is what a test writes and expects back.
type frame struct {
	ts    int64 // Unix ns
	data  string
	wire  int
	iface int
	link  layers.LinkType
}

// pcapFile encodes frames as classic pcap, snap length 65535.
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

// ngUnits is ts (Unix ns) in an interface's timestamp units, rounded down.
func ngUnits(ifc ngIfaceSpec, ts int64) uint64 {
	units := uint64(ts - ifc.offset*1e9)
	switch res := ifc.tsres; {
	case res == 0:
		units /= 1000
	case res&0x80 != 0:
		sh := res & 0x7f
		units = units/1e9<<sh + units%1e9<<sh/1e9
	default:
		for ; res < 9; res++ {
			units /= 10
		}
	}
	return units
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
			units := ngUnits(ifaces[f.iface], f.ts)
			body := enc(uint32(f.iface), uint32(units>>32), uint32(units), uint32(len(f.data)), uint32(f.wire))
			block(ngEnhanced, append(body, f.data...))
		}
	}
	return b.Bytes()
}

// ngBlock encodes one little-endian pcapng block; total overrides the
// length fields when non-zero.
func ngBlock(typ uint32, body []byte, total uint32) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	if total == 0 {
		total = uint32(len(body) + 12)
	}
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, total)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, total)
}

// le encodes little-endian uint32s.
func le(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// ngSHB is a little-endian section header.
func ngSHB() []byte {
	return ngBlock(ngSection, append(le(ngByteMagic, 1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0)
}

// ngHead is a section header and one Ethernet interface (µs timestamps);
// opts are the interface's options.
func ngHead(snaplen uint32, opts ...byte) []byte {
	return append(ngSHB(), ngBlock(ngInterface, append(le(1, snaplen), opts...), 0)...)
}

// epb is an Enhanced Packet Block on interface 0 at ts µs.
func epb(ts uint32, data string, opts ...byte) []byte {
	body := append(le(0, 0, ts, uint32(len(data)), uint32(len(data))), data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	return ngBlock(ngEnhanced, append(body, opts...), 0)
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
