package scenario

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// checkFrame asserts what holds for every record: the frame is cut to the
// snaplen, the IPv4 total length is the true length, time never goes back.
func checkFrame(r record, snaplen int, prevTS *int64, start, end time.Time) error {
	if want := min(r.wireLen, snaplen); len(r.data) != want {
		return fmt.Errorf("captured %d bytes of a %d-byte frame, want %d", len(r.data), r.wireLen, want)
	}
	if total := int(binary.BigEndian.Uint16(r.data[16:])); ethLen+total != r.wireLen {
		return fmt.Errorf("IPv4 total length %d, frame %d", total, r.wireLen)
	}
	if r.wireLen > ethLen+1500 {
		return fmt.Errorf("frame of %d bytes exceeds a 1500-byte MTU", r.wireLen)
	}
	if r.ts < *prevTS {
		return fmt.Errorf("timestamp %d before %d", r.ts, *prevTS)
	}
	if r.ts < start.UnixNano() || r.ts >= end.UnixNano() {
		return fmt.Errorf("timestamp %s outside the capture", time.Unix(0, r.ts).UTC())
	}
	*prevTS = r.ts
	return nil
}

// TestDemoIncident replays the demo capture and finds the upload exactly
// as Truth describes it, named by DNS and SNI, to a remote never seen before.
func TestDemoIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 1.4 M packets")
	}
	cfg := DemoConfig()
	inc := cfg.Incidents[0]
	var (
		prev                           int64
		outPkts, outIP, outPay, inPkts uint64
		named, sni, sawSYN             bool
		first, firstBackgroundToRemote int64
		decodeErrs                     int
	)
	opts := gopacket.DecodeOptions{NoCopy: true}
	truth := generateStream(t, cfg, func(r record) error {
		if err := checkFrame(r, cfg.Snaplen, &prev, cfg.Start, cfg.Start.Add(96*time.Hour)); err != nil {
			return err
		}
		pkt := gopacket.NewPacket(r.data, layers.LayerTypeEthernet, opts)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if ip == nil {
			decodeErrs++
			return nil
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
		if dns, ok := pkt.Layer(layers.LayerTypeDNS).(*layers.DNS); ok && dns.QR && dst == inc.Host {
			for _, a := range dns.Answers {
				if string(a.Name) == inc.RemoteName && a.IP.Equal(inc.Remote.AsSlice()) && !sawSYN {
					named = true
				}
			}
		}
		if src != inc.Host && dst != inc.Host && (src == inc.Remote || dst == inc.Remote) && firstBackgroundToRemote == 0 {
			firstBackgroundToRemote = r.ts
		}
		if src == inc.Host && dst == inc.Remote {
			if first == 0 {
				first = r.ts
			}
			tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if !ok {
				return fmt.Errorf("non-TCP packet from host to remote")
			}
			sawSYN = sawSYN || tcp.SYN
			payload := uint64(ip.Length) - uint64(ip.IHL)*4 - uint64(tcp.DataOffset)*4
			if payload > 0 && outPay == 0 {
				sni = bytes.Contains(r.data, []byte(inc.RemoteName))
			}
			outPkts++
			outIP += uint64(ip.Length)
			outPay += payload
		}
		if src == inc.Remote && dst == inc.Host {
			inPkts++
		}
		return nil
	})
	if decodeErrs > 0 {
		t.Errorf("%d frames without an IPv4 layer", decodeErrs)
	}
	if len(truth.Incidents) != 1 {
		t.Fatalf("truth has %d incidents", len(truth.Incidents))
	}
	it := truth.Incidents[0]
	t.Logf("demo: %d packets, %d wire bytes; incident %d packets out (%d IP bytes), %d in, %s–%s",
		truth.Packets, truth.WireBytes, it.OutPackets, it.OutIPBytes, it.InPackets, it.First.Format(time.TimeOnly), it.Last.Format(time.TimeOnly))
	if outPay != inc.Bytes || it.OutPayload != inc.Bytes {
		t.Errorf("payload host→remote: decoded %d, truth %d, want %d", outPay, it.OutPayload, inc.Bytes)
	}
	if outIP != it.OutIPBytes || outPkts != it.OutPackets || inPkts != it.InPackets {
		t.Errorf("decoded %d packets / %d IP bytes out, %d in; truth %d / %d, %d", outPkts, outIP, inPkts, it.OutPackets, it.OutIPBytes, it.InPackets)
	}
	if want := inc.Bytes + 40*it.OutPackets + synOptsLen; it.OutIPBytes != want {
		t.Errorf("OutIPBytes %d, want Bytes + 40×packets + 12 = %d", it.OutIPBytes, want)
	}
	if first != it.First.UnixNano() || it.First.Before(inc.At) || it.Last.Sub(it.First) < inc.Duration {
		t.Errorf("incident runs %s–%s, want from %s for at least %s", it.First, it.Last, inc.At, inc.Duration)
	}
	if !named || !sni {
		t.Errorf("remote named by DNS before the SYN: %v; SNI in the first payload: %v", named, sni)
	}
	if firstBackgroundToRemote != 0 {
		t.Errorf("another host talked to the remote at %s", time.Unix(0, firstBackgroundToRemote).UTC())
	}
}

// TestBenchConfig reports the benchmark capture's size, which must stay
// near 3.4 M packets so that comparisons over time stay comparable, and
// checks every frame: cut to 128 bytes, true lengths, DNS answers whole.
func TestBenchConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 3.4 M packets")
	}
	cfg := BenchConfig()
	var prev int64
	var dnsAnswers int
	truth := generateStream(t, cfg, func(r record) error {
		if err := checkFrame(r, cfg.Snaplen, &prev, cfg.Start, cfg.Start.Add(8*24*time.Hour)); err != nil {
			return err
		}
		if r.data[23] == protoUDP && binary.BigEndian.Uint16(r.data[34:]) == 53 {
			dnsAnswers++
			if len(r.data) != r.wireLen {
				return fmt.Errorf("DNS answer of %d bytes cut to %d", r.wireLen, len(r.data))
			}
		}
		return nil
	})
	t.Logf("bench: %d packets, %d wire bytes, %d DNS answers", truth.Packets, truth.WireBytes, dnsAnswers)
	if truth.Packets < 3_300_000 || truth.Packets > 3_500_000 {
		t.Errorf("bench capture has %d packets, want 3.4 M ± 0.1 M", truth.Packets)
	}
}

// TestChecksums decodes a whole-frame capture and verifies every IPv4,
// TCP and UDP checksum, and that each frame decodes without error.
func TestChecksums(t *testing.T) {
	cfg := smallConfig()
	cfg.Snaplen = 65535
	cfg.Incidents[0].Bytes = 64 << 10
	var prev int64
	n := 0
	generateStream(t, cfg, func(r record) error {
		if err := checkFrame(r, cfg.Snaplen, &prev, cfg.Start, cfg.Start.Add(48*time.Hour)); err != nil {
			return err
		}
		pkt := gopacket.NewPacket(r.data, layers.LayerTypeEthernet, gopacket.Default)
		if el := pkt.ErrorLayer(); el != nil {
			return fmt.Errorf("packet %d: %v", n, el.Error())
		}
		ip := r.data[ethLen:]
		if c := fold(sum(ip[:ipv4Len], 0)); c != 0xffff {
			return fmt.Errorf("packet %d: IPv4 checksum folds to %#x", n, c)
		}
		l4 := ip[ipv4Len:]
		if c := fold(sum(l4, sum(ip[12:20], uint32(ip[9])+uint32(len(l4))))); c != 0xffff {
			return fmt.Errorf("packet %d (proto %d): checksum folds to %#x", n, ip[9], c)
		}
		n++
		return nil
	})
	if n == 0 {
		t.Fatal("no packets")
	}
}
