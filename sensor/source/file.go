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

// lookAhead is the read buffer: records up to this size are handed out in
// place, larger ones are copied. It holds any pcap record up to libpcap's
// largest snap length (262144) with its header.
const lookAhead = 1<<18 + 1<<12

// errCorrupt marks structural errors in a capture file.
var errCorrupt = errors.New("corrupt capture")

// frameReader is one capture format. next returns io.EOF at a clean end
// and io.ErrUnexpectedEOF when the file ends inside a record.
type frameReader interface {
	next(info *Info) ([]byte, error)
}

// fileSource reads a pcap or pcapng file, sequentially: frames are handed
// out from the read buffer, no allocation per packet.
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

// newFrameReader unzips if the stream is gzip'd, then picks the reader by
// magic number and reads the file header (pcap) or first section header
// (pcapng).
func newFrameReader(f io.Reader) (frameReader, error) {
	br := bufio.NewReaderSize(f, lookAhead)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: shorter than a file header", errCorrupt)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		br = bufio.NewReaderSize(zr, lookAhead)
		if magic, err = br.Peek(4); err != nil {
			return nil, fmt.Errorf("%w: shorter than a file header", errCorrupt)
		}
	}
	in := records{r: br}
	switch binary.LittleEndian.Uint32(magic) {
	case magicPcapMicro, magicPcapMicroBE, magicPcapNano, magicPcapNanoBE:
		return newPcapReader(in)
	case magicPcapng:
		return newPcapngReader(in)
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

// records hands out a file's records, each once its length is known.
type records struct {
	r   *bufio.Reader
	big []byte // holds a record larger than the look-ahead
}

// peek returns the next n bytes (n ≤ lookAhead) without consuming them:
// io.EOF if the file ends before them, io.ErrUnexpectedEOF if inside them.
func (in *records) peek(n int) ([]byte, error) {
	b, err := in.r.Peek(n)
	switch {
	case err == nil:
		return b, nil
	case err == io.EOF && len(b) == 0:
		return nil, io.EOF
	case err == io.EOF:
		return nil, io.ErrUnexpectedEOF
	}
	return nil, err
}

// take consumes the next n bytes (n ≤ maxRecord), whose start peek has
// seen, and returns them, valid until the next call: in the read buffer if
// they fit, else in big, which grows only as the bytes arrive, so a corrupt
// length in a short file costs no more memory than the file holds.
func (in *records) take(n int) ([]byte, error) {
	if n <= in.r.Size() {
		b, err := in.r.Peek(n)
		if err != nil {
			return nil, cut(err)
		}
		in.r.Discard(n)
		return b, nil
	}
	have := 0
	for have < n {
		want := n
		if cap(in.big) < n {
			want = min(n, max(2*have, lookAhead))
		}
		if cap(in.big) < want {
			in.big = append(in.big[:have], make([]byte, want-have)...)
		}
		m, err := io.ReadFull(in.r, in.big[have:want])
		have += m
		if err != nil {
			return nil, cut(err)
		}
	}
	return in.big[:n], nil
}

// cut is the error for a file that ends inside a record.
func cut(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
