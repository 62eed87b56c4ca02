package decode

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// transport fills ports, TCP flags and payload from the bytes after the IP
// headers. A header cut by the snaplen is counted and decoded as far as it
// goes (ports need 4 bytes) instead of losing the packet's bytes; for
// gopacket's layers the check comes first so that common case costs no
// error value (tcpHeader's errors are static).
func (d *Decoder) transport(proto layers.IPProtocol, b []byte, p *Packet) {
	switch proto {
	case layers.IPProtocolTCP:
		d.fb.truncated = false
		if err := d.tcp.DecodeFromBytes(b, &d.fb); err != nil {
			if !d.fb.truncated {
				d.malformed(b, p)
				return
			}
			d.partial(b, p)
			if len(b) >= 14 {
				p.TCPFlags = b[13]
			}
			return
		}
		p.SrcPort, p.DstPort = d.tcp.SrcPort, d.tcp.DstPort
		p.TCPFlags = d.tcp.Flags // FIN..CWR in wire order, as Packet documents
		p.Payload = d.tcp.Payload
	case layers.IPProtocolUDP, layers.IPProtocolUDPLite:
		if len(b) < 8 {
			d.partial(b, p)
			return
		}
		if err := d.udp.DecodeFromBytes(b, &d.fb); err != nil {
			d.malformed(b, p)
			return
		}
		p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
		p.Payload = d.udp.Payload
	case layers.IPProtocolICMPv4:
		if len(b) < 8 {
			d.partialICMP(b, p, icmp4Counterpart)
			return
		}
		_ = d.icmp4.DecodeFromBytes(b, &d.fb) // cannot fail with 8 bytes
		t := d.icmp4.TypeCode
		p.SrcPort, p.DstPort = icmpPorts(t.Type(), t.Code(), icmp4Counterpart)
		p.Payload = d.icmp4.Payload
	case layers.IPProtocolICMPv6:
		if len(b) < 4 {
			d.partialICMP(b, p, icmp6Counterpart)
			return
		}
		_ = d.icmp6.DecodeFromBytes(b, &d.fb) // cannot fail with 4 bytes
		t := d.icmp6.TypeCode
		p.SrcPort, p.DstPort = icmpPorts(t.Type(), t.Code(), icmp6Counterpart)
		p.Payload = d.icmp6.Payload
	}
	// any other protocol: a protocol-only packet (ports 0)
}

// partial takes the ports from a cut TCP or UDP header.
func (d *Decoder) partial(b []byte, p *Packet) {
	d.stats.TransportTruncated++
	if len(b) >= 4 {
		p.SrcPort = binary.BigEndian.Uint16(b[0:2])
		p.DstPort = binary.BigEndian.Uint16(b[2:4])
	}
}

// malformed keeps the ports of an invalid TCP or UDP header, so the bytes
// still land in a flow, but exposes no payload.
func (d *Decoder) malformed(b []byte, p *Packet) {
	d.stats.TransportMalformed++
	p.SrcPort = binary.BigEndian.Uint16(b[0:2])
	p.DstPort = binary.BigEndian.Uint16(b[2:4])
}

func (d *Decoder) partialICMP(b []byte, p *Packet, counterpart func(uint8) (uint8, bool)) {
	d.stats.TransportTruncated++
	if len(b) >= 2 {
		p.SrcPort, p.DstPort = icmpPorts(b[0], b[1], counterpart)
	}
}

// icmpPorts gives ICMP messages Zeek's pseudo-ports: the type as the source
// port and, as the destination port, the type of the matching reply or
// request when there is one (echo 8 <-> 0), else the code. A request and
// its reply then have mirrored ports and fall into one bidirectional flow.
func icmpPorts(typ, code uint8, counterpart func(uint8) (uint8, bool)) (src, dst uint16) {
	if c, ok := counterpart(typ); ok {
		return uint16(typ), uint16(c)
	}
	return uint16(typ), uint16(code)
}

func icmp4Counterpart(t uint8) (uint8, bool) {
	switch t {
	case 0: // echo reply
		return 8, true
	case 8: // echo request
		return 0, true
	case 9: // router advertisement
		return 10, true
	case 10: // router solicitation
		return 9, true
	case 13, 15, 17: // timestamp, information, address mask requests
		return t + 1, true
	case 14, 16, 18: // and their replies
		return t - 1, true
	}
	return 0, false
}

func icmp6Counterpart(t uint8) (uint8, bool) {
	switch t {
	case 128, 130, 133, 135, 139: // echo, MLD query, RS, NS, node information query
		return t + 1, true
	case 129, 131, 134, 136, 140: // their replies
		return t - 1, true
	}
	return 0, false
}
