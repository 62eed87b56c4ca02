package source

import "time"

// AFPacketConfig configures a live capture through an AF_PACKET TPACKET_V3
// ring. Zero fields take the defaults.
type AFPacketConfig struct {
	Interface string // required
	// BlockSize is the size of one ring block, a multiple of the page size
	// (default 1 MiB); NumBlocks the number of blocks (default 64). The
	// ring (BlockSize*NumBlocks) absorbs bursts while the reader is busy.
	BlockSize int
	NumBlocks int
	// BlockTimeout is how long the kernel keeps a partly filled block
	// before handing it over (default 50ms): the latency on a quiet link.
	BlockTimeout time.Duration
	// PollTimeout is how long Next waits before returning ErrTimeout
	// (default 500ms), so the caller's clock advances on a quiet link.
	PollTimeout time.Duration
	// Fanout joins a PACKET_FANOUT_HASH group: sockets with the same
	// FanoutGroup on one interface share its packets, each flow (both
	// directions) going to one socket.
	Fanout      bool
	FanoutGroup uint16
	Promiscuous bool
}

// Defaults for zero AFPacketConfig fields.
const (
	DefaultBlockSize    = 1 << 20
	DefaultNumBlocks    = 64
	DefaultBlockTimeout = 50 * time.Millisecond
	DefaultPollTimeout  = 500 * time.Millisecond
)

func (c AFPacketConfig) withDefaults() AFPacketConfig {
	if c.BlockSize <= 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.NumBlocks <= 0 {
		c.NumBlocks = DefaultNumBlocks
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = DefaultBlockTimeout
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = DefaultPollTimeout
	}
	return c
}
