package decode

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
)

// Error kinds. Decode returns one of them, possibly wrapped with the layer
// and the detail; callers count by kind with errors.Is.
var (
	// ErrNotIP: a well-formed frame that carries no IP packet (ARP, LLDP,
	// STP, PPPoE discovery, LCP...). Not a fault, but not a flow either.
	ErrNotIP = errors.New("not an IP packet")
	// ErrUnsupportedLink: the capture's link type is not one Decode knows.
	ErrUnsupportedLink = errors.New("unsupported link type")
	// ErrTruncated: the frame ends before the IP header does, so there is
	// no address or length to count.
	ErrTruncated = errors.New("truncated before the end of the IP header")
	// ErrMalformed: a header contradicts itself (bad version, lengths).
	ErrMalformed = errors.New("malformed header")
	// ErrFragment: an IP fragment left undecoded because the Decoder
	// defers fragments (Config.DeferFragments); returned bare.
	ErrFragment = errors.New("ip fragment deferred")
)

// Errors of this package's own layers; static so a bad frame costs no
// allocation before Decode adds the context.
var (
	errMPLSShort   = fmt.Errorf("mpls label stack cut: %w", ErrTruncated)
	errMPLSDeep    = fmt.Errorf("mpls label stack deeper than %d: %w", maxMPLSLabels, ErrMalformed)
	errPPPoEShort  = fmt.Errorf("pppoe header cut: %w", ErrTruncated)
	errPPPShort    = fmt.Errorf("ppp protocol field cut: %w", ErrTruncated)
	errIPv6Version = fmt.Errorf("ipv6 version field is not 6: %w", ErrMalformed)
	errIPv4Version = fmt.Errorf("ipv4 version field is not 4: %w", ErrMalformed)
	errEtherShort  = fmt.Errorf("ethernet header cut: %w", ErrTruncated)
	errVLANShort   = fmt.Errorf("vlan tag cut: %w", ErrTruncated)
)

// Transport errors never leave Decode (the packet still counts, see
// TransportTruncated and TransportMalformed), so they carry no kind.
var (
	errTCPShort      = errors.New("tcp header cut")
	errTCPOptionsCut = errors.New("tcp options cut")
	errTCPOffset     = errors.New("tcp data offset below 5")
)

// layerError wraps a failure in layer typ with its kind, unless detail
// already carries one.
func layerError(kind error, typ gopacket.LayerType, detail error) error {
	switch {
	case detail == nil:
		return fmt.Errorf("decode %v: %w", typ, kind)
	case errors.Is(detail, ErrTruncated), errors.Is(detail, ErrMalformed):
		return fmt.Errorf("decode %v: %w", typ, detail)
	default:
		return fmt.Errorf("decode %v: %w: %w", typ, kind, detail)
	}
}

// Stats are the decoder's cumulative counters. Every Decode call adds one to
// Frames and exactly one of IP, NotIP, UnsupportedLink, Truncated,
// Malformed or FragmentsDeferred; the other counters refine IP packets.
type Stats struct {
	Frames          uint64 // Decode calls
	IP              uint64 // IPv4/IPv6 packets decoded (Decode returned nil)
	NotIP           uint64 // ErrNotIP
	UnsupportedLink uint64 // ErrUnsupportedLink
	Truncated       uint64 // ErrTruncated: cut before the IP header ended
	Malformed       uint64 // ErrMalformed, including recovered panics
	// FragmentsDeferred counts ErrFragment (Config.DeferFragments): frames
	// for another Decoder to decode, which counts them again there.
	FragmentsDeferred uint64

	// TransportTruncated counts IP packets whose transport header was cut
	// (small snaplen); they are still decoded, with ports when at least 4
	// bytes of the transport header were captured.
	TransportTruncated uint64
	// TransportMalformed counts IP packets with an invalid transport header
	// (TCP data offset < 5, UDP length < 8); decoded with ports, no payload.
	TransportMalformed uint64

	Fragments          uint64 // IP fragments seen (first and later)
	FragmentsUnmatched uint64 // later fragments whose first fragment was not in the table (ports 0)
	FragmentsEvicted   uint64 // live fragment entries pushed out by a full bucket
}
