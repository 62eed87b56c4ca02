package decode

// Packet is what the decoder extracts from one frame: everything the flow
// table and the name parsers need, with no pointers into gopacket layers.
// The decoder fills a caller-owned Packet, so decoding does not allocate.
type Packet struct {
	// Timestamp is the capture time in Unix nanoseconds (event time).
	Timestamp int64
	// Src and Dst are the IP addresses as sent; IPv4 uses the first 4 bytes
	// and IsV6 is false.
	Src, Dst [16]byte
	IsV6     bool
	// SrcPort and DstPort are 0 when the protocol has no ports or they were
	// not captured. For ICMP they are Zeek's pseudo-ports: the type, and the
	// type of the matching reply/request (echo 8 <-> 0) or else the code, so
	// a request and its reply mirror each other like TCP ports do.
	SrcPort, DstPort uint16
	Proto            uint8  // IANA protocol number of the transport (after IPv6 extension headers)
	VLAN             uint16 // outermost 802.1Q VLAN id, 0 when untagged
	// IPBytes is the IP-layer length read from the header (IPv4 total
	// length, IPv6 payload length + 40): what crossed the wire, whatever the
	// snaplen.
	IPBytes  uint32
	TCPFlags uint8 // FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80
	// Payload is the captured transport payload (may be shorter than on the
	// wire); it aliases the frame and is valid only until the next Decode.
	Payload []byte
}
