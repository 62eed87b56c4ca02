package decode

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tcpHeader stands in for gopacket's TCP layer, which parses every option
// (timestamps, SACK, MPTCP) into a slice on each segment: a quarter of the
// packet path's time for fields nothing here reads. It reads the ports,
// the flags and the data offset, and skips the options.
//
// Payload is a plain field rather than an embedded layers.BaseLayer: the
// header bytes (Contents) have no reader, and storing the two slices as one
// struct copy stalled on store forwarding in the profile.
type tcpHeader struct {
	SrcPort, DstPort uint16
	Flags            uint8 // FIN..CWR in wire order (byte 13)
	DataOffset       uint8 // header length in 32-bit words, options included
	Payload          []byte
}

func (t *tcpHeader) LayerPayload() []byte { return t.Payload }

func (t *tcpHeader) CanDecode() gopacket.LayerClass { return layers.LayerTypeTCP }

// NextLayerType is the payload: application protocols are parsed from
// Packet.Payload by the name parsers, not through gopacket.
func (t *tcpHeader) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

// DecodeFromBytes fails as gopacket's TCP does: fewer than 20 bytes or a
// data offset past the captured bytes is a cut (SetTruncated), a data
// offset below 5 is malformed. The errors are static, so a bad segment
// costs no allocation.
func (t *tcpHeader) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	t.Payload = nil
	if len(data) < 20 {
		df.SetTruncated()
		return errTCPShort
	}
	t.SrcPort = binary.BigEndian.Uint16(data[0:2])
	t.DstPort = binary.BigEndian.Uint16(data[2:4])
	t.DataOffset = data[12] >> 4
	t.Flags = data[13]
	if t.DataOffset < 5 {
		return errTCPOffset
	}
	end := int(t.DataOffset) * 4
	if end > len(data) {
		df.SetTruncated()
		return errTCPOptionsCut
	}
	t.Payload = data[end:]
	return nil
}

var _ gopacket.DecodingLayer = (*tcpHeader)(nil)
