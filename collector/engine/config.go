package engine

import (
	"errors"
	"fmt"
	"github.com/outflowhq/outflow/collector/allow"
	"net/netip"
	"time"
)

// Config tunes the engine (YAML section collector.detect). DefaultConfig
// gives the values below; the zero Config is not valid.
type Config struct {
	// Window is the length of the tumbling per-host windows, aligned to the
	// Unix epoch. Default 1h: hourly volumes are what people reason about
	// ("31 MB per hour") and 168 of them make a week.
	Window time.Duration `yaml:"window"`
	// AllowedLateness is how far the watermark trails the slowest active
	// sensor's clock. Default 30s: sensors export every few seconds, so a
	// record older than this is rare and is counted as late.
	AllowedLateness time.Duration `yaml:"allowed_lateness"`
	// SensorIdle drops a sensor from the watermark once its clock is this
	// far behind the newest sensor clock (event time), so a stopped sensor
	// cannot hold every window open. Default 5m.
	SensorIdle time.Duration `yaml:"sensor_idle"`
	// GroupWait holds a host's first evidence this long (event time) so
	// other detectors' evidence joins the same alert; while the host keeps
	// sending to a remote named in the evidence, the wait restarts from its
	// latest record. Default 30s.
	GroupWait time.Duration `yaml:"group_wait"`
	// GroupMax caps that wait: an alert leaves at most this long (event
	// time) after its first evidence, however long the transfer goes on.
	// Default 1m: the analyst hears of it within a minute; evidence that
	// comes later (the volume limit a long upload crosses after its
	// new_destination) updates the same alert (incident.go).
	GroupMax time.Duration `yaml:"group_max"`
	// RepeatInterval: an open incident whose new evidence adds nothing
	// new is re-notified (a reminder) only this long after the last alert
	// about it. Default 4h. ResolveAfter: an incident with neither
	// evidence nor traffic to its remotes for this long is resolved.
	// Default 30m.
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	ResolveAfter   time.Duration `yaml:"resolve_after"`

	// BaselineWindows is how many past windows (silent ones included) a
	// host's baseline keeps. Default 672: four weeks of hours, so each
	// hour of the week is compared with the same hour of up to four past
	// weeks (2,688 B per host).
	BaselineWindows int `yaml:"baseline_windows"`
	// LearningWindows is how many windows of history a host needs before
	// the volume detector compares with its baseline, and (times Window)
	// how old its history must be before new_destination fires. Default 48:
	// two days, so a host's daily jobs are seen twice before it is judged.
	LearningWindows int `yaml:"learning_windows"`
	// Backstop is the only volume limit while a host is learning: bytes out
	// in one window. Default 1 GiB: no workstation sends that by accident.
	Backstop uint64 `yaml:"backstop"`

	// VolumeK is how many robust standard deviations (MAD×1.4826, in log
	// bytes) above the median a window must be. Default 4.
	VolumeK float64 `yaml:"volume_k"`
	// VolumeMinBytes is the least a window must hold for the volume
	// detector to fire, so tiny hosts do not alert on noise. Default 50 MB.
	VolumeMinBytes uint64 `yaml:"volume_min_bytes"`

	// NewDestMinBytes is what a host must send to a destination it never
	// sent to before. Default 10 MB: ~20 office documents.
	NewDestMinBytes uint64 `yaml:"new_dest_min_bytes"`
	// NewDestFor is how long a destination stays new after the host first
	// sent to it; bytes sent to it in that time are summed. Default 1h.
	NewDestFor time.Duration `yaml:"new_dest_for"`
	// MaxPrevalence is the most internal hosts (this one included) that may
	// have sent to a destination for it to count as rare. An absolute count
	// rather than a fraction: it means the same thing in a 50-host office and
	// a 50,000-host campus, and "nobody else uses it" is what analysts ask.
	// Default 2.
	MaxPrevalence int `yaml:"max_prevalence"`

	// InboundMinBytes is what a host must send in one window to one
	// external client over connections the client opened for
	// inbound_pull. Default 50 MB.
	InboundMinBytes uint64 `yaml:"inbound_min_bytes"`
	// InboundServerWindows: a host that has done that in this many past
	// windows serves the outside on purpose; inbound_pull stays quiet for
	// it. Default 3.
	InboundServerWindows int `yaml:"inbound_server_windows"`

	// LongLivedAge is how old a TCP connection must be for long_lived,
	// and LongLivedMinBytes what the host must send over such connections
	// to one remote rare in the fleet in one window. Defaults 1h, 20 MB.
	LongLivedAge      time.Duration `yaml:"long_lived_age"`
	LongLivedMinBytes uint64        `yaml:"long_lived_min_bytes"`

	// P2PMinPeers, P2PMinInbound and P2PMinBytes: in one window, a host
	// that talks to this many external peers with both ports ≥ 1024, of
	// which this many connected in, and sends them more than it receives
	// and at least this much, shares files. Defaults 12, 2, 5 MB.
	P2PMinPeers   int    `yaml:"p2p_min_peers"`
	P2PMinInbound int    `yaml:"p2p_min_inbound"`
	P2PMinBytes   uint64 `yaml:"p2p_min_bytes"`

	// BeaconMinConnections, BeaconJitter and BeaconSizeJitter: at least
	// this many connections to one rare remote, whose intervals' MAD is at
	// most BeaconJitter × their median (≥ 1 s) and whose sizes' MAD is at
	// most BeaconSizeJitter × their median, are beaconing. Defaults 12,
	// 0.1, 0.2. BeaconUploadBytes sent to a beaconing remote in one window
	// escalate it. Default 1 MB.
	BeaconMinConnections int     `yaml:"beacon_min_connections"`
	BeaconJitter         float64 `yaml:"beacon_jitter"`
	BeaconSizeJitter     float64 `yaml:"beacon_size_jitter"`
	BeaconUploadBytes    uint64  `yaml:"beacon_upload_bytes"`
	// BeaconMaxBytes: connections whose median first delta is larger are
	// periodic transfers (backups, sync), not check-ins. Default 64 KB.
	BeaconMaxBytes uint64 `yaml:"beacon_max_bytes"`

	// LowSlowHalfLife, LowSlowMinBytes and LowSlowK: net bytes to one
	// remote rare in the fleet, decayed with this half-life, that reach
	// at least LowSlowMinBytes and LowSlowK times the median of the host's
	// daily maxima of such sums over the last 14 days are low_and_slow.
	// Defaults 24h, 50 MB, 4.
	LowSlowHalfLife time.Duration `yaml:"low_slow_half_life"`
	LowSlowMinBytes uint64        `yaml:"low_slow_min_bytes"`
	LowSlowK        float64       `yaml:"low_slow_k"`
	// LowSlowNewFor: only a remote first seen this recently (and after
	// the host's learning period) can be a drip. Default 7 days.
	LowSlowNewFor time.Duration `yaml:"low_slow_new_for"`
	// LowSlowMinSpan: a drip has gone on at least this long since the
	// remote was first seen. Default 4h.
	LowSlowMinSpan time.Duration `yaml:"low_slow_min_span"`

	// DNSMinUnique and DNSMinBytes: a host that asks at least this many
	// unique subdomains of one registered domain (or, for names under no
	// domain, of one DNS server), in query names adding up to at least
	// this many bytes, in one window, tunnels data through DNS — unless
	// more than MaxPrevalence internal hosts ask for that domain. Defaults
	// 100 and 10 kB: dnscat sends 150 unique names (23 kB) in its first
	// minute; a legitimate host rarely asks 100 names of a domain nobody
	// else uses in an hour, and 10 kB keeps short random labels (a service
	// sharding by 4-character ids) out.
	DNSMinUnique int    `yaml:"dns_min_unique"`
	DNSMinBytes  uint64 `yaml:"dns_min_bytes"`
	// DNSMaxTracks bounds the (host, rare domain) pairs counted in one
	// window (about 100 B each, up to 4 B more per unique subdomain); when
	// full, those far from DNSMinUnique are dropped (counted). DNSMaxDomains
	// bounds the fleet table of who asks each domain (oldest-added
	// evicted, counted). Defaults 262,144 each.
	DNSMaxTracks  int `yaml:"dns_max_tracks"`
	DNSMaxDomains int `yaml:"dns_max_domains"`

	// Allow holds allowlists (remotes by CIDR or domain suffix, for some
	// or all hosts and detectors) and maintenance windows: evidence they
	// cover is counted, not raised. See collector/allow.
	Allow allow.Config `yaml:"allow"`

	// PeerGroups are CIDRs whose hosts form one peer group: a host too
	// young for its own baseline is compared with its group's grown-up
	// hosts. A host in none is grouped with its /24 (IPv4) or /64 (IPv6).
	PeerGroups []string `yaml:"peer_groups"`

	// MaxHosts bounds the hosts tracked; the least recently active are
	// evicted (counted). Default 100,000.
	MaxHosts int `yaml:"max_hosts"`
	// MaxRemotesPerHost bounds each host's destination history and the
	// remotes tracked in one window; least recently used are evicted
	// (counted). Default 4096.
	MaxRemotesPerHost int `yaml:"max_remotes_per_host"`
	// MaxFleetRemotes bounds the fleet prevalence table; least recently
	// added are evicted (counted). Default 1,048,576 (~60 MB).
	MaxFleetRemotes int `yaml:"max_fleet_remotes"`
	// MaxHostSeries bounds the hosts with per-host metric series (upload,
	// last window against its band; hostmetrics.go): hosts with an open
	// incident first, then the biggest uploaders. 0: none. Default 500.
	MaxHostSeries int `yaml:"max_host_series"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Window:               time.Hour,
		AllowedLateness:      30 * time.Second,
		SensorIdle:           5 * time.Minute,
		GroupWait:            30 * time.Second,
		GroupMax:             time.Minute,
		RepeatInterval:       4 * time.Hour,
		ResolveAfter:         30 * time.Minute,
		BaselineWindows:      672,
		LearningWindows:      48,
		Backstop:             1 << 30,
		VolumeK:              4,
		VolumeMinBytes:       50_000_000,
		NewDestMinBytes:      10_000_000,
		NewDestFor:           time.Hour,
		MaxPrevalence:        2,
		InboundMinBytes:      50_000_000,
		InboundServerWindows: 3,
		LongLivedAge:         time.Hour,
		LongLivedMinBytes:    20_000_000,
		P2PMinPeers:          12,
		P2PMinInbound:        2,
		P2PMinBytes:          5_000_000,
		BeaconMinConnections: 12,
		BeaconJitter:         0.1,
		BeaconSizeJitter:     0.2,
		BeaconUploadBytes:    1_000_000,
		BeaconMaxBytes:       65536,
		LowSlowHalfLife:      24 * time.Hour,
		LowSlowMinBytes:      50_000_000,
		LowSlowK:             4,
		LowSlowNewFor:        7 * 24 * time.Hour,
		LowSlowMinSpan:       4 * time.Hour,
		DNSMinUnique:         100,
		DNSMinBytes:          10_000,
		DNSMaxTracks:         1 << 18,
		DNSMaxDomains:        1 << 18,
		MaxHosts:             100_000,
		MaxRemotesPerHost:    4096,
		MaxFleetRemotes:      1 << 20,
		MaxHostSeries:        500,
	}
}

// Validate checks every field; errors name the YAML key.
func (c *Config) Validate() error {
	var errs []error
	check := func(ok bool, field, why string) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s", field, why))
		}
	}
	check(c.Window >= time.Second && (24*time.Hour)%c.Window == 0, "window", "must be at least 1s and divide 24h")
	check(c.AllowedLateness >= 0, "allowed_lateness", "must not be negative")
	check(c.SensorIdle > 0, "sensor_idle", "must be positive")
	check(c.GroupWait >= 0, "group_wait", "must not be negative")
	check(c.GroupMax >= c.GroupWait, "group_max", "must be at least group_wait")
	check(c.RepeatInterval > 0, "repeat_interval", "must be positive")
	check(c.ResolveAfter > 0, "resolve_after", "must be positive")
	check(c.BaselineWindows >= 1 && c.BaselineWindows <= 65535, "baseline_windows", "must be in 1..65535")
	check(c.LearningWindows >= 1, "learning_windows", "must be at least 1")
	check(c.LearningWindows <= c.BaselineWindows, "learning_windows", "must not exceed baseline_windows")
	check(c.Backstop > 0, "backstop", "must be positive")
	check(c.VolumeK > 0, "volume_k", "must be positive")
	check(c.NewDestFor > 0, "new_dest_for", "must be positive")
	check(c.MaxPrevalence >= 1, "max_prevalence", "must be at least 1")
	check(c.InboundMinBytes > 0, "inbound_min_bytes", "must be positive")
	check(c.InboundServerWindows >= 1, "inbound_server_windows", "must be at least 1")
	check(c.LongLivedAge > 0, "long_lived_age", "must be positive")
	check(c.LongLivedMinBytes > 0, "long_lived_min_bytes", "must be positive")
	check(c.P2PMinPeers >= 2, "p2p_min_peers", "must be at least 2")
	check(c.P2PMinInbound >= 0, "p2p_min_inbound", "must not be negative")
	check(c.P2PMinBytes > 0, "p2p_min_bytes", "must be positive")
	check(c.BeaconMinConnections >= 3 && c.BeaconMinConnections <= beaconSamples, "beacon_min_connections", fmt.Sprintf("must be in 3..%d", beaconSamples))
	check(c.BeaconJitter > 0, "beacon_jitter", "must be positive")
	check(c.BeaconSizeJitter > 0, "beacon_size_jitter", "must be positive")
	check(c.BeaconUploadBytes > 0, "beacon_upload_bytes", "must be positive")
	check(c.BeaconMaxBytes > 0, "beacon_max_bytes", "must be positive")
	check(c.LowSlowHalfLife >= time.Minute, "low_slow_half_life", "must be at least 1m")
	check(c.LowSlowMinBytes > 0, "low_slow_min_bytes", "must be positive")
	check(c.LowSlowK > 0, "low_slow_k", "must be positive")
	check(c.LowSlowNewFor > 0, "low_slow_new_for", "must be positive")
	check(c.LowSlowMinSpan >= 0 && c.LowSlowMinSpan < c.LowSlowNewFor, "low_slow_min_span", "must be at least 0 and less than low_slow_new_for")
	check(c.DNSMinUnique >= 2 && c.DNSMinUnique <= 65535, "dns_min_unique", "must be in 2..65535")
	check(c.DNSMinBytes > 0, "dns_min_bytes", "must be positive")
	check(c.DNSMaxTracks >= 64, "dns_max_tracks", "must be at least 64")
	check(c.DNSMaxDomains >= 64, "dns_max_domains", "must be at least 64")
	check(c.MaxHosts >= 1, "max_hosts", "must be at least 1")
	check(c.MaxRemotesPerHost >= 1, "max_remotes_per_host", "must be at least 1")
	check(c.MaxFleetRemotes >= 1, "max_fleet_remotes", "must be at least 1")
	check(c.MaxHostSeries >= 0, "max_host_series", "must not be negative")
	if _, err := allow.New(c.Allow, DetectorNames()); err != nil {
		errs = append(errs, err)
	}
	for i, g := range c.PeerGroups {
		_, err := netip.ParsePrefix(g)
		check(err == nil, fmt.Sprintf("peer_groups[%d]", i), fmt.Sprintf("not a CIDR: %q", g))
	}
	return errors.Join(errs...)
}
