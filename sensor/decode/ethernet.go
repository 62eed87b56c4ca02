package decode

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ethernet stands in for gopacket's Ethernet layer, which also builds the
// two MAC address slices on every frame; nothing here reads them. It keeps
// gopacket's semantics: a type field below 0x0600 is an 802.3 length (LLC
// follows, padding is cut off, a short frame is flagged truncated), and the
// EtherType names the next layer as gopacket's table does, so Dot1Q,
// 802.1ad, MPLS, PPPoE and the rest resolve as before. Like tcpHeader it
// keeps only the payload, not the header bytes.
type ethernet struct {
	Type    layers.EthernetType // EthernetTypeLLC for an 802.3 length field
	Payload []byte
}

func (e *ethernet) LayerPayload() []byte { return e.Payload }

func (e *ethernet) CanDecode() gopacket.LayerClass { return layers.LayerTypeEthernet }

func (e *ethernet) NextLayerType() gopacket.LayerType { return etherTypeLayer(e.Type) }

func (e *ethernet) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 14 {
		df.SetTruncated()
		return errEtherShort
	}
	e.Type = layers.EthernetType(binary.BigEndian.Uint16(data[12:14]))
	payload := data[14:]
	if e.Type < 0x0600 {
		n := int(e.Type)
		e.Type = layers.EthernetTypeLLC
		if n > len(payload) {
			df.SetTruncated()
		} else {
			payload = payload[:n]
		}
	}
	e.Payload = payload
	return nil
}

var _ gopacket.DecodingLayer = (*ethernet)(nil)

// etherTypeLayer is EthernetType.LayerType with the common types answered
// first: gopacket's lookup copies a 40-byte table entry on every call, which
// took 5% of the packet path. TestEtherTypeLayer checks every value against
// gopacket's table.
func etherTypeLayer(t layers.EthernetType) gopacket.LayerType {
	switch t {
	case layers.EthernetTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.EthernetTypeIPv6:
		return layers.LayerTypeIPv6
	case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ:
		return layers.LayerTypeDot1Q
	}
	return t.LayerType()
}

// vlanTag stands in for gopacket's Dot1Q (802.1Q, and 802.1ad which
// gopacket maps to the same layer) for the same reasons as ethernet: the
// next layer without the table copy, the payload without the header bytes.
// As in gopacket, a type field below 0x0600 is an 802.3 length.
type vlanTag struct {
	VLANIdentifier uint16
	Type           layers.EthernetType
	Payload        []byte
}

func (v *vlanTag) CanDecode() gopacket.LayerClass { return layers.LayerTypeDot1Q }

func (v *vlanTag) LayerPayload() []byte { return v.Payload }

func (v *vlanTag) NextLayerType() gopacket.LayerType {
	if v.Type < 0x0600 {
		return layers.LayerTypeLLC
	}
	return etherTypeLayer(v.Type)
}

func (v *vlanTag) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errVLANShort
	}
	v.VLANIdentifier = binary.BigEndian.Uint16(data[0:2]) & 0x0fff
	v.Type = layers.EthernetType(binary.BigEndian.Uint16(data[2:4]))
	v.Payload = data[4:]
	if v.Type < 0x0600 {
		if n := int(v.Type); n > len(v.Payload) {
			df.SetTruncated()
		} else {
			v.Payload = v.Payload[:n]
		}
	}
	return nil
}

var _ gopacket.DecodingLayer = (*vlanTag)(nil)
