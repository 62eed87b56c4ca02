package flow

import (
	"net/netip"
	"time"
)

// Direction says which side of a flow is internal.
type Direction uint8

const (
	// DirUnknown is the zero value; a sensor never reports it.
	DirUnknown Direction = iota
	// Outbound: the initiator (Src) is internal, the responder external.
	Outbound
	// Inbound: the initiator is external, the responder internal.
	Inbound
	// Internal: both sides are internal (east-west).
	Internal
	// External: neither side is internal (transit, or a misconfigured tap).
	External
)

var dirNames = [...]string{"unknown", "outbound", "inbound", "internal", "external"}

func (d Direction) String() string {
	if int(d) < len(dirNames) {
		return dirNames[d]
	}
	return "unknown"
}

// ParseDirection is the inverse of String; ok is false for unknown text.
func ParseDirection(s string) (Direction, bool) {
	for i, n := range dirNames {
		if n == s {
			return Direction(i), true
		}
	}
	return DirUnknown, false
}

// Record is one flow, or the delta of one flow since its previous export.
// Src is the initiator (from the TCP handshake when seen, else the sender of
// the first packet); Dst is the responder. Byte counts are IP-layer bytes
// (IPv4 total length, IPv6 payload length + 40) as read from the headers, so
// a small capture snaplen does not shrink them.
//
// Summing the deltas of one flow gives its totals.
type Record struct {
	Proto      uint8  // IANA protocol number
	VLAN       uint16 // outermost 802.1Q VLAN id, 0 when untagged
	SrcAddr    netip.Addr
	DstAddr    netip.Addr
	SrcPort    uint16 // 0 for protocols without ports; ICMP: type<<8|code is not used, ports stay 0
	DstPort    uint16
	SrcBytes   uint64 // IP bytes sent by Src in this delta
	DstBytes   uint64
	SrcPackets uint64
	DstPackets uint64
	Start      time.Time // first packet of this delta (event time)
	End        time.Time // last packet of this delta (event time)
	FlowStart  time.Time // first packet of the whole flow
	SrcFlags   uint8     // TCP flags OR'd over Src's packets in this delta
	DstFlags   uint8
	Direction  Direction
	// InitiatorFromSYN is true when Src was decided by a SYN or SYN-ACK, false
	// when the sensor only saw the flow's first packet.
	InitiatorFromSYN bool
	// Final is true on the last delta of a flow (timed out, closed or evicted).
	Final bool
	// SrcName and DstName are names learned for each side (DNS answers, TLS
	// SNI, HTTP Host); empty when none was seen.
	SrcName string
	DstName string
	// Query is the DNS query name the initiator asked in this flow (the
	// first question of its query), lower-case, without the trailing dot;
	// empty when none was seen. A flow that asks several names (one socket
	// for many queries) is cut into one delta per name by the packet path,
	// so each delta carries the name its packets asked.
	Query string
}

// Local returns the internal host of an outbound or inbound flow, the bytes
// that host sent (its uploads), the bytes it received, the external remote
// and the remote's name. ok is false for internal-only or external-only flows.
func (r *Record) Local() (host, remote netip.Addr, bytesOut, bytesIn uint64, remoteName string, ok bool) {
	switch r.Direction {
	case Outbound:
		return r.SrcAddr, r.DstAddr, r.SrcBytes, r.DstBytes, r.DstName, true
	case Inbound:
		return r.DstAddr, r.SrcAddr, r.DstBytes, r.SrcBytes, r.SrcName, true
	}
	return netip.Addr{}, netip.Addr{}, 0, 0, "", false
}
