package decode

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Config sizes the decoder's fragment table; zero values take the defaults.
type Config struct {
	// FragmentCapacity bounds the fragment table (entries; default 4096).
	FragmentCapacity int
	// FragmentTimeout is how long, in event time, a first fragment's ports
	// wait for the later fragments (default 30s).
	FragmentTimeout time.Duration
	// DeferFragments makes Decode return ErrFragment for every IPv4 and
	// IPv6 fragment (first or later) without touching the fragment table,
	// so decoders that each see part of a capture keep no state between
	// frames. The caller decodes those frames again, in capture order, with
	// one Decoder that does not defer.
	DeferFragments bool
}

const (
	defaultFragmentCapacity = 4096
	defaultFragmentTimeout  = 30 * time.Second
)

// Decoder turns frames into Packets. It keeps one instance of every layer
// and reuses them, so a warm Decoder does not allocate. A Decoder is used
// by one goroutine.
type Decoder struct {
	// link holds the layers below IP, found by layer type as each layer
	// names the next one (gopacket's sparse container: an indexed slice).
	link  gopacket.DecodingLayerContainer
	eth   ethernet
	dot1q vlanTag
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	loop  layers.Loopback
	mpls  mplsStack
	pppoe pppoe
	ppp   ppp

	// IP and transport layers are called directly: the decoder must steer
	// between them (fragments, cut headers), not follow NextLayerType.
	ip4    layers.IPv4
	ip6ext layers.IPv6ExtensionSkipper
	ip6fr  layers.IPv6Fragment
	tcp    tcpHeader
	udp    layers.UDP
	icmp4  layers.ICMPv4
	icmp6  layers.ICMPv6

	fb         feedback
	frags      fragTable
	deferFrags bool // Config.DeferFragments
	stats      Stats
	// panics makes Decode re-panic instead of recovering, so fuzzing finds
	// the bug instead of a Malformed count.
	panics bool
}

// feedback receives gopacket's SetTruncated calls.
type feedback struct{ truncated bool }

func (f *feedback) SetTruncated() { f.truncated = true }

// New returns a Decoder with an empty fragment table.
func New(cfg Config) *Decoder {
	if cfg.FragmentCapacity <= 0 {
		cfg.FragmentCapacity = defaultFragmentCapacity
	}
	if cfg.FragmentTimeout <= 0 {
		cfg.FragmentTimeout = defaultFragmentTimeout
	}
	d := &Decoder{}
	var dlc gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.mpls, &d.pppoe, &d.ppp} {
		dlc = dlc.Put(l)
	}
	d.link = dlc
	d.frags = newFragTable(cfg.FragmentCapacity, cfg.FragmentTimeout.Nanoseconds())
	d.deferFrags = cfg.DeferFragments
	return d
}

// Stats returns a copy of the counters.
func (d *Decoder) Stats() Stats { return d.stats }

// Decode fills p (after resetting it) from one frame of link type lt
// captured at ts (Unix nanoseconds). It returns nil for an IP packet, even
// when the transport header was cut, and otherwise an error matching one of
// ErrNotIP, ErrUnsupportedLink, ErrTruncated or ErrMalformed, or, with
// DeferFragments, ErrFragment. p.Payload aliases data.
func (d *Decoder) Decode(data []byte, lt layers.LinkType, ts int64, p *Packet) (err error) {
	*p = Packet{Timestamp: ts}
	d.stats.Frames++
	if !d.panics {
		// gopacket's layers have panicked on hostile input before; a
		// sensor must drop such a frame, not die.
		defer func() {
			if r := recover(); r != nil {
				*p = Packet{Timestamp: ts}
				err = fmt.Errorf("decode: recovered panic: %v: %w", r, ErrMalformed)
				d.stats.Malformed++
			}
		}()
	}
	first, ok := firstLayer(lt, data)
	if !ok {
		d.stats.UnsupportedLink++
		return ErrUnsupportedLink
	}
	err = d.decode(data, first, p)
	d.count(err)
	if err != nil {
		*p = Packet{Timestamp: ts}
	}
	return err
}

func (d *Decoder) count(err error) {
	switch {
	case err == nil:
		d.stats.IP++
	case err == ErrNotIP:
		d.stats.NotIP++
	case err == ErrFragment:
		d.stats.FragmentsDeferred++
	case errors.Is(err, ErrTruncated):
		d.stats.Truncated++
	default:
		d.stats.Malformed++
	}
}

// firstLayer maps a pcap link type to the first layer to decode.
func firstLayer(lt layers.LinkType, data []byte) (gopacket.LayerType, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, true
	case layers.LinkTypePPP:
		return layers.LayerTypePPP, true
	case layers.LinkTypePPPEthernet:
		return layers.LayerTypePPPoE, true
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, true
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, true
	case layers.LinkTypeRaw, 12, 14: // DLT_RAW is 12 or 14 depending on the OS
		if len(data) == 0 {
			return layers.LayerTypeIPv4, true // the IPv4 step reports the cut
		}
		if t := guessIP(data); t != gopacket.LayerTypeZero {
			return t, true
		}
		return layers.LayerTypeIPv4, true // the version check reports it
	}
	return gopacket.LayerTypeZero, false
}

// linkMinLen is the header length below which a gopacket link layer fails;
// checking it first reports the cut as ErrTruncated without the layer
// allocating an error.
func linkMinLen(typ gopacket.LayerType) int {
	switch typ {
	case layers.LayerTypeEthernet:
		return 14
	case layers.LayerTypeDot1Q, layers.LayerTypeLoopback:
		return 4
	case layers.LayerTypeLinuxSLL:
		return 16
	case layers.LayerTypeLinuxSLL2:
		return 20
	}
	return 0
}

// decode walks the link layers down to IP, then hands over to the IP step.
func (d *Decoder) decode(data []byte, typ gopacket.LayerType, p *Packet) error {
	tagged := false
	for depth := 0; ; depth++ {
		switch typ {
		case layers.LayerTypeIPv4:
			return d.ipv4(data, p)
		case layers.LayerTypeIPv6:
			return d.ipv6(data, p)
		}
		dec, ok := d.link.Decoder(typ)
		if !ok || depth > 16 {
			return ErrNotIP
		}
		if len(data) < linkMinLen(typ) {
			return layerError(ErrTruncated, typ, nil)
		}
		d.fb.truncated = false
		if err := dec.DecodeFromBytes(data, &d.fb); err != nil {
			kind := ErrMalformed
			if d.fb.truncated {
				kind = ErrTruncated
			}
			return layerError(kind, typ, err)
		}
		if typ == layers.LayerTypeDot1Q && !tagged {
			p.VLAN = d.dot1q.VLANIdentifier
			tagged = true
		}
		typ, data = dec.NextLayerType(), dec.LayerPayload()
	}
}
