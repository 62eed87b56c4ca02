package scenario

import (
	"encoding/binary"
	"strings"
)

// appendDNSName appends name in DNS label form.
func appendDNSName(b []byte, name string) []byte {
	for label := range strings.SplitSeq(strings.TrimSuffix(name, "."), ".") {
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0)
}

// DNS query types generated.
const (
	dnsTypeA   = 1
	dnsTypeTXT = 16
)

// dnsQuery is a recursive A query for name.
func dnsQuery(b []byte, id uint16, name string) []byte {
	return dnsQueryType(b, id, name, dnsTypeA)
}

// dnsQueryType is a recursive query for name of type qtype, class IN.
func dnsQueryType(b []byte, id uint16, name string, qtype uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // RD; 1 question
	b = appendDNSName(b, name)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return append(b, 0, 1) // IN
}

// dnsTXTAnswer answers a TXT query for name with one TXT record holding
// txt (at most 255 bytes), TTL 0 as tunnels use.
func dnsTXTAnswer(b []byte, id uint16, name, txt string) []byte {
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0) // QR RD RA; 1 question, 1 answer
	b = appendDNSName(b, name)
	b = append(b, 0, dnsTypeTXT, 0, 1)
	b = append(b, 0xc0, 0x0c, 0, dnsTypeTXT, 0, 1, 0, 0, 0, 0) // pointer to the question, TXT, IN, TTL 0
	b = binary.BigEndian.AppendUint16(b, uint16(1+len(txt)))
	b = append(b, byte(len(txt)))
	return append(b, txt...)
}

// dnsAnswer answers dnsQuery with one A record (name compressed to the
// question): 76+len(name) bytes of frame, so it survives snaplen 128 for
// names of up to 52 characters.
func dnsAnswer(b []byte, id uint16, name string, addr [4]byte, ttl uint32) []byte {
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0) // QR RD RA; 1 question, 1 answer
	b = appendDNSName(b, name)
	b = append(b, 0, 1, 0, 1)
	b = append(b, 0xc0, 0x0c, 0, 1, 0, 1) // pointer to the question name, A, IN
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = append(b, 0, 4)
	return append(b, addr[:]...)
}

// clientHello is a TLS 1.3 ClientHello record in the shape browsers send,
// with server_name as the first extension and no legacy session id, so the
// name starts 131 bytes into the frame (snaplen ≥ 131+len(name) keeps it).
// random fills the client random.
func clientHello(b []byte, name string, random [32]byte) []byte {
	start := len(b)
	b = append(b, 0x16, 0x03, 0x01, 0, 0) // handshake record, length patched
	b = append(b, 0x01, 0, 0, 0)          // ClientHello, length patched
	b = append(b, 0x03, 0x03)
	b = append(b, random[:]...)
	b = append(b, 0) // no legacy session id
	suites := []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8}
	b = binary.BigEndian.AppendUint16(b, uint16(2*len(suites)))
	for _, s := range suites {
		b = binary.BigEndian.AppendUint16(b, s)
	}
	b = append(b, 1, 0) // null compression
	extStart := len(b)
	b = append(b, 0, 0) // extensions length, patched

	// server_name
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)+5))
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)+3))
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)))
	b = append(b, name...)
	b = append(b,
		0x00, 0x17, 0, 0, // extended_master_secret
		0xff, 0x01, 0, 1, 0, // renegotiation_info
		0x00, 0x0a, 0, 8, 0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, // supported_groups
		0x00, 0x0b, 0, 2, 1, 0, // ec_point_formats
		0x00, 0x10, 0, 14, 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1', // ALPN
		0x00, 0x0d, 0, 10, 0, 8, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, // signature_algorithms
		0x00, 0x2b, 0, 5, 4, 0x03, 0x04, 0x03, 0x03, // supported_versions
		0x00, 0x2d, 0, 2, 1, 1, // psk_key_exchange_modes
		0x00, 0x33, 0, 38, 0, 36, 0x00, 0x1d, 0, 32, // key_share x25519
	)
	for i := range 32 {
		b = append(b, random[31-i]^0x5a)
	}
	// padding to a 512-byte handshake message, as Chrome does
	if pad := 512 - (len(b) - start - 5) - 4; pad >= 0 {
		b = append(b, 0x00, 0x15)
		b = binary.BigEndian.AppendUint16(b, uint16(pad))
		b = append(b, make([]byte, pad)...)
	}
	binary.BigEndian.PutUint16(b[extStart:], uint16(len(b)-extStart-2))
	binary.BigEndian.PutUint16(b[start+3:], uint16(len(b)-start-5))
	hs := len(b) - start - 9
	b[start+6], b[start+7], b[start+8] = byte(hs>>16), byte(hs>>8), byte(hs)
	return b
}

// recordHeader is the 5-byte TLS record header that starts a burst of
// server handshake (0x16) or application data (0x17).
func recordHeader(b []byte, typ byte, n int) []byte {
	return append(b, typ, 0x03, 0x03, byte(min(n, 16401)>>8), byte(min(n, 16401)))
}
