package source

import (
	"encoding/binary"
	"fmt"
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
)

// pcapngReader reads pcapng: sections (each with its byte order) of
// interfaces and packets. Interface numbers are per section.
type pcapngReader struct {
	in     records
	order  binary.ByteOrder
	ifaces []ngIface
	lastTS int64 // Simple Packet Blocks carry no timestamp
}

// newPcapngReader reads the first section header, so that a file too
// damaged to start is an error from OpenFile, as for pcap.
func newPcapngReader(in records) (*pcapngReader, error) {
	p := &pcapngReader{in: in, order: binary.LittleEndian}
	if _, _, err := p.block(); err != nil {
		return nil, fmt.Errorf("%w: pcapng section header: %v", errCorrupt, cut(err))
	}
	return p, nil
}

// minBlock is the smallest valid total length of a block of type typ: its
// fixed fields with type, length and trailing length. Blocks that are
// skipped need only be whole.
func minBlock(typ uint32) uint32 {
	switch typ {
	case ngSection:
		return 28
	case ngInterface:
		return 20
	case ngSimple:
		return 16
	case ngEnhanced, ngObsolete:
		return 32
	}
	return 12
}

// block reads the next block, checks its lengths and returns its type and
// body (after type and length, before the trailing length). A section
// header is handled here: it sets the byte order and starts a new list of
// interfaces.
func (p *pcapngReader) block() (uint32, []byte, error) {
	h, err := p.in.peek(8)
	if err != nil {
		return 0, nil, err
	}
	typ := p.order.Uint32(h[0:4]) // a section's type reads the same in both orders
	order := p.order
	if typ == ngSection {
		if h, err = p.in.peek(12); err != nil {
			return 0, nil, cut(err)
		}
		switch {
		case binary.LittleEndian.Uint32(h[8:12]) == ngByteMagic:
			order = binary.LittleEndian
		case binary.BigEndian.Uint32(h[8:12]) == ngByteMagic:
			order = binary.BigEndian
		default:
			return 0, nil, fmt.Errorf("%w: section header without byte-order magic", errCorrupt)
		}
	}
	total := order.Uint32(h[4:8])
	if total%4 != 0 || total < minBlock(typ) || total > maxRecord {
		return 0, nil, fmt.Errorf("%w: block type %#x of length %d", errCorrupt, typ, total)
	}
	b, err := p.in.take(int(total))
	if err != nil {
		return 0, nil, err
	}
	if trailer := order.Uint32(b[total-4:]); trailer != total {
		return 0, nil, fmt.Errorf("%w: block type %#x: length %d, trailing length %d", errCorrupt, typ, total, trailer)
	}
	body := b[8 : total-4]
	if typ == ngSection {
		// Sections of another major version may lay out blocks differently.
		if major, minor := order.Uint16(body[4:6]), order.Uint16(body[6:8]); major != 1 {
			return 0, nil, fmt.Errorf("%w: pcapng version %d.%d", errCorrupt, major, minor)
		}
		p.order, p.ifaces = order, p.ifaces[:0]
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
		case ngInterface:
			if err := p.addInterface(b); err != nil {
				return nil, err
			}
			continue
		case ngEnhanced:
			ifc = p.order.Uint32(b[0:4])
			ts = uint64(p.order.Uint32(b[4:8]))<<32 | uint64(p.order.Uint32(b[8:12]))
			caplen, wirelen, b = p.order.Uint32(b[12:16]), p.order.Uint32(b[16:20]), b[20:]
		case ngObsolete:
			ifc = uint32(p.order.Uint16(b[0:2]))
			ts = uint64(p.order.Uint32(b[4:8]))<<32 | uint64(p.order.Uint32(b[8:12]))
			caplen, wirelen, b = p.order.Uint32(b[12:16]), p.order.Uint32(b[16:20]), b[20:]
		case ngSimple:
			// No captured length: the original one, cut to interface 0's
			// snap length.
			wirelen, b = p.order.Uint32(b[0:4]), b[4:]
			caplen = wirelen
			if len(p.ifaces) > 0 && p.ifaces[0].snaplen > 0 {
				caplen = min(caplen, p.ifaces[0].snaplen)
			}
		default:
			// Section headers (handled by block), statistics, name
			// resolution, secrets, custom blocks. Their options, like a
			// packet's, are never read: the block's lengths bound them.
			continue
		}
		if int(ifc) >= len(p.ifaces) {
			return nil, fmt.Errorf("%w: packet on interface %d, section has %d", errCorrupt, ifc, len(p.ifaces))
		}
		if uint64(caplen) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: block type %#x: %d bytes of data, room for %d", errCorrupt, typ, caplen, len(b))
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

// ngIface is what an Interface Description Block says about packets that
// name it.
type ngIface struct {
	link    layers.LinkType
	snaplen uint32
	// Timestamps are units of 2^-exp seconds if binary, else 10^-exp.
	binary bool
	exp    uint8
	offset int64 // nanoseconds added to every timestamp (if_tsoffset)
}

// Interface Description Block options that set timestamps.
const (
	optEnd      = 0
	optTSResol  = 9
	optTSOffset = 14
)

// addInterface reads an Interface Description Block's body. Its timestamp
// options decide every packet's time on the interface, so one that cannot
// be read is an error, as in libpcap, rather than a silently wrong clock;
// so is an option that runs past the block, as the options after it cannot
// be found. Other options are skipped.
func (p *pcapngReader) addInterface(b []byte) error {
	id := len(p.ifaces)
	ifc := ngIface{link: layers.LinkType(p.order.Uint16(b[0:2])), snaplen: p.order.Uint32(b[4:8]), exp: 6}
	for o := b[8:]; len(o) >= 4; {
		code, n := p.order.Uint16(o[0:2]), int(p.order.Uint16(o[2:4]))
		o = o[4:]
		if code == optEnd {
			break
		}
		if n > len(o) {
			return fmt.Errorf("%w: interface %d: option %d of %d bytes runs past its block", errCorrupt, id, code, n)
		}
		v := o[:n]
		switch code {
		case optTSResol:
			if n != 1 {
				return fmt.Errorf("%w: interface %d: if_tsresol of %d bytes", errCorrupt, id, n)
			}
			ifc.binary, ifc.exp = v[0]&0x80 != 0, v[0]&0x7f
			if ifc.binary && ifc.exp > 63 || !ifc.binary && ifc.exp > 19 {
				return fmt.Errorf("%w: interface %d: timestamp resolution %#x", errCorrupt, id, v[0])
			}
		case optTSOffset:
			if n != 8 {
				return fmt.Errorf("%w: interface %d: if_tsoffset of %d bytes", errCorrupt, id, n)
			}
			ifc.offset = int64(p.order.Uint64(v)) * 1e9
		}
		o = o[min(len(o), (n+3)&^3):]
	}
	p.ifaces = append(p.ifaces, ifc)
	return nil
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// nanos converts a timestamp in the interface's units to Unix nanoseconds,
// exactly (rounded down) in binary units too.
func (i *ngIface) nanos(ts uint64) int64 {
	var ns uint64
	switch {
	case i.binary:
		hi, lo := bits.Mul64(ts, 1e9)
		ns = lo>>i.exp | hi<<(64-i.exp) // ts·1e9/2^exp; a shift by 64 gives 0
	case i.exp <= 9:
		ns = ts * pow10[9-i.exp]
	default:
		ns = ts / pow10[i.exp-9]
	}
	return int64(ns) + i.offset
}
