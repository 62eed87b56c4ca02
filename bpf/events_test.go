//go:build linux

package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/outflowhq/outflow/internal/netnstest"
	"golang.org/x/sys/unix"
)

// loadWith loads the programs with opts, or skips without root (fails in CI).
func loadWith(t testing.TB, opts Options) *Objects {
	t.Helper()
	netnstest.RequireRoot(t, "eBPF program tests")
	o, err := LoadWith(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func eventReader(t testing.TB, o *Objects) *EventReader {
	t.Helper()
	r, err := o.NameEvents()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// drain reads the events waiting in the ring buffer, copying their data.
func drain(t testing.TB, r *EventReader) []Event {
	t.Helper()
	r.SetDeadline(time.Now())
	var evs []Event
	for {
		var e Event
		err := r.Read(&e)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		e.Data = append([]byte(nil), e.Data...)
		evs = append(evs, e)
	}
}

func monotonic(t testing.TB) uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return uint64(ts.Nano())
}

func dns6(t testing.TB, sport, dport uint16) []byte {
	return serialize(t, ether(layers.EthernetTypeIPv6), ip6("2001:db8::53", "2001:db8::1", layers.IPProtocolUDP),
		&layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}, gopacket.Payload("\x12\x34\x81\x80answer"))
}

func TestNameEvents(t *testing.T) {
	o := loadWith(t, Options{})
	r := eventReader(t, o)

	clientHello := "\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03" + strings.Repeat("r", 32)
	later := ip4("192.0.2.53", "10.0.0.1", layers.IPProtocolUDP)
	later.FragOffset = 100
	later6 := serialize(t, ether(layers.EthernetTypeIPv6), ip6("2001:db8::53", "2001:db8::1", layers.IPProtocolIPv6Fragment),
		gopacket.Payload(append([]byte{17, 0, 0x03, 0x20, 0, 0, 0, 9}, "\x00\x35\x9c\x40\x00\x10\x00\x00answer"...)))
	for _, tc := range []struct {
		name  string
		frame []byte
		event bool
	}{
		{"dns response ipv4", udp4(t, "192.0.2.53", "10.0.0.1", 53, 40000, "\x12\x34\x81\x80answer"), true},
		{"dns response ipv6", dns6(t, 53, 40000), true},
		{"dns response past the capture limit", udp4(t, "192.0.2.53", "10.0.0.1", 53, 40000, strings.Repeat("a", 2000)), true},
		{"dns query", udp4(t, "10.0.0.1", "192.0.2.53", 40000, 53, "\x12\x34\x01\x00query"), false},
		{"dns query ipv6", dns6(t, 40000, 53), false},
		{"tls client hello", tcp4(t, "10.0.0.1", "192.0.2.7", 40000, 443, "PA", clientHello), true},
		{"tls server hello", tcp4(t, "192.0.2.7", "10.0.0.1", 443, 40000, "PA", "\x16\x03\x03\x00\x30\x02\x00\x00\x2c"), false},
		{"tls application data", tcp4(t, "10.0.0.1", "192.0.2.7", 40000, 443, "PA", "\x17\x03\x03\x00\x05hello"), false},
		{"http get", tcp4(t, "10.0.0.1", "192.0.2.7", 40000, 80, "PA", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), true},
		{"http post", tcp4(t, "10.0.0.1", "192.0.2.7", 40000, 80, "PA", "POST /x HTTP/1.1\r\nHost: example.com\r\n\r\n"), true},
		{"http response", tcp4(t, "192.0.2.7", "10.0.0.1", 80, 40000, "PA", "HTTP/1.1 200 OK\r\n\r\n"), false},
		{"tcp data", tcp4(t, "10.0.0.1", "192.0.2.7", 40000, 22, "PA", "SSH-2.0-OpenSSH"), false},
		{"tcp syn", tcp4(t, "10.0.0.1", "192.0.2.7", 40000, 443, "S", ""), false},
		{"ipv4 later fragment", serialize(t, ether(layers.EthernetTypeIPv4), later,
			gopacket.Payload("\x00\x35\x9c\x40\x00\x10\x00\x00answer")), false},
		{"ipv6 later fragment", later6, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := monotonic(t)
			run(t, o.objs.FlowIngress, tc.frame)
			after := monotonic(t)
			evs := drain(t, r)
			if !tc.event {
				if len(evs) != 0 {
					t.Fatalf("%d events, want none", len(evs))
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			e := evs[0]
			want := tc.frame
			if len(want) > EventMaxBytes {
				want = want[:EventMaxBytes]
			}
			if !bytes.Equal(e.Data, want) {
				t.Errorf("data\n got %x\nwant %x", e.Data, want)
			}
			// BPF_PROG_TEST_RUN runs on the loopback device, ifindex 1.
			if e.Len != uint32(len(tc.frame)) || e.Ifindex != 1 || e.VLAN != 0 {
				t.Errorf("event len %d ifindex %d vlan %d, want %d, 1, 0", e.Len, e.Ifindex, e.VLAN, len(tc.frame))
			}
			if e.Time < before || e.Time > after {
				t.Errorf("time %d not within [%d, %d]", e.Time, before, after)
			}
		})
	}
	c, err := o.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c.NameEvents != 6 || c.NameEventsRateLimited != 0 || c.NameEventsLost != 0 {
		t.Errorf("counters %+v, want 6 events", c)
	}
}

func TestNameEventsRateLimit(t *testing.T) {
	o := loadWith(t, Options{EventRate: 1, EventBurst: 5})
	r := eventReader(t, o)
	// One BPF_PROG_TEST_RUN with 20 repeats: one CPU, so one bucket.
	frame := udp4(t, "192.0.2.53", "10.0.0.1", 53, 40000, "answer")
	if _, err := o.objs.FlowIngress.Run(&ebpf.RunOptions{Data: frame, Repeat: 20}); err != nil {
		t.Fatal(err)
	}
	c, err := o.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c.NameEvents != 5 || c.NameEventsRateLimited != 15 || c.NameEventsLost != 0 {
		t.Errorf("counters %+v, want 5 events and 15 rate-limited", c)
	}
	if evs := drain(t, r); len(evs) != 5 {
		t.Errorf("read %d events, want 5", len(evs))
	}
}

func TestNameEventsFullRingCountsLost(t *testing.T) {
	o := loadWith(t, Options{EventRate: 1_000_000, EventBurst: 1_000_000})
	const packets = 20000
	frame := udp4(t, "192.0.2.53", "10.0.0.1", 53, 40000, "answer") // padded to 60 bytes
	if _, err := o.objs.FlowIngress.Run(&ebpf.RunOptions{Data: frame, Repeat: packets}); err != nil {
		t.Fatal(err)
	}
	c, err := o.Counters()
	if err != nil {
		t.Fatal(err)
	}
	// Each record takes an 8-byte ring buffer header plus the event
	// rounded up to 8 bytes; nobody reads, so 1 MiB holds a fixed number.
	record := 8 + (eventHeaderLen+len(frame)+7)/8*8
	fit := uint64(1<<20) / uint64(record)
	if c.NameEvents != fit || c.NameEvents+c.NameEventsLost != packets || c.NameEventsRateLimited != 0 {
		t.Errorf("counters %+v, want %d events and %d lost", c, fit, packets-fit)
	}
	r := eventReader(t, o)
	if evs := drain(t, r); uint64(len(evs)) != c.NameEvents {
		t.Errorf("read %d events, counted %d", len(evs), c.NameEvents)
	}
}

func TestReadAfterCloseIsErrClosed(t *testing.T) {
	o := loadWith(t, Options{})
	r := eventReader(t, o)
	r.Close()
	var e Event
	if err := r.Read(&e); !errors.Is(err, os.ErrClosed) {
		t.Errorf("read after close: %v, want os.ErrClosed", err)
	}
}

func TestDecodeEventRejectsShortRecords(t *testing.T) {
	var e Event
	for _, rec := range [][]byte{nil, make([]byte, eventHeaderLen-1), append(make([]byte, eventHeaderLen), 1)} {
		if len(rec) > 18 {
			binary.NativeEndian.PutUint16(rec[18:], 2) // cap_len 2 with one byte of data
		}
		if err := decodeEvent(rec, &e); !errors.Is(err, ErrShortEvent) {
			t.Errorf("%d-byte record: %v, want ErrShortEvent", len(rec), err)
		}
	}
	rec := append(make([]byte, eventHeaderLen), "frame"...)
	binary.NativeEndian.PutUint16(rec[18:], 5)
	if err := decodeEvent(rec, &e); err != nil || string(e.Data) != "frame" {
		t.Errorf("decode: %v, data %q", err, e.Data)
	}
}
