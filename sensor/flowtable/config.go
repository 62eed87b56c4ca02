package flowtable

import (
	"net/netip"
	"time"

	"github.com/outflowhq/outflow/sensor/decode"
)

// Config bounds the table and sets its timeouts. Zero fields take the
// defaults below.
type Config struct {
	MaxFlows       int           // bound on entries, default 262144
	TCPIdle        time.Duration // open TCP flows, default 300s (Zeek's tcp_inactivity_timeout)
	OtherIdle      time.Duration // UDP, ICMP and other protocols, default 60s
	ClosedIdle     time.Duration // after FIN both ways or RST, default 10s
	ActiveInterval time.Duration // flows with new packets export a delta at least this often, default 10s
}

// Defaults used for zero Config fields.
const (
	DefaultMaxFlows       = 262144
	DefaultTCPIdle        = 300 * time.Second
	DefaultOtherIdle      = 60 * time.Second
	DefaultClosedIdle     = 10 * time.Second
	DefaultActiveInterval = 10 * time.Second
)

// WithDefaults returns c with the defaults in its zero fields.
func (c Config) WithDefaults() Config {
	if c.MaxFlows <= 0 {
		c.MaxFlows = DefaultMaxFlows
	}
	if c.TCPIdle <= 0 {
		c.TCPIdle = DefaultTCPIdle
	}
	if c.OtherIdle <= 0 {
		c.OtherIdle = DefaultOtherIdle
	}
	if c.ClosedIdle <= 0 {
		c.ClosedIdle = DefaultClosedIdle
	}
	if c.ActiveInterval <= 0 {
		c.ActiveInterval = DefaultActiveInterval
	}
	return c
}

// granularity is how often (event time) Tick does work: a tenth of the
// shortest timeout, at most a second. Timeouts and exports fire at most one
// granule late; in exchange a Tick per packet costs one comparison.
func (c Config) granularity() int64 {
	g := time.Second
	for _, d := range []time.Duration{c.ActiveInterval, c.ClosedIdle, c.OtherIdle, c.TCPIdle} {
		g = min(g, d/10)
	}
	return max(int64(g), 1)
}

// Namer learns names for remote addresses. sensor/names.Cache implements it.
type Namer interface {
	// Observe parses p's payload: it returns the name the initiator asked
	// the responder for (TLS SNI, HTTP Host), or "" if none; DNS responses
	// are learned for later Lookups.
	Observe(p *decode.Packet) string
	// Lookup returns the name learned from DNS for addr, "" if none.
	Lookup(addr netip.Addr) string
}

// Stats are plain cumulative counters, except Entries and Capacity.
type Stats struct {
	Entries   int    // flows in the table now
	Capacity  int    // MaxFlows
	Created   uint64 // flows created
	Evictions uint64 // flows removed early because the table was full
	Expired   uint64 // flows removed by an idle or closed timeout
	Closed    uint64 // TCP flows that saw FIN both ways or a RST
	Reused    uint64 // closed flows ended by a new SYN on the same tuple (port reuse)
	Flushed   uint64 // flows ended by Flush
	Packets   uint64 // packets counted
	Bytes     uint64 // IP bytes counted
	Records   uint64 // deltas emitted
	Observed  uint64 // payloads handed to the Namer
	Queries   uint64 // DNS query names recorded for flows (a new name on a flow counts again)
}
