// Package decode turns a captured frame into a Packet: Ethernet,
// 802.1Q/QinQ, MPLS, PPPoE/PPP, Linux cooked capture (v1 and v2), raw IP;
// IPv4 with options and fragments, IPv6 with extension headers and
// fragments; TCP, UDP, ICMP, ICMPv6; any other IP protocol as a
// protocol-only packet. It walks the headers with gopacket's DecodingLayer
// mechanism, with layers of its own where gopacket's are missing (MPLS,
// PPPoE, PPP) or too slow for the hot path (Ethernet, VLAN tags, TCP).
//
// It owns a small bounded fragment table so that non-first fragments are
// attributed to their flow's ports. It does not allocate per packet and does
// not keep any reference to a frame after Decode returns.
package decode
