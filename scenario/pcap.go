package scenario

import (
	"encoding/binary"
	"io"
)

// pcapWriter writes the classic pcap format with nanosecond timestamps
// (magic 0xa1b23c4d, little-endian, link type Ethernet). It is written here
// rather than taken from gopacket's pcapgo, which would pull
// golang.org/x/net into the module.
type pcapWriter struct {
	w   io.Writer
	hdr [16]byte
}

const linkTypeEthernet = 1

func (p *pcapWriter) writeHeader(snaplen int) error {
	var b [24]byte
	binary.LittleEndian.PutUint32(b[0:], 0xa1b23c4d)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], uint32(snaplen))
	binary.LittleEndian.PutUint32(b[20:], linkTypeEthernet)
	_, err := p.w.Write(b[:])
	return err
}

// writePacket writes one record: ts in Unix nanoseconds, data the captured
// bytes, wireLen the frame's length on the wire.
func (p *pcapWriter) writePacket(ts int64, data []byte, wireLen int) error {
	binary.LittleEndian.PutUint32(p.hdr[0:], uint32(ts/1e9))
	binary.LittleEndian.PutUint32(p.hdr[4:], uint32(ts%1e9))
	binary.LittleEndian.PutUint32(p.hdr[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(p.hdr[12:], uint32(wireLen))
	if _, err := p.w.Write(p.hdr[:]); err != nil {
		return err
	}
	_, err := p.w.Write(data)
	return err
}
