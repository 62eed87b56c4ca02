package source

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gopacket/gopacket/layers"
)

// pcapReader reads the classic libpcap format.
type pcapReader struct {
	r       *bufio.Reader
	order   binary.ByteOrder
	fracNs  int64 // nanoseconds per unit of the sub-second field
	snaplen uint32
	link    layers.LinkType
	hdr     [16]byte
	buf     []byte
}

func newPcapReader(r *bufio.Reader) (*pcapReader, error) {
	var h [24]byte
	if err := readFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%w: pcap file header: %v", errCorrupt, err)
	}
	p := &pcapReader{r: r, order: binary.LittleEndian, fracNs: 1000}
	switch binary.LittleEndian.Uint32(h[:4]) {
	case magicPcapMicroBE:
		p.order = binary.BigEndian
	case magicPcapNano:
		p.fracNs = 1
	case magicPcapNanoBE:
		p.order, p.fracNs = binary.BigEndian, 1
	}
	if major := p.order.Uint16(h[4:6]); major != 2 {
		return nil, fmt.Errorf("%w: pcap version %d", errCorrupt, major)
	}
	p.snaplen = p.order.Uint32(h[16:20])
	// The upper bits of the link-type field carry FCS information.
	p.link = layers.LinkType(p.order.Uint32(h[20:24]) & 0xffff)
	return p, nil
}

func (p *pcapReader) next(info *Info) ([]byte, error) {
	if err := readFull(p.r, p.hdr[:]); err != nil {
		return nil, err
	}
	sec, frac := p.order.Uint32(p.hdr[0:4]), p.order.Uint32(p.hdr[4:8])
	incl, orig := p.order.Uint32(p.hdr[8:12]), p.order.Uint32(p.hdr[12:16])
	if incl > max(p.snaplen, 262144) || incl > maxRecord {
		return nil, fmt.Errorf("%w: record of %d bytes, snap length %d", errCorrupt, incl, p.snaplen)
	}
	p.buf = grow(p.buf, int(incl))
	if err := readFull(p.r, p.buf); err != nil {
		if err == io.EOF && incl > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	info.Timestamp = int64(sec)*1e9 + int64(frac)*p.fracNs
	info.WireLen = int(max(orig, incl))
	info.LinkType = p.link
	return p.buf, nil
}
