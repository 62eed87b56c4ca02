package source

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// frameSize only sizes the ring: TPACKET_V3 packs frames of any size into
// its blocks. It divides every page size, so any valid BlockSize.
const frameSize = 2048

// afpacketSource reads a TPACKET_V3 ring through gopacket's afpacket, in
// place: a frame stays valid until the next call to Next.
type afpacketSource struct {
	tp        *afpacket.TPacket
	iface     string
	link      layers.LinkType
	stats     Stats
	lastDrops uint32 // gopacket's running drop count, as of the last Stats
}

// OpenAFPacket opens a capture on cfg.Interface. It needs CAP_NET_RAW.
//
// The kernel strips 802.1Q tags before AF_PACKET sees them (VLAN offload);
// Next puts the tag back so flows on different VLANs stay apart. Disable
// GRO/LRO on a capture interface (ethtool -K IF gro off lro off): merged
// segments arrive as one large frame and packet counts come out low.
func OpenAFPacket(cfg AFPacketConfig) (Source, error) {
	cfg = cfg.withDefaults()
	s, err := openAFPacket(cfg)
	if errors.Is(err, unix.EPERM) {
		return nil, fmt.Errorf("open afpacket %s: %w (capturing needs CAP_NET_RAW: run as root or grant it, e.g. setcap cap_net_raw+ep outflow)", cfg.Interface, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open afpacket %s: %w", cfg.Interface, err)
	}
	return s, nil
}

func openAFPacket(cfg AFPacketConfig) (*afpacketSource, error) {
	if cfg.Interface == "" {
		return nil, errors.New("no interface")
	}
	link, err := linkType(cfg.Interface)
	if err != nil {
		return nil, err
	}
	// tun, GRE, PPP...: read from the network header on, as raw IP.
	sockType := afpacket.SocketDgram
	if link == layers.LinkTypeEthernet {
		sockType = afpacket.SocketRaw
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(cfg.Interface),
		afpacket.OptSocketType(sockType),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptFrameSize(frameSize),
		afpacket.OptBlockSize(cfg.BlockSize),
		afpacket.OptNumBlocks(cfg.NumBlocks),
		afpacket.OptBlockTimeout(max(cfg.BlockTimeout, time.Millisecond)), // the kernel counts whole ms
		afpacket.OptPollTimeout(cfg.PollTimeout),
		afpacket.OptAddVLANHeader(link == layers.LinkTypeEthernet),
	)
	if err != nil {
		return nil, err
	}
	s := &afpacketSource{tp: tp, iface: cfg.Interface, link: link}
	if cfg.Promiscuous {
		if err := tp.SetPromiscuous(true); err != nil {
			s.Close()
			return nil, fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	if cfg.Fanout {
		// The kernel's flow hash is symmetric: both directions of a flow
		// reach the same socket, so each socket's flow table sees whole flows.
		if err := tp.SetFanout(afpacket.FanoutHash, cfg.FanoutGroup); err != nil {
			s.Close()
			return nil, fmt.Errorf("fanout group %d: %w", cfg.FanoutGroup, err)
		}
	}
	return s, nil
}

// linkType says what the interface's frames start with; gopacket's afpacket
// does not. It asks the kernel in the calling thread's network namespace
// (sysfs shows the namespace it was mounted in).
func linkType(name string) (layers.LinkType, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("no interface %q: %w", name, err)
	}
	switch ifr.Uint16() {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return layers.LinkTypeEthernet, nil
	}
	return layers.LinkTypeRaw, nil
}

func (s *afpacketSource) Next() ([]byte, Info, error) {
	if s.tp == nil {
		return nil, Info{}, errors.New("afpacket: source closed")
	}
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) {
			return nil, Info{}, ErrTimeout
		}
		return nil, Info{}, fmt.Errorf("afpacket %s: %w", s.iface, err)
	}
	s.stats.Packets++
	// ci.Length counts the VLAN tag gopacket put back.
	return data, Info{Timestamp: ci.Timestamp.UnixNano(), CaptureLen: len(data), WireLen: ci.Length, LinkType: s.link}, nil
}

// Stats adds up the kernel's drops: frames that found the ring full.
// gopacket keeps the running total in a uint32, so Drops adds its
// differences (modulo 2^32) to stay monotonic past 4 billion drops.
func (s *afpacketSource) Stats() Stats {
	if s.tp != nil {
		if _, st, err := s.tp.SocketStats(); err == nil {
			d := uint32(st.Drops())
			s.stats.Drops += uint64(d - s.lastDrops)
			s.lastDrops = d
		}
	}
	return s.stats
}

func (s *afpacketSource) Kind() string { return "afpacket" }

func (s *afpacketSource) Close() error {
	if s.tp != nil {
		s.tp.Close()
		s.tp = nil
	}
	return nil
}
