package scenario

import (
	"bufio"
	"fmt"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"io"
	"net/netip"
	"time"
)

// Truth is what a capture contains, for tests and evaluation.
type Truth struct {
	Start, End time.Time    // the capture covers [Start, End)
	Hosts      []netip.Addr // the workstations, HostAddr(0..Hosts-1)
	Resolver   netip.Addr
	Packets    uint64 // frames written
	WireBytes  uint64 // sum of frame lengths on the wire (before snaplen)
	Incidents  []IncidentTruth
	// Benign lists the hosts of each benign heavy uploader role ("backup",
	// "sync", "call", "video_upload"); nil when Config.Benign is zero.
	Benign map[string][]netip.Addr `json:",omitempty"`
}

// IncidentTruth is an injected incident, defaults filled in, and what the
// packets of its pattern between Host and its remote(s) add up to (DNS
// lookups of the remote's name are not counted; for dns_tunnel the queries
// are the pattern). For KindUpload, OutPayload == Bytes and
// OutIPBytes == Bytes + 40×OutPackets + 12: IPv4 and TCP headers without
// options, plus the options of the one SYN.
type IncidentTruth struct {
	Incident
	Detectors   []string  // detectors expected to catch it (any one): Detectors(Kind)
	Start, End  time.Time // first and last packet of the incident, lookups included
	Packets     uint64    // every packet of the incident, lookups included
	First, Last time.Time // first and last packet of the pattern
	OutPackets  uint64    // Host → remote(s)
	OutIPBytes  uint64    // sum of IPv4 total lengths, Host → remote(s)
	OutPayload  uint64    // TCP/UDP payload bytes, Host → remote(s)
	InPackets   uint64
	InIPBytes   uint64
	InPayload   uint64
	// OutMB[k] is when OutIPBytes reached (k+1)×10⁶ bytes, for the first
	// 1000 MB: when a byte threshold (say new_destination's 10 MB) was
	// crossed.
	OutMB []time.Time `json:",omitempty"`
}

// maxOutMB bounds IncidentTruth.OutMB.
const maxOutMB = 1000

// Generate writes the capture cfg describes to w as a pcap file (Ethernet,
// nanosecond timestamps, in time order) and returns its ground truth.
func Generate(cfg Config, w io.Writer) (Truth, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Truth{}, err
	}
	start := cfg.Start.UnixNano()
	end := cfg.Start.Add(time.Duration(cfg.Days) * 24 * time.Hour).UnixNano()
	truth := Truth{Start: cfg.Start, End: time.Unix(0, end).UTC(), Resolver: ResolverAddr()}
	for i := range cfg.Hosts {
		truth.Hosts = append(truth.Hosts, HostAddr(i))
	}
	world := newWorld(cfg)

	bw := bufio.NewWriterSize(w, 1<<20)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(uint32(cfg.Snaplen), layers.LinkTypeEthernet); err != nil {
		return truth, fmt.Errorf("scenario: write pcap header: %w", err)
	}

	var q queue
	defer q.stopAll()
	for i, inc := range cfg.Incidents {
		truth.Incidents = append(truth.Incidents, IncidentTruth{Incident: inc, Detectors: Detectors(inc.Kind)})
		for _, p := range world.incident(inc, i, cfg.Seed) {
			q.add(p.t, p.run)
		}
	}
	truth.Benign = world.benignTruth()

	f := framer{snaplen: cfg.Snaplen}
	next, hour := start, uint64(0)
	for {
		for next < end && (q.len() == 0 || q.min().t >= next) {
			for _, p := range world.planHour(cfg, next, hour) {
				q.add(p.t, p.run)
			}
			for _, p := range world.planBenign(cfg, next, hour) {
				q.add(p.t, p.run)
			}
			next += int64(time.Hour)
			hour++
		}
		if q.len() == 0 {
			break
		}
		s := q.min()
		if s.t >= end {
			break
		}
		if s.pkt == nil { // not started yet
			q.advance()
			continue
		}
		p := s.pkt
		data, wireLen := f.frame(p)
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, p.ts), CaptureLength: len(data), Length: wireLen}
		if err := pw.WritePacket(ci, data); err != nil {
			return truth, fmt.Errorf("scenario: write packet %d: %w", truth.Packets, err)
		}
		truth.Packets++
		truth.WireBytes += uint64(wireLen)
		if p.incident >= 0 {
			account(&truth.Incidents[p.incident], p)
		}
		q.advance()
	}
	if err := bw.Flush(); err != nil {
		return truth, fmt.Errorf("scenario: write pcap: %w", err)
	}
	return truth, nil
}

func account(it *IncidentTruth, p *packet) {
	ts := time.Unix(0, p.ts).UTC()
	if it.Start.IsZero() {
		it.Start = ts
	}
	it.End = ts
	it.Packets++
	if !p.countable {
		return
	}
	if it.First.IsZero() {
		it.First = ts
	}
	it.Last = ts
	if p.out {
		it.OutPackets++
		it.OutIPBytes += uint64(p.ipLen())
		it.OutPayload += uint64(p.size)
		for len(it.OutMB) < maxOutMB && it.OutIPBytes >= uint64(len(it.OutMB)+1)*1e6 {
			it.OutMB = append(it.OutMB, ts)
		}
	} else {
		it.InPackets++
		it.InIPBytes += uint64(p.ipLen())
		it.InPayload += uint64(p.size)
	}
}
