package source

import (
	"errors"

	"github.com/gopacket/gopacket/layers"
)

// Info describes one captured frame.
type Info struct {
	Timestamp  int64           // capture time, Unix nanoseconds
	CaptureLen int             // bytes captured (len(data))
	WireLen    int             // bytes on the wire
	LinkType   layers.LinkType // per packet: pcapng files may mix link types
}

// Stats are a source's own counters, cumulative.
type Stats struct {
	Packets uint64 // frames delivered to the caller
	Drops   uint64 // frames lost before the caller saw them (kernel, ring)
	// Truncated is 1 when a capture file ended in the middle of a record
	// (a capture cut short): Next returned io.EOF after the last complete
	// frame instead of an error.
	Truncated uint64
}

// ErrTimeout is returned by Next on a live source when no frame arrived
// within its poll interval, so the caller can advance its clock on wall time.
var ErrTimeout = errors.New("source: no packet before timeout")

// Source delivers frames. It is a driver: pcap/pcapng files, AF_PACKET.
// Next returns io.EOF when a file ends. data is valid only until the next
// call to Next. A Source is used by one goroutine.
type Source interface {
	Next() (data []byte, info Info, err error)
	Stats() Stats
	// Kind names the driver for health reports: "pcap", "afpacket".
	Kind() string
	Close() error
}
