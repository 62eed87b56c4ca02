package source

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Magic numbers, as read little-endian from a file's first four bytes.
const (
	magicPcapMicro   = 0xa1b2c3d4
	magicPcapMicroBE = 0xd4c3b2a1
	magicPcapNano    = 0xa1b23c4d
	magicPcapNanoBE  = 0x4d3cb2a1
	magicPcapng      = 0x0a0d0d0a // section header block type, same in both orders
)

// maxRecord bounds one record or block: a length above it is corruption,
// reported as an error instead of an allocation of what the file claims.
const maxRecord = 16 << 20

// errCorrupt marks structural errors in a capture file.
var errCorrupt = errors.New("corrupt capture")

// frameReader is one capture format. next returns io.EOF at a clean end
// and io.ErrUnexpectedEOF when the file ends inside a record.
type frameReader interface {
	next(info *Info) ([]byte, error)
}

// fileSource reads a pcap or pcapng file, sequentially, reusing one buffer:
// no allocation per packet.
type fileSource struct {
	path  string
	f     *os.File
	r     frameReader
	stats Stats
	err   error // sticky: once set, Next returns it again
	info  Info  // filled by r.next; a field, as a local would escape through the interface call
}

// OpenFile opens a pcap (either byte order, µs or ns timestamps) or pcapng
// file (any number of sections and interfaces, each with its own link type
// and timestamp resolution), optionally gzip-compressed; the format comes
// from the magic number, not the name.
//
// A file that ends inside a record (a capture cut short) ends with io.EOF
// after its last complete frame and Stats().Truncated = 1: the frames
// before it are good, and replaying them is what the caller wants. Any
// other damage is an error naming the file and the packet's index.
func OpenFile(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open capture %s: %w", path, err)
	}
	r, err := newFrameReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open capture %s: %w", path, err)
	}
	return &fileSource{path: path, f: f, r: r}, nil
}

func newFrameReader(f io.Reader) (frameReader, error) {
	br := bufio.NewReaderSize(f, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: shorter than a file header", errCorrupt)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		br = bufio.NewReaderSize(zr, 1<<16)
		if magic, err = br.Peek(4); err != nil {
			return nil, fmt.Errorf("%w: shorter than a file header", errCorrupt)
		}
	}
	switch binary.LittleEndian.Uint32(magic) {
	case magicPcapMicro, magicPcapMicroBE, magicPcapNano, magicPcapNanoBE:
		return newPcapReader(br)
	case magicPcapng:
		return newPcapngReader(br)
	}
	return nil, fmt.Errorf("%w: unknown magic number %#08x (not pcap or pcapng)", errCorrupt, binary.LittleEndian.Uint32(magic))
}

func (s *fileSource) Next() ([]byte, Info, error) {
	if s.err != nil {
		return nil, Info{}, s.err
	}
	data, err := s.r.next(&s.info)
	switch {
	case err == nil:
		s.stats.Packets++
		s.info.CaptureLen = len(data)
		return data, s.info, nil
	case err == io.EOF:
		s.err = io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		s.stats.Truncated = 1
		s.err = io.EOF
	default:
		s.err = fmt.Errorf("read capture %s: packet %d: %w", s.path, s.stats.Packets+1, err)
	}
	return nil, Info{}, s.err
}

func (s *fileSource) Stats() Stats { return s.stats }
func (s *fileSource) Kind() string { return "pcap" }
func (s *fileSource) Close() error { return s.f.Close() }

// readFull reads len(b) bytes: io.EOF if none were there, else
// io.ErrUnexpectedEOF if the file ended first.
func readFull(r io.Reader, b []byte) error {
	_, err := io.ReadFull(r, b)
	return err
}

// grow returns buf resized to n bytes, reallocating only to grow.
func grow(buf []byte, n int) []byte {
	if cap(buf) < n {
		buf = make([]byte, n, max(n, 2*cap(buf)))
	}
	return buf[:n]
}
