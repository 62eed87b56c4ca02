package decode

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// gopacket's MPLS, PPPoE and PPP layers decode only through NewPacket, so
// the three DecodingLayers below stand in for them. They register for
// gopacket's own layer types (EthernetType.LayerType names them), so the
// container finds them without new layer-type registrations.

// maxMPLSLabels bounds the label stack walk; real stacks hold a handful.
const maxMPLSLabels = 16

// mplsStack decodes a whole MPLS label stack in one step. Nothing in an
// MPLS header names the payload, so after the bottom-of-stack label it
// guesses IPv4 or IPv6 from the first nibble, as tcpdump and Zeek do.
type mplsStack struct {
	layers.BaseLayer
	Labels int // labels in the stack
}

func (m *mplsStack) CanDecode() gopacket.LayerClass { return layers.LayerTypeMPLS }

func (m *mplsStack) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	for m.Labels = 1; m.Labels <= maxMPLSLabels; m.Labels++ {
		end := 4 * m.Labels
		if end >= len(data) { // a label with nothing after it is cut too
			df.SetTruncated()
			return errMPLSShort
		}
		if data[end-2]&0x01 != 0 { // S bit: bottom of stack
			m.BaseLayer = layers.BaseLayer{Contents: data[:end], Payload: data[end:]}
			return nil
		}
	}
	return errMPLSDeep
}

func (m *mplsStack) NextLayerType() gopacket.LayerType { return guessIP(m.Payload) }

// guessIP names the IP version a headerless payload starts with (raw IP
// link types, MPLS); anything else (an Ethernet pseudowire's control word)
// is not IP for us.
func guessIP(b []byte) gopacket.LayerType {
	if len(b) == 0 {
		return gopacket.LayerTypeZero
	}
	switch b[0] >> 4 {
	case 4:
		return layers.LayerTypeIPv4
	case 6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}

// pppoe decodes the 6-byte PPPoE header. Discovery (0x8863) and session
// (0x8864) frames map to the same gopacket layer type; only session frames
// (code 0) carry PPP.
type pppoe struct {
	layers.BaseLayer
	Code      uint8
	SessionID uint16
}

func (p *pppoe) CanDecode() gopacket.LayerClass { return layers.LayerTypePPPoE }

func (p *pppoe) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 6 {
		df.SetTruncated()
		return errPPPoEShort
	}
	p.Code = data[1]
	p.SessionID = binary.BigEndian.Uint16(data[2:4])
	payload := data[6:]
	// The length field bounds the PPP frame: Ethernet padding is not PPP.
	if n := int(binary.BigEndian.Uint16(data[4:6])); n < len(payload) {
		payload = payload[:n]
	}
	p.BaseLayer = layers.BaseLayer{Contents: data[:6], Payload: payload}
	return nil
}

func (p *pppoe) NextLayerType() gopacket.LayerType {
	if p.Code != 0 {
		return gopacket.LayerTypeZero
	}
	return layers.LayerTypePPP
}

// PPP protocol numbers that carry IP (RFC 1332, RFC 5072).
const (
	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

// ppp decodes a PPP header: an optional HDLC address/control pair (0xff
// 0x03, present on LINKTYPE_PPP, absent in PPPoE) and a 1- or 2-byte
// protocol field (1 byte when protocol-field compression is on).
type ppp struct {
	layers.BaseLayer
	Protocol uint16
}

func (p *ppp) CanDecode() gopacket.LayerClass { return layers.LayerTypePPP }

func (p *ppp) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	hdr := 0
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		hdr = 2
	}
	switch {
	case len(data) < hdr+1:
		df.SetTruncated()
		return errPPPShort
	case data[hdr]&0x01 != 0: // compressed: protocol numbers are odd in their low byte
		p.Protocol = uint16(data[hdr])
		hdr++
	case len(data) < hdr+2:
		df.SetTruncated()
		return errPPPShort
	default:
		p.Protocol = binary.BigEndian.Uint16(data[hdr:])
		hdr += 2
	}
	p.BaseLayer = layers.BaseLayer{Contents: data[:hdr], Payload: data[hdr:]}
	return nil
}

func (p *ppp) NextLayerType() gopacket.LayerType {
	switch p.Protocol {
	case pppIPv4:
		return layers.LayerTypeIPv4
	case pppIPv6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypeZero
}
