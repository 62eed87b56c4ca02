// Package decodetest reads pcap and pcapng files into memory for tests and
// benchmarks of the packet decoding path. It exists because gopacket's
// pcapgo needs golang.org/x/net, which the module does not require; it is
// test support, not a packet source (that is sensor/source).
package decodetest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/gopacket/gopacket/layers"
)

// Frame is one captured frame.
type Frame struct {
	Data     []byte
	LinkType layers.LinkType
	TS       int64 // Unix nanoseconds
	WireLen  int
}

// ReadFile loads every frame of a pcap or pcapng file (detected by magic).
func ReadFile(path string) ([]Frame, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var frames []Frame
	if len(raw) >= 4 && binary.LittleEndian.Uint32(raw) == 0x0A0D0D0A {
		frames, err = readNg(raw)
	} else {
		frames, err = readPcap(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("read capture %s: %w", path, err)
	}
	return frames, nil
}

var errShort = errors.New("file ends inside a record")

func readPcap(raw []byte) ([]Frame, error) {
	if len(raw) < 24 {
		return nil, errShort
	}
	var bo binary.ByteOrder
	var nano bool
	switch m := binary.LittleEndian.Uint32(raw); m {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo, nano = binary.LittleEndian, m == 0xa1b23c4d
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo, nano = binary.BigEndian, m == 0x4d3cb2a1
	default:
		return nil, fmt.Errorf("not a pcap file (magic %#x)", m)
	}
	lt := layers.LinkType(bo.Uint32(raw[20:]) & 0xffff) // upper bits: FCS info
	var frames []Frame
	for off := 24; off < len(raw); {
		if off+16 > len(raw) {
			return nil, errShort
		}
		sec, frac := int64(bo.Uint32(raw[off:])), int64(bo.Uint32(raw[off+4:]))
		capLen, wireLen := int(bo.Uint32(raw[off+8:])), int(bo.Uint32(raw[off+12:]))
		off += 16
		if off+capLen > len(raw) {
			return nil, errShort
		}
		if !nano {
			frac *= 1000
		}
		frames = append(frames, Frame{Data: raw[off : off+capLen], LinkType: lt, TS: sec*1e9 + frac, WireLen: wireLen})
		off += capLen
	}
	return frames, nil
}

type ngInterface struct {
	lt          layers.LinkType
	unitsPerSec float64 // timestamp units per second (if_tsresol)
}

// readNg reads the blocks tests need: section header, interface
// description (link type, if_tsresol), enhanced and simple packets.
func readNg(raw []byte) ([]Frame, error) {
	var bo binary.ByteOrder = binary.LittleEndian
	var intfs []ngInterface
	var frames []Frame
	for off := 0; off < len(raw); {
		if off+12 > len(raw) {
			return nil, errShort
		}
		typ := binary.LittleEndian.Uint32(raw[off:])
		if typ == 0x0A0D0D0A { // section header: byte order magic decides
			if binary.LittleEndian.Uint32(raw[off+8:]) == 0x1A2B3C4D {
				bo = binary.LittleEndian
			} else {
				bo = binary.BigEndian
			}
			intfs = intfs[:0]
		} else {
			typ = bo.Uint32(raw[off:])
		}
		blen := int(bo.Uint32(raw[off+4:]))
		if blen < 12 || off+blen > len(raw) {
			return nil, errShort
		}
		body := raw[off+8 : off+blen-4]
		switch typ {
		case 1: // interface description
			if len(body) < 8 {
				return nil, errShort
			}
			intfs = append(intfs, ngInterface{lt: layers.LinkType(bo.Uint16(body)), unitsPerSec: tsresol(body[8:], bo)})
		case 6: // enhanced packet
			if len(body) < 20 {
				return nil, errShort
			}
			id := int(bo.Uint32(body))
			if id >= len(intfs) {
				return nil, fmt.Errorf("packet on undeclared interface %d", id)
			}
			ts := uint64(bo.Uint32(body[4:]))<<32 | uint64(bo.Uint32(body[8:]))
			capLen, wireLen := int(bo.Uint32(body[12:])), int(bo.Uint32(body[16:]))
			if 20+capLen > len(body) {
				return nil, errShort
			}
			intf := intfs[id]
			sec := float64(ts) / intf.unitsPerSec
			frames = append(frames, Frame{Data: body[20 : 20+capLen], LinkType: intf.lt, TS: int64(math.Round(sec * 1e9)), WireLen: wireLen})
		case 3: // simple packet: interface 0, no timestamp
			if len(body) < 4 || len(intfs) == 0 {
				return nil, errShort
			}
			wireLen := int(bo.Uint32(body))
			data := body[4:]
			if wireLen < len(data) {
				data = data[:wireLen]
			}
			frames = append(frames, Frame{Data: data, LinkType: intfs[0].lt, WireLen: wireLen})
		}
		off += blen
	}
	return frames, nil
}

// tsresol reads the if_tsresol option (code 9) from an interface
// description's options; the default is microseconds.
func tsresol(opts []byte, bo binary.ByteOrder) float64 {
	for len(opts) >= 4 {
		code, n := bo.Uint16(opts), int(bo.Uint16(opts[2:]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		if code == 9 && n >= 1 {
			v := opts[4]
			if v&0x80 != 0 {
				return math.Pow(2, float64(v&0x7f))
			}
			return math.Pow(10, float64(v))
		}
		opts = opts[4+(n+3)&^3:]
	}
	return 1e6
}
