package scenario

import "encoding/binary"

// TCP flags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagPSH = 0x08
	flagACK = 0x10
)

const (
	protoTCP = 6
	protoUDP = 17
	ethLen   = 14
	ipv4Len  = 20
	tcpLen   = 20 // without options
	udpLen   = 8
)

// packet is one frame to write, described by fields rather than bytes. A
// session reuses one packet; the writer serialises it before asking the
// session for the next.
type packet struct {
	ts        int64 // Unix nanoseconds
	src, dst  [4]byte
	out       bool // src is the workstation (its MAC is the source)
	proto     uint8
	ttl       uint8
	id        uint16
	sport     uint16
	dport     uint16
	seq, ack  uint32
	flags     uint8
	win       uint16
	opts      []byte // TCP options, a multiple of 4 bytes
	payload   []byte // real leading payload bytes; the rest of size is zeros
	size      int    // L4 payload length on the wire, ≥ len(payload)
	incident  int    // index into Truth.Incidents, -1 for background
	countable bool   // part of the incident's host↔remote conversation
}

// ipLen is the IPv4 total length of p.
func (p *packet) ipLen() int {
	if p.proto == protoTCP {
		return ipv4Len + tcpLen + len(p.opts) + p.size
	}
	return ipv4Len + udpLen + p.size
}

// gatewayMAC is the router's inside interface; hosts' MACs embed their
// address (02:00:0a:14:xx:xx, locally administered).
var gatewayMAC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}

func hostMAC(a [4]byte) [6]byte { return [6]byte{0x02, 0x00, a[0], a[1], a[2], a[3]} }

// framer serialises packets into one reusable buffer. Checksums are those of
// the full frame with its unseen payload bytes all zero, so they are valid
// for the frame the headers describe even when the capture is cut.
type framer struct {
	snaplen int
	buf     [ethLen + ipv4Len + 60 + 65535]byte
}

// frame returns the captured bytes of p (valid until the next call) and the
// frame's length on the wire.
func (f *framer) frame(p *packet) (data []byte, wireLen int) {
	b := f.buf[:]
	dstMAC, srcMAC := gatewayMAC, hostMAC(p.src)
	if !p.out {
		dstMAC, srcMAC = hostMAC(p.dst), gatewayMAC
	}
	copy(b[0:6], dstMAC[:])
	copy(b[6:12], srcMAC[:])
	b[12], b[13] = 0x08, 0x00

	ip := b[ethLen:]
	total := p.ipLen()
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(total))
	binary.BigEndian.PutUint16(ip[4:], p.id)
	ip[6], ip[7] = 0x40, 0 // DF
	ip[8], ip[9] = p.ttl, p.proto
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], p.src[:])
	copy(ip[16:20], p.dst[:])
	binary.BigEndian.PutUint16(ip[10:], ^fold(sum(ip[:ipv4Len], 0)))

	l4 := ip[ipv4Len:]
	l4Len := total - ipv4Len
	var hdr int
	if p.proto == protoTCP {
		hdr = tcpLen + len(p.opts)
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint32(l4[4:], p.seq)
		binary.BigEndian.PutUint32(l4[8:], p.ack)
		l4[12], l4[13] = byte(hdr/4)<<4, p.flags
		binary.BigEndian.PutUint16(l4[14:], p.win)
		l4[16], l4[17], l4[18], l4[19] = 0, 0, 0, 0
		copy(l4[tcpLen:], p.opts)
	} else {
		hdr = udpLen
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
		binary.BigEndian.PutUint16(l4[4:], uint16(l4Len))
		l4[6], l4[7] = 0, 0
	}
	n := copy(l4[hdr:], p.payload)

	// Pseudo-header, header and known payload; zero bytes add nothing.
	s := sum(ip[12:20], uint32(p.proto)+uint32(l4Len))
	s = sum(l4[:hdr+n], s)
	c := ^fold(s)
	if p.proto == protoUDP && c == 0 {
		c = 0xffff
	}
	csumAt := 16
	if p.proto == protoUDP {
		csumAt = 6
	}
	binary.BigEndian.PutUint16(l4[csumAt:], c)

	wireLen = ethLen + total
	capLen := min(wireLen, f.snaplen)
	if end := ethLen + ipv4Len + hdr + n; end < capLen {
		clear(b[end:capLen])
	}
	return b[:capLen], wireLen
}

// sum adds b as big-endian 16-bit words to s (RFC 1071).
func sum(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}
