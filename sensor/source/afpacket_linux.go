package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// afpacket reads a TPACKET_V3 ring directly with golang.org/x/sys/unix
// (gopacket/afpacket needs golang.org/x/net, which the module does not
// require). The kernel fills blocks of packets; the reader walks a block's
// packets in place and hands the block back when it moves past its last
// packet, so a frame stays valid until the next call to Next.
type afpacket struct {
	cfg       AFPacketConfig
	fd        int
	ring      []byte
	link      layers.LinkType
	block     int  // current block
	inBlock   bool // the current block belongs to us
	remaining uint32
	off       int // offset of the next packet header in ring
	pollfd    [1]unix.PollFd
	vlanBuf   []byte // frame with its stripped 802.1Q tag put back
	stats     Stats
}

// Offsets into struct tpacket_block_desc.
const (
	blockStatusOff = 8
	blockNumOff    = 12
	blockFirstOff  = 16
	frameSize      = 2048 // only used to size the ring: V3 packs frames of any size
)

// OpenAFPacket opens a capture on cfg.Interface. It needs CAP_NET_RAW.
//
// The kernel strips 802.1Q tags before AF_PACKET sees them (VLAN offload);
// Next puts the tag back so flows on different VLANs stay apart. Disable
// GRO/LRO on a capture interface (ethtool -K IF gro off lro off): merged
// segments arrive as one large frame and packet counts come out low.
func OpenAFPacket(cfg AFPacketConfig) (Source, error) {
	cfg = cfg.withDefaults()
	s, err := openAFPacket(cfg)
	if err != nil {
		return nil, fmt.Errorf("open afpacket %s: %w", cfg.Interface, err)
	}
	return s, nil
}

func openAFPacket(cfg AFPacketConfig) (*afpacket, error) {
	if cfg.Interface == "" {
		return nil, errors.New("no interface")
	}
	if cfg.BlockSize%os.Getpagesize() != 0 {
		return nil, fmt.Errorf("block size %d is not a multiple of the page size %d", cfg.BlockSize, os.Getpagesize())
	}
	// Protocol 0: nothing is queued before the ring exists; bind picks
	// the interface and ETH_P_ALL.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	s := &afpacket{cfg: cfg, fd: fd, link: layers.LinkTypeEthernet}
	ifindex, arp, err := s.ifaceInfo()
	if err == nil && arp != unix.ARPHRD_ETHER && arp != unix.ARPHRD_LOOPBACK {
		// tun, GRE, PPP...: read from the network header on, as raw IP.
		unix.Close(s.fd)
		s.link = layers.LinkTypeRaw
		s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	}
	if err == nil {
		err = s.setup(ifindex)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ifaceInfo asks the kernel (in the calling thread's network namespace,
// which sysfs may not show) for the interface's index and ARPHRD_* type.
func (s *afpacket) ifaceInfo() (index int, arp uint16, err error) {
	ifr, err := unix.NewIfreq(s.cfg.Interface)
	if err != nil {
		return 0, 0, err
	}
	if err := unix.IoctlIfreq(s.fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, 0, fmt.Errorf("no interface %q: %w", s.cfg.Interface, err)
	}
	index = int(ifr.Uint32())
	if err := unix.IoctlIfreq(s.fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, 0, fmt.Errorf("interface type: %w", err)
	}
	return index, ifr.Uint16(), nil
}

func (s *afpacket) setup(ifindex int) error {
	if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fmt.Errorf("TPACKET_V3: %w", err)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(s.cfg.BlockSize),
		Block_nr:       uint32(s.cfg.NumBlocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(s.cfg.BlockSize / frameSize * s.cfg.NumBlocks),
		Retire_blk_tov: uint32(max(s.cfg.BlockTimeout.Milliseconds(), 1)),
	}
	if err := unix.SetsockoptTpacketReq3(s.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fmt.Errorf("rx ring of %d x %d bytes: %w", s.cfg.NumBlocks, s.cfg.BlockSize, err)
	}
	ring, err := unix.Mmap(s.fd, 0, s.cfg.BlockSize*s.cfg.NumBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_LOCKED)
	if err != nil {
		// MAP_LOCKED fails under a low RLIMIT_MEMLOCK; the ring still works unlocked.
		ring, err = unix.Mmap(s.fd, 0, s.cfg.BlockSize*s.cfg.NumBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return fmt.Errorf("mmap ring: %w", err)
		}
	}
	s.ring = ring
	if err := unix.Bind(s.fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	if s.cfg.Promiscuous {
		mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	if s.cfg.Fanout {
		// The kernel's flow hash is symmetric: both directions of a flow
		// reach the same socket, so each socket's flow table sees whole flows.
		arg := int(s.cfg.FanoutGroup) | unix.PACKET_FANOUT_HASH<<16
		if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
			return fmt.Errorf("fanout group %d: %w", s.cfg.FanoutGroup, err)
		}
	}
	s.pollfd[0] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN | unix.POLLERR}
	return nil
}

func (s *afpacket) blockStatus(b int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.ring[b*s.cfg.BlockSize+blockStatusOff]))
}

func (s *afpacket) Next() ([]byte, Info, error) {
	if s.ring == nil {
		return nil, Info{}, errors.New("afpacket: source closed")
	}
	for s.remaining == 0 {
		if s.inBlock {
			// Done with every frame of the block: give it back.
			atomic.StoreUint32(s.blockStatus(s.block), unix.TP_STATUS_KERNEL)
			s.block = (s.block + 1) % s.cfg.NumBlocks
			s.inBlock = false
		}
		if atomic.LoadUint32(s.blockStatus(s.block))&unix.TP_STATUS_USER == 0 {
			if err := s.poll(); err != nil {
				return nil, Info{}, err
			}
			continue
		}
		base := s.block * s.cfg.BlockSize
		s.inBlock = true
		s.remaining = binary.NativeEndian.Uint32(s.ring[base+blockNumOff:])
		s.off = base + int(binary.NativeEndian.Uint32(s.ring[base+blockFirstOff:]))
	}
	h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&s.ring[s.off]))
	start := s.off + int(h.Mac)
	data := s.ring[start : start+int(h.Snaplen)]
	info := Info{
		Timestamp: int64(h.Sec)*1e9 + int64(h.Nsec),
		WireLen:   int(h.Len),
		LinkType:  s.link,
	}
	if h.Status&unix.TP_STATUS_VLAN_VALID != 0 && s.link == layers.LinkTypeEthernet && len(data) >= 12 {
		data = s.withVLAN(data, h)
		info.WireLen += 4
	}
	info.CaptureLen = len(data)
	s.remaining--
	s.off += int(h.Next_offset)
	s.stats.Packets++
	return data, info, nil
}

// withVLAN copies the frame with its 802.1Q tag back after the MAC
// addresses, into a buffer reused across frames.
func (s *afpacket) withVLAN(data []byte, h *unix.Tpacket3Hdr) []byte {
	tpid := uint16(unix.ETH_P_8021Q)
	if h.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 && h.Hv1.Vlan_tpid != 0 {
		tpid = h.Hv1.Vlan_tpid
	}
	b := append(s.vlanBuf[:0], data[:12]...)
	b = binary.BigEndian.AppendUint16(b, tpid)
	b = binary.BigEndian.AppendUint16(b, uint16(h.Hv1.Vlan_tci))
	b = append(b, data[12:]...)
	s.vlanBuf = b
	return b
}

func (s *afpacket) poll() error {
	n, err := unix.Poll(s.pollfd[:], int(s.cfg.PollTimeout.Milliseconds()))
	switch {
	case err == unix.EINTR:
		return nil
	case err != nil:
		return fmt.Errorf("afpacket %s: poll: %w", s.cfg.Interface, err)
	case n == 0:
		return ErrTimeout
	case s.pollfd[0].Revents&(unix.POLLERR|unix.POLLNVAL) != 0:
		if serr, _ := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR); serr != 0 {
			return fmt.Errorf("afpacket %s: %w", s.cfg.Interface, unix.Errno(serr))
		}
	}
	return nil
}

// Stats reads the kernel's counters, which reset on every read, and adds
// them up: Drops are frames the kernel had no ring space for.
func (s *afpacket) Stats() Stats {
	if s.ring != nil {
		if st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			s.stats.Drops += uint64(st.Drops)
		}
	}
	return s.stats
}

func (s *afpacket) Kind() string { return "afpacket" }

func (s *afpacket) Close() error {
	if s.ring != nil {
		unix.Munmap(s.ring)
		s.ring = nil
	}
	if s.fd >= 0 {
		err := unix.Close(s.fd)
		s.fd = -1
		return err
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
