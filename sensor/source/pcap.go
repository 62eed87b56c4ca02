package source

import (
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// maxSnaplen is libpcap's MAXIMUM_SNAPLEN: records up to it are accepted
// whatever snap length a file declares (some writers do not truncate to it).
const maxSnaplen = 262144

// pcapReader reads the classic libpcap format.
type pcapReader struct {
	in      records
	order   binary.ByteOrder
	fracNs  int64 // nanoseconds per unit of the sub-second field
	snaplen uint32
	link    layers.LinkType
}

func newPcapReader(in records) (*pcapReader, error) {
	h, err := in.take(24)
	if err != nil {
		return nil, fmt.Errorf("%w: pcap file header: %v", errCorrupt, cut(err))
	}
	p := &pcapReader{in: in, order: binary.LittleEndian, fracNs: 1000}
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
	h, err := p.in.peek(16)
	if err != nil {
		return nil, err
	}
	incl, orig := p.order.Uint32(h[8:12]), p.order.Uint32(h[12:16])
	if incl > max(p.snaplen, maxSnaplen) || incl > maxRecord {
		return nil, fmt.Errorf("%w: record of %d bytes, snap length %d", errCorrupt, incl, p.snaplen)
	}
	info.Timestamp = int64(p.order.Uint32(h[0:4]))*1e9 + int64(p.order.Uint32(h[4:8]))*p.fracNs
	// libpcap reads records whose original length is below the captured
	// one (some writers get it wrong): the frame was at least that long.
	info.WireLen = int(max(orig, incl))
	info.LinkType = p.link
	rec, err := p.in.take(16 + int(incl))
	if err != nil {
		return nil, err
	}
	return rec[16:], nil
}
