package decode

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// maxIPv6Extensions bounds the extension-header walk.
const maxIPv6Extensions = 8

// ipv4 decodes an IPv4 header (options included) and what follows it.
func (d *Decoder) ipv4(data []byte, p *Packet) error {
	if len(data) < 20 {
		return layerError(ErrTruncated, layers.LayerTypeIPv4, nil)
	}
	if data[0]>>4 != 4 {
		return layerError(ErrMalformed, layers.LayerTypeIPv4, errIPv4Version)
	}
	// gopacket's IPv4 bounds the payload by the total length (so Ethernet
	// padding drops out) and only flags a snaplen cut as truncated.
	d.fb.truncated = false
	if err := d.ip4.DecodeFromBytes(data, &d.fb); err != nil {
		kind := ErrMalformed
		if d.fb.truncated {
			kind = ErrTruncated
		}
		return layerError(kind, layers.LayerTypeIPv4, err)
	}
	ip := &d.ip4
	copy(p.Src[:4], ip.SrcIP)
	copy(p.Dst[:4], ip.DstIP)
	p.IPBytes = uint32(ip.Length)
	p.Proto = uint8(ip.Protocol)
	more := ip.Flags&layers.IPv4MoreFragments != 0
	if !more && ip.FragOffset == 0 {
		d.transport(ip.Protocol, ip.Payload, p)
		return nil
	}
	if d.deferFrags {
		return ErrFragment
	}
	d.stats.Fragments++
	k := fragKey{src: p.Src, dst: p.Dst, id: uint32(ip.Id), proto: p.Proto}
	if ip.FragOffset != 0 {
		d.laterFragment(k, !more, p)
		return nil
	}
	d.transport(ip.Protocol, ip.Payload, p)
	d.firstFragment(k, p)
	return nil
}

// ipv6 decodes the fixed IPv6 header and walks the extension headers.
// gopacket's IPv6 layer allocates the hop-by-hop options (MLD, router
// alert), so the fixed header is read here and the extension headers are
// skipped with gopacket's allocation-free IPv6ExtensionSkipper.
func (d *Decoder) ipv6(data []byte, p *Packet) error {
	if len(data) < 40 {
		return layerError(ErrTruncated, layers.LayerTypeIPv6, nil)
	}
	if data[0]>>4 != 6 {
		return layerError(ErrMalformed, layers.LayerTypeIPv6, errIPv6Version)
	}
	p.IsV6 = true
	copy(p.Src[:], data[8:24])
	copy(p.Dst[:], data[24:40])
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	payload := data[40:]
	if plen == 0 {
		// A jumbogram (RFC 2675) states its length in a hop-by-hop option;
		// count what was captured rather than parse it.
		plen = len(payload)
	}
	if plen < len(payload) {
		payload = payload[:plen] // drop link padding
	}
	p.IPBytes = uint32(plen) + 40

	next := layers.IPProtocol(data[6])
	first, k := false, fragKey{}
	for range maxIPv6Extensions {
		switch next {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination:
			if !d.extension(&next, &payload, p) {
				return nil
			}
			continue
		case layers.IPProtocolIPv6Fragment:
			if len(payload) < 8 {
				d.cutExtension(next, p)
				return nil
			}
			if err := d.ip6fr.DecodeFromBytes(payload, &d.fb); err != nil {
				d.cutExtension(next, p)
				return nil
			}
			fr := &d.ip6fr
			next, payload = fr.NextHeader, fr.Payload
			if fr.FragmentOffset == 0 && !fr.MoreFragments {
				continue // an atomic fragment (RFC 6946) is a whole packet
			}
			if d.deferFrags {
				return ErrFragment
			}
			d.stats.Fragments++
			k = fragKey{src: p.Src, dst: p.Dst, id: fr.Identification, proto: uint8(next), v6: true}
			if fr.FragmentOffset != 0 {
				p.Proto = uint8(next)
				d.laterFragment(k, !fr.MoreFragments, p)
				return nil
			}
			// a first fragment: extension headers may still come before the
			// transport header
			first = true
			continue
		}
		break
	}
	p.Proto = uint8(next)
	d.transport(next, payload, p)
	if first {
		d.firstFragment(k, p)
	}
	return nil
}

// extension skips one hop-by-hop, routing or destination header. It
// reports false when the header is cut; the packet then counts with its
// addresses and length but no ports.
func (d *Decoder) extension(next *layers.IPProtocol, payload *[]byte, p *Packet) bool {
	b := *payload
	if len(b) < 2 || len(b) < int(b[1])*8+8 {
		d.cutExtension(*next, p)
		return false
	}
	d.fb.truncated = false
	if err := d.ip6ext.DecodeFromBytes(b, &d.fb); err != nil {
		d.cutExtension(*next, p)
		return false
	}
	*next, *payload = d.ip6ext.NextHeader, d.ip6ext.Payload
	return true
}

// cutExtension records a packet whose extension headers were cut by the
// snaplen: what is known is the header it stopped in.
func (d *Decoder) cutExtension(at layers.IPProtocol, p *Packet) {
	p.Proto = uint8(at)
	d.stats.TransportTruncated++
}
