package scenario

import (
	"net/netip"
	"time"
)

// EvalConfig is what `outflow eval` (make eval) measures detection on: 60
// hosts for 14 days from Monday 2025-03-03 (840 host-days), snaplen 192
// (DNS names and TLS SNI survive), the benign heavy uploaders on (2
// nightly backups, 20 cloud-sync clients, 4 video callers, 3 video
// uploaders), and one or two incidents of every kind from day 8 (Tuesday
// 2025-03-11), after a week of learning, at night, in office hours and on
// the weekend. Incident hosts have no benign role.
func EvalConfig() Config {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	cfg := Config{
		Hosts:   60,
		Days:    14,
		Start:   start,
		Seed:    14,
		Snaplen: 192,
		Benign:  Benign{Backups: 2, Sync: 20, Calls: 4, VideoUploads: 3},
	}
	hosts := plainHosts(cfg)
	at := func(day int, hour, minute int) time.Time {
		return start.Add(time.Duration(day)*24*time.Hour + time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	cfg.Incidents = []Incident{
		{Kind: KindUpload, Host: hosts[0], At: at(8, 2, 10), Bytes: 800_000_000, Duration: 15 * time.Minute},
		{Kind: KindDocuments, Host: hosts[1], At: at(8, 10, 35)},
		{Kind: KindLowAndSlow, Host: hosts[2], At: at(8, 9, 0)},
		{Kind: KindBeaconUpload, Host: hosts[3], At: at(8, 15, 0)},
		{Kind: KindP2P, Host: hosts[4], At: at(9, 20, 30)},
		{Kind: KindInboundPull, Host: hosts[5], At: at(10, 3, 15)},
		{Kind: KindUpload, Host: hosts[6], At: at(10, 14, 20), Bytes: 300_000_000, Duration: 10 * time.Minute},
		{Kind: KindDNSTunnel, Host: hosts[7], At: at(11, 11, 0)},
		{Kind: KindDocuments, Host: hosts[8], At: at(11, 23, 40), Count: 18, Bytes: 25_000_000},
		{Kind: KindLongLived, Host: hosts[9], At: at(12, 13, 0)},
	}
	return cfg
}

// plainHosts returns the hosts without a benign role, spread over the
// address range (every seventh, wrapping).
func plainHosts(cfg Config) []netip.Addr {
	busy := map[netip.Addr]bool{}
	for _, hs := range BenignRoles(cfg) {
		for _, h := range hs {
			busy[h] = true
		}
	}
	var out []netip.Addr
	for k := range cfg.Hosts {
		if h := HostAddr(k * 7 % cfg.Hosts); !busy[h] {
			out = append(out, h)
		}
	}
	return out
}
