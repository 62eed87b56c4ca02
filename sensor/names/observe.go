package names

import (
	"encoding/binary"

	"github.com/outflowhq/outflow/sensor/decode"
)

// Observe looks at the start of a packet's payload. A DNS response (from
// port 53, UDP or TCP) teaches the cache its A/AAAA answers and returns "".
// A TLS ClientHello returns its server name, an HTTP request its Host
// (without port); Observe does not learn those itself: the caller knows
// the flow and calls Learn with the server address. Anything else returns
// "" without allocating.
func (c *Cache) Observe(p *decode.Packet) string {
	b := p.Payload
	if len(b) == 0 {
		return ""
	}
	switch p.Proto {
	case protoUDP:
		if p.SrcPort == 53 {
			c.observeDNS(b)
		}
	case protoTCP:
		switch {
		case p.SrcPort == 53:
			// DNS over TCP: a 2-byte length, then the message (only the
			// first message of a segment is read).
			if len(b) >= 2 {
				msg := b[2:]
				if n := int(binary.BigEndian.Uint16(b)); n < len(msg) {
					msg = msg[:n]
				}
				c.observeDNS(msg)
			}
		case b[0] == tlsHandshake:
			if name, ok := clientHelloSNI(b); ok {
				c.stats.SNI++
				return c.hostString(name)
			}
		case b[0] >= 'C' && b[0] <= 'T': // first letters of the HTTP methods
			if host, ok := httpHost(b); ok {
				c.stats.HTTPHost++
				return c.hostString(host)
			}
		}
	}
	return ""
}

const (
	protoTCP = 6
	protoUDP = 17
)

// maxName bounds a name (RFC 1035: 255 bytes on the wire, 253 as text).
const maxName = 255

// hostString lower-cases a validated host name into a new string: the only
// allocation on a match.
func (c *Cache) hostString(b []byte) string {
	n := copy(c.name[:], b)
	lower(c.name[:n])
	return string(c.name[:n])
}

func lower(b []byte) {
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
}

// validHost accepts what a DNS name, SNI or Host can sensibly hold: letters,
// digits, '-', '_', '.', and ':' for IPv6 literals. Rejecting the rest keeps
// binary junk out of alerts.
func validHost(b []byte) bool {
	if len(b) == 0 || len(b) > 253 {
		return false
	}
	for _, ch := range b {
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
		case ch == '-', ch == '_', ch == '.', ch == ':':
		default:
			return false
		}
	}
	return true
}
