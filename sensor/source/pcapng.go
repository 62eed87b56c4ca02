package source

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"

	"github.com/gopacket/gopacket/layers"
)

// pcapng block types.
const (
	ngSection   = 0x0a0d0d0a
	ngInterface = 0x00000001
	ngObsolete  = 0x00000002 // "Packet Block", deprecated but still written by old tools
	ngSimple    = 0x00000003
	ngEnhanced  = 0x00000006
	ngByteMagic = 0x1a2b3c4d
	optEnd      = 0
	optTSResol  = 9
	optTSOffset = 14
)

// ngIface is what an Interface Description Block says about packets
// that name it.
type ngIface struct {
	link    layers.LinkType
	snaplen uint32
	// Timestamps are units of 10^-exp or 2^-exp seconds.
	binary bool
	exp    uint8
	offset int64 // seconds added to every timestamp (if_tsoffset)
}

// pcapngReader reads pcapng: sections (each with its byte order) of
// interfaces and packets. Interface numbers are per section.
type pcapngReader struct {
	r      *bufio.Reader
	order  binary.ByteOrder
	ifaces []ngIface
	hdr    [12]byte
	buf    []byte
	lastTS int64 // Simple Packet Blocks carry no timestamp
	inSect bool  // a section header was read
}

func newPcapngReader(r *bufio.Reader) (*pcapngReader, error) {
	return &pcapngReader{r: r, order: binary.LittleEndian}, nil
}

// block reads the next block and returns its type and body (without the
// type, the lengths and, for a section header, the byte-order magic).
func (p *pcapngReader) block() (uint32, []byte, error) {
	if err := readFull(p.r, p.hdr[:8]); err != nil {
		return 0, nil, err
	}
	typ := p.order.Uint32(p.hdr[0:4]) // a section's type reads the same in both orders
	head := 8
	if typ == ngSection {
		if err := readFull(p.r, p.hdr[8:12]); err != nil {
			return 0, nil, io.ErrUnexpectedEOF
		}
		switch {
		case binary.LittleEndian.Uint32(p.hdr[8:12]) == ngByteMagic:
			p.order = binary.LittleEndian
		case binary.BigEndian.Uint32(p.hdr[8:12]) == ngByteMagic:
			p.order = binary.BigEndian
		default:
			return 0, nil, fmt.Errorf("%w: section header without byte-order magic", errCorrupt)
		}
		head = 12
	}
	total := p.order.Uint32(p.hdr[4:8])
	if total%4 != 0 || total < uint32(head)+4 || total > maxRecord {
		return 0, nil, fmt.Errorf("%w: block type %#x of length %d", errCorrupt, typ, total)
	}
	p.buf = grow(p.buf, int(total)-head)
	if err := readFull(p.r, p.buf); err != nil {
		return 0, nil, io.ErrUnexpectedEOF
	}
	body := p.buf[:len(p.buf)-4]
	if trailer := p.order.Uint32(p.buf[len(body):]); trailer != total {
		return 0, nil, fmt.Errorf("%w: block type %#x: length %d, trailing length %d", errCorrupt, typ, total, trailer)
	}
	if !p.inSect && typ != ngSection {
		return 0, nil, fmt.Errorf("%w: pcapng file does not start with a section header", errCorrupt)
	}
	return typ, body, nil
}

func (p *pcapngReader) next(info *Info) ([]byte, error) {
	for {
		typ, b, err := p.block()
		if err != nil {
			return nil, err
		}
		var ifc, caplen, wirelen uint32
		var ts uint64
		switch typ {
		case ngSection:
			p.ifaces, p.inSect = p.ifaces[:0], true // interface numbers restart per section
			continue
		case ngInterface:
			if err := p.addInterface(b); err != nil {
				return nil, err
			}
			continue
		case ngEnhanced:
			if len(b) < 20 {
				return nil, fmt.Errorf("%w: enhanced packet block of %d bytes", errCorrupt, len(b))
			}
			ifc = p.order.Uint32(b[0:4])
			ts = uint64(p.order.Uint32(b[4:8]))<<32 | uint64(p.order.Uint32(b[8:12]))
			caplen, wirelen, b = p.order.Uint32(b[12:16]), p.order.Uint32(b[16:20]), b[20:]
		case ngObsolete:
			if len(b) < 20 {
				return nil, fmt.Errorf("%w: packet block of %d bytes", errCorrupt, len(b))
			}
			ifc = uint32(p.order.Uint16(b[0:2]))
			ts = uint64(p.order.Uint32(b[4:8]))<<32 | uint64(p.order.Uint32(b[8:12]))
			caplen, wirelen, b = p.order.Uint32(b[12:16]), p.order.Uint32(b[16:20]), b[20:]
		case ngSimple:
			if len(b) < 4 {
				return nil, fmt.Errorf("%w: simple packet block of %d bytes", errCorrupt, len(b))
			}
			wirelen, b = p.order.Uint32(b[0:4]), b[4:]
			caplen = min(wirelen, uint32(len(b)))
			if len(p.ifaces) > 0 && p.ifaces[0].snaplen > 0 {
				caplen = min(caplen, p.ifaces[0].snaplen)
			}
		default:
			continue // statistics, name resolution, secrets, custom blocks
		}
		if int(ifc) >= len(p.ifaces) {
			return nil, fmt.Errorf("%w: packet on interface %d, section has %d", errCorrupt, ifc, len(p.ifaces))
		}
		if uint64(caplen) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: captured length %d exceeds its block", errCorrupt, caplen)
		}
		iface := &p.ifaces[ifc]
		if typ == ngSimple {
			info.Timestamp = p.lastTS
		} else {
			info.Timestamp = iface.nanos(ts)
			p.lastTS = info.Timestamp
		}
		info.WireLen = int(max(wirelen, caplen))
		info.LinkType = iface.link
		return b[:caplen], nil
	}
}

func (p *pcapngReader) addInterface(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%w: interface block of %d bytes", errCorrupt, len(b))
	}
	ifc := ngIface{link: layers.LinkType(p.order.Uint16(b[0:2])), snaplen: p.order.Uint32(b[4:8]), exp: 6}
	for o := b[8:]; len(o) >= 4; {
		code, n := p.order.Uint16(o[0:2]), int(p.order.Uint16(o[2:4]))
		o = o[4:]
		if code == optEnd || n > len(o) {
			break
		}
		v := o[:n]
		switch {
		case code == optTSResol && n >= 1:
			ifc.binary, ifc.exp = v[0]&0x80 != 0, v[0]&0x7f
			if ifc.binary && ifc.exp > 63 || !ifc.binary && ifc.exp > 19 {
				return fmt.Errorf("%w: timestamp resolution %#x", errCorrupt, v[0])
			}
		case code == optTSOffset && n >= 8:
			ifc.offset = int64(p.order.Uint64(v))
		}
		o = o[min(len(o), (n+3)&^3):]
	}
	p.ifaces = append(p.ifaces, ifc)
	return nil
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// nanos converts a timestamp in the interface's units to Unix nanoseconds.
func (i *ngIface) nanos(ts uint64) int64 {
	var ns uint64
	switch {
	case i.binary:
		hi, lo := bits.Mul64(ts, 1e9)
		ns = lo>>i.exp | hi<<(64-uint(i.exp)) // a shift by 64 gives 0
	case i.exp <= 9:
		ns = ts * pow10[9-i.exp]
	default:
		ns = ts / pow10[i.exp-9]
	}
	return int64(ns) + i.offset*1e9
}
