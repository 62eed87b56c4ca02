package scenario

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Incident kinds. Each is a packet-level pattern of one way data leaves a
// network; Detectors names the detector that should catch it.
const (
	// KindUpload is one TCP/443 session (DNS lookup, handshake, ClientHello
	// with SNI) in which Host sends Bytes of TCP payload to Remote over
	// Duration.
	KindUpload = "upload"
	// KindDocuments is Count documents (default 20) of Bytes in total
	// (default 30 MB) posted to Remote, a server new for the host and that
	// no other host uses, one HTTPS connection each, spread over Duration
	// (default 10 min).
	KindDocuments = "documents"
	// KindLowAndSlow is Count small HTTPS uploads (default 300) to one
	// Remote adding up to Bytes (default 150 MB), at random times over
	// Duration (default 48 h): no hour stands out, the total does.
	KindLowAndSlow = "low_and_slow"
	// KindP2P is Winny/BitTorrent-like file sharing for Duration (default
	// 2 h): Count distinct external peers (default 80) on high ports, half
	// connecting in to the host's listening port and half connected to by
	// it; the host uploads Bytes (default 200 MB) and downloads a quarter of
	// that. Peers come from 198.19.0.0/16; Remote stays zero.
	KindP2P = "p2p"
	// KindInboundPull is an external client (Remote) connecting in to the
	// host's SSH port and downloading Bytes (default 300 MB) from it over
	// Duration (default 20 min).
	KindInboundPull = "inbound_pull"
	// KindBeaconUpload is malware phoning home: a small HTTPS connection to
	// Remote every Interval (default 5 min, ±2 %) of nearly the same size,
	// for Duration (default 24 h; Count is the number of beacons), then,
	// one Interval after the last, an upload of Bytes (default 60 MB) to the
	// same Remote over 10 minutes.
	KindBeaconUpload = "beacon_upload"
	// KindDNSTunnel is Bytes (default 1 MB) carried in DNS TXT queries to
	// the internal resolver over Duration (default 2 h): each query name is
	// 56 base32 characters of data (35 bytes), an 8-hex-digit sequence
	// label, then RemoteName, the tunnel's registered domain; every name is
	// unique. Remote is the resolver; Count is the number of queries.
	KindDNSTunnel = "dns_tunnel"
	// KindLongLived is one TCP/443 connection to Remote held open for
	// Duration (default 6 h), the host sending Bytes (default 200 MB) in
	// bursts every 5–60 s and the server answering with a few bytes.
	KindLongLived = "long_lived"
)

// Kinds lists every incident kind, in a fixed order.
func Kinds() []string {
	return []string{KindUpload, KindDocuments, KindLowAndSlow, KindP2P, KindInboundPull, KindBeaconUpload, KindDNSTunnel, KindLongLived}
}

// kindSpec is what a kind defaults to and who should catch it.
type kindSpec struct {
	bytes     uint64 // 0: required
	duration  time.Duration
	count     int // 0: the kind has no count
	name      string
	remote    bool // has one external remote
	detectors []string
}

var kinds = map[string]kindSpec{
	KindUpload:       {0, 15 * time.Minute, 0, "drop%d.filebox.example", true, []string{"volume", "new_destination"}},
	KindDocuments:    {30_000_000, 10 * time.Minute, 20, "share%d.docdrop.example", true, []string{"new_destination"}},
	KindLowAndSlow:   {150_000_000, 48 * time.Hour, 300, "api%d.notesync.example", true, []string{"low_and_slow"}},
	KindP2P:          {200_000_000, 2 * time.Hour, 80, "", false, []string{"p2p"}},
	KindInboundPull:  {300_000_000, 20 * time.Minute, 0, "", true, []string{"inbound_pull"}},
	KindBeaconUpload: {60_000_000, 24 * time.Hour, 0, "upd%d.cdn-check.example", true, []string{"beaconing"}},
	KindDNSTunnel:    {1_000_000, 2 * time.Hour, 0, "metrics%d.example", false, []string{"dns_tunnel"}},
	KindLongLived:    {200_000_000, 6 * time.Hour, 0, "relay%d.tunnelgate.example", true, []string{"long_lived"}},
}

// Detectors returns the names of the detectors expected to catch an
// incident of kind (any one of them is enough), nil for an unknown kind.
func Detectors(kind string) []string { return slices.Clone(kinds[kind].detectors) }

// Incident is one labelled event to inject. Zero optional fields take
// defaults (see each kind), filled in the copy returned in Truth.
type Incident struct {
	Kind       string
	Host       netip.Addr // one of the generated hosts
	Remote     netip.Addr // zero: a fresh address in 203.0.113.0/24, which background never uses
	RemoteName string     // zero: a name per kind, e.g. "drop<N>.filebox.example"
	At         time.Time  // first packet (the DNS query, when there is one)
	Bytes      uint64     // what the host sends (see the kind)
	Duration   time.Duration
	Count      int           // documents, uploads, peers, beacons, queries (see the kind)
	Interval   time.Duration // beacon_upload: time between beacons
}

// beaconUploadFor is how long the upload after the beacons lasts.
const beaconUploadFor = 10 * time.Minute

// dnsChunk is the data one tunnel query carries.
const dnsChunk = 35

func (inc Incident) withDefaults(i, hosts int) (Incident, error) {
	spec, ok := kinds[inc.Kind]
	if !ok {
		return inc, fmt.Errorf("unknown kind %q", inc.Kind)
	}
	if !isHost(inc.Host, hosts) {
		return inc, fmt.Errorf("host %s is not one of the %d generated hosts", inc.Host, hosts)
	}
	switch {
	case inc.Kind == KindDNSTunnel:
		inc.Remote = ResolverAddr()
	case !spec.remote:
		if inc.Remote.IsValid() {
			return inc, fmt.Errorf("remote %s: this kind has many remotes, leave it zero", inc.Remote)
		}
	case !inc.Remote.IsValid():
		inc.Remote = netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + i%240)})
	}
	if inc.Remote.IsValid() && !inc.Remote.Is4() {
		return inc, fmt.Errorf("remote %s: only IPv4 is generated", inc.Remote)
	}
	if inc.RemoteName == "" && spec.name != "" {
		inc.RemoteName = fmt.Sprintf(spec.name, i)
	}
	if len(inc.RemoteName) > 200 || inc.Kind == KindDNSTunnel && len(inc.RemoteName) > 60 {
		return inc, fmt.Errorf("remote name %q too long", inc.RemoteName)
	}
	if inc.Bytes == 0 {
		inc.Bytes = spec.bytes
	}
	if inc.Bytes < 4096 || inc.Bytes > 1<<40 {
		return inc, fmt.Errorf("bytes %d: want 4 KiB..1 TiB", inc.Bytes)
	}
	if inc.Duration == 0 {
		inc.Duration = spec.duration
	}
	if inc.Duration < time.Second {
		return inc, fmt.Errorf("duration %s: want at least 1s", inc.Duration)
	}
	switch inc.Kind {
	case KindDocuments, KindLowAndSlow, KindP2P:
		if inc.Count == 0 {
			inc.Count = spec.count
		}
		if inc.Count < 1 || inc.Count > 20000 || inc.Kind == KindP2P && inc.Count < 2 {
			return inc, fmt.Errorf("count %d: want 1..20000 (p2p: at least 2)", inc.Count)
		}
		if inc.Bytes < uint64(inc.Count)*1024 {
			return inc, fmt.Errorf("bytes %d: want at least 1 KiB per count (%d)", inc.Bytes, inc.Count)
		}
	case KindBeaconUpload:
		if inc.Interval == 0 {
			inc.Interval = 5 * time.Minute
		}
		if inc.Interval < 10*time.Second {
			return inc, fmt.Errorf("interval %s: want at least 10s", inc.Interval)
		}
		inc.Count = int(inc.Duration / inc.Interval)
		if inc.Count < 3 {
			return inc, fmt.Errorf("duration %s holds %d beacons of interval %s: want at least 3", inc.Duration, inc.Count, inc.Interval)
		}
	case KindDNSTunnel:
		inc.Count = int((inc.Bytes + dnsChunk - 1) / dnsChunk)
		if inc.Count > 1_000_000 {
			return inc, fmt.Errorf("bytes %d: a tunnel carries at most 35 MB", inc.Bytes)
		}
	}
	inc.At = inc.At.UTC()
	return inc, nil
}

// span is how long after At the incident's last packet may come.
func (inc Incident) span() time.Duration {
	switch inc.Kind {
	case KindBeaconUpload:
		return inc.Duration + inc.Interval + beaconUploadFor + time.Minute
	case KindDNSTunnel, KindP2P, KindLowAndSlow, KindDocuments, KindLongLived:
		return inc.Duration + inc.Duration/10 + 5*time.Minute
	case KindInboundPull:
		return inc.Duration + time.Minute
	}
	return inc.Duration
}
