package scenario

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
)

// record is one pcap record as read back.
type record struct {
	ts      int64
	data    []byte // valid only inside the callback
	wireLen int
}

// readPcap calls fn for every record of a nanosecond pcap stream and
// returns the snaplen from the file header.
func readPcap(r io.Reader, fn func(record) error) (snaplen int, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var hdr [24]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return 0, err
	}
	if m := binary.LittleEndian.Uint32(hdr[:]); m != 0xa1b23c4d {
		return 0, fmt.Errorf("magic %#x, want nanosecond pcap", m)
	}
	if lt := binary.LittleEndian.Uint32(hdr[20:]); lt != 1 {
		return 0, fmt.Errorf("link type %d, want Ethernet", lt)
	}
	snaplen = int(binary.LittleEndian.Uint32(hdr[16:]))
	buf := make([]byte, 65536)
	for {
		var rh [16]byte
		if _, err := io.ReadFull(br, rh[:]); errors.Is(err, io.EOF) {
			return snaplen, nil
		} else if err != nil {
			return snaplen, err
		}
		ts := int64(binary.LittleEndian.Uint32(rh[0:]))*1e9 + int64(binary.LittleEndian.Uint32(rh[4:]))
		capLen := int(binary.LittleEndian.Uint32(rh[8:]))
		if capLen > len(buf) {
			return snaplen, fmt.Errorf("record of %d bytes", capLen)
		}
		if _, err := io.ReadFull(br, buf[:capLen]); err != nil {
			return snaplen, err
		}
		if err := fn(record{ts: ts, data: buf[:capLen], wireLen: int(binary.LittleEndian.Uint32(rh[12:]))}); err != nil {
			return snaplen, err
		}
	}
}

// generateStream runs Generate into a pipe and reads the capture back
// concurrently, so large captures never sit in memory.
func generateStream(t *testing.T, cfg Config, fn func(record) error) Truth {
	t.Helper()
	pr, pw := io.Pipe()
	type result struct {
		truth Truth
		err   error
	}
	done := make(chan result, 1)
	go func() {
		tr, err := Generate(cfg, pw)
		pw.CloseWithError(err)
		done <- result{tr, err}
	}()
	_, rerr := readPcap(pr, fn)
	pr.CloseWithError(errors.New("reader stopped"))
	res := <-done
	if res.err != nil {
		t.Fatalf("Generate: %v", res.err)
	}
	if rerr != nil {
		t.Fatalf("read back: %v", rerr)
	}
	return res.truth
}

// countingWriter counts and discards.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
