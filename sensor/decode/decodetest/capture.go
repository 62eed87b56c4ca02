// Package decodetest loads pcap and pcapng files into memory for tests and
// benchmarks of the packet decoding path, with gopacket's pcapgo: a reader
// independent of our own source package, so decoder tests do not lean on
// the code they sit beside. It is test support, not a packet source (that
// is sensor/source).
package decodetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Frame is one captured frame.
type Frame struct {
	Data     []byte
	LinkType layers.LinkType
	TS       int64 // Unix nanoseconds
	WireLen  int
}

var ngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}

// ReadFile loads every frame of a pcap or pcapng file (detected by magic).
func ReadFile(path string) ([]Frame, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	br := bufio.NewReader(fh)
	magic, _ := br.Peek(4)
	var next func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
	if bytes.Equal(magic, ngMagic) {
		// WantMixedLinkType: otherwise pcapgo drops the frames of interfaces
		// whose link type differs from the first one's.
		r, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("read capture %s: %w", path, err)
		}
		next = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				return nil, ci, 0, err
			}
			iface, err := r.Interface(ci.InterfaceIndex)
			return data, ci, iface.LinkType, err
		}
	} else {
		r, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read capture %s: %w", path, err)
		}
		next = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
			data, ci, err := r.ReadPacketData()
			return data, ci, r.LinkType(), err
		}
	}
	var frames []Frame
	for {
		data, ci, lt, err := next()
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read capture %s: frame %d: %w", path, len(frames)+1, err)
		}
		frames = append(frames, Frame{Data: data, LinkType: lt, TS: ci.Timestamp.UnixNano(), WireLen: ci.Length})
	}
}
