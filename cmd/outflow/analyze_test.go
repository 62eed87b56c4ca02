package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/internal/zeekconn"
)

const testdata = "../../../shared/testdata"

// outflow runs the outflow CLI (this test binary re-executed) and returns
// stdout, stderr and the exit error.
func outflow(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "OUTFLOW_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func parseFlows(t *testing.T, jsonl string) []flow.Record {
	t.Helper()
	var recs []flow.Record
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line == "" {
			continue
		}
		var r flow.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("flow line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// The flows `outflow analyze` reports — through the sensor, NATS and the
// JSON-lines output — equal Zeek's conn.log for every connection of every
// shared capture: packets and IP bytes sent by each endpoint, exactly.
func TestAnalyzeMatchesZeek(t *testing.T) {
	traces, err := zeekconn.Traces(filepath.Join(testdata, "zeek-conn"))
	if err != nil || len(traces) != 16 {
		t.Fatalf("want the 16 shared Zeek captures, found %d (%v)", len(traces), err)
	}
	for _, tr := range traces {
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, err := outflow(t, "analyze", "-flows", "-", "-alerts", filepath.Join(t.TempDir(), "alerts.jsonl"), tr.Capture)
			if err != nil {
				t.Fatalf("analyze: %v\n%s", err, stderr)
			}
			tr.Check(t, zeekconn.FromRecords(parseFlows(t, stdout)))
		})
	}
}

// readFrames loads a capture with pcapgo (independently of our source).
func readFrames(t *testing.T, path string) ([]gopacket.CaptureInfo, [][]byte, layers.LinkType) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, err := pcapgo.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	var cis []gopacket.CaptureInfo
	var frames [][]byte
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		cis, frames = append(cis, ci), append(frames, data)
	}
	return cis, frames, r.LinkType()
}

func writeFrames(t *testing.T, path string, lt layers.LinkType, snaplen int, cis []gopacket.CaptureInfo, frames [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(uint32(snaplen), lt); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := cis[i]
		if len(f) > snaplen {
			f = f[:snaplen]
		}
		ci.CaptureLength = len(f)
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Bad captures give a clear error naming the file, or are counted, never
// a crash or a hang; a small snaplen does not change what is counted.
func TestAnalyzeBadInput(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(testdata, "zeek-conn/wikipedia.pcap")
	cis, frames, lt := readFrames(t, orig)
	whole, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	full, stderr, err := outflow(t, "analyze", "-flows", "-", "-alerts", filepath.Join(dir, "a.jsonl"), orig)
	if err != nil {
		t.Fatalf("analyze %s: %v\n%s", orig, err, stderr)
	}
	want := zeekconn.FromRecords(parseFlows(t, full))

	// A snaplen that keeps the IP header and the ports but cuts the rest
	// (TCP options, payloads; at 38 the TCP and UDP headers themselves) must
	// not change what is counted. At 38 an IPv6 header (40 bytes) is cut
	// too: those packets cannot be attributed and are counted as decode
	// errors, so only IPv4 connections are compared there.
	for _, snap := range []int{58, 38} {
		t.Run(fmt.Sprintf("snaplen %d", snap), func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("snap%d.pcap", snap))
			writeFrames(t, p, lt, snap, cis, frames)
			out, stderr, err := outflow(t, "analyze", "-flows", "-", "-alerts", filepath.Join(dir, "b.jsonl"), p)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			expect := want
			if snap < 54 {
				expect = slices.DeleteFunc(slices.Clone(want), func(c zeekconn.Conn) bool { return c.A.Addr.Is6() })
			}
			matched, bad := zeekconn.Compare(expect, zeekconn.FromRecords(parseFlows(t, out)), nil)
			if len(bad) > 0 || matched != len(expect) || matched < 30 {
				t.Fatalf("snaplen %d changed the counts (%d of %d match):\n%s", snap, matched, len(expect), strings.Join(bad, "\n"))
			}
		})
	}

	errCases := []struct {
		name string
		data []byte
		want []string
	}{
		{"not a capture", []byte("this is a text file, not a capture\n"), []string{"not-a-capture.pcap", "capture"}},
		{"empty", nil, []string{"empty.pcap"}},
		{"header only, cut", whole[:10], []string{"header-only-cut.pcap"}},
		{"absurd record length", func() []byte {
			b := bytes.Clone(whole[:24+16+60])
			binary.LittleEndian.PutUint32(b[24+8:], 0x7fffffff) // caplen of record 1
			return b
		}(), []string{"absurd-record-length.pcap", "packet 1"}},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".pcap")
			p = strings.ReplaceAll(p, ",", "")
			if err := os.WriteFile(p, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, stderr, err := outflow(t, "analyze", "-alerts", filepath.Join(dir, "c.jsonl"), p)
			if err == nil {
				t.Fatalf("no error for %s", c.name)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Fatalf("crashed:\n%s", stderr)
			}
		})
	}

	t.Run("truncated mid-record", func(t *testing.T) {
		// Cut inside the 100th record: the 99 complete ones are counted.
		off := 24
		for i := 0; i < 99; i++ {
			off += 16 + len(frames[i])
		}
		p := filepath.Join(dir, "truncated.pcap")
		if err := os.WriteFile(p, whole[:off+16+5], 0o600); err != nil {
			t.Fatal(err)
		}
		out, stderr, err := outflow(t, "analyze", "-flows", "-", "-alerts", filepath.Join(dir, "d.jsonl"), p)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		var ipPackets uint64
		for _, r := range parseFlows(t, out) {
			ipPackets += r.SrcPackets + r.DstPackets
		}
		writeFrames(t, filepath.Join(dir, "first99.pcap"), lt, 65535, cis[:99], frames[:99])
		out99, _, err := outflow(t, "analyze", "-flows", "-", "-alerts", filepath.Join(dir, "e.jsonl"), filepath.Join(dir, "first99.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		var want uint64
		for _, r := range parseFlows(t, out99) {
			want += r.SrcPackets + r.DstPackets
		}
		if ipPackets != want || want == 0 {
			t.Fatalf("truncated capture: %d IP packets counted, the 99 complete records hold %d", ipPackets, want)
		}
		if !strings.Contains(stderr, "truncated.pcap") || !strings.Contains(stderr, "ended inside a record") {
			t.Errorf("no warning naming the truncated file:\n%s", stderr)
		}
	})
}
