package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// server is one named external endpoint.
type server struct {
	addr [4]byte
	name string
	rtt  int64 // gateway ↔ server, ns
	ttl  uint8 // IP TTL of its packets as they reach the gateway
	quic bool  // also answers QUIC-like UDP/443
}

// host is one workstation and the planner's memory of it.
type host struct {
	addr     [4]byte
	ttl      uint8 // 128 for Windows-like, 64 for others
	rhythm   rhythm
	personal []int // servers only this host (and a few others) visits
	nextPort uint16
	resolved map[int]int64 // server → last DNS lookup, Unix ns
}

// world is the network a capture shows: workstations and the servers they
// talk to. Address plan (see README): hosts 10.20.1.10+, resolver 10.20.0.53,
// popular servers 198.51.100.0/24, NTP 192.0.2.123, the long tail of sites
// 198.18.0.0/15 (benchmarking range), incident remotes 203.0.113.0/24.
type world struct {
	hosts   []host
	servers []server
	popular []int     // indexes of popular servers
	popCum  []float64 // cumulative popularity (Zipf)
	ntp     int
	benign  *benignWorld // nil unless Config.Benign asks for some
}

var (
	popularNames = []string{
		"www", "mail", "login", "cdn", "docs", "drive", "calendar", "chat", "meet", "update",
		"telemetry", "api", "static", "news", "search", "maps", "video", "office", "crm", "wiki",
		"git", "pkg", "weather", "bank", "travel", "shop", "support", "status", "ads", "fonts",
		"images", "sso", "files", "hr", "tickets", "intranet-proxy", "av-update", "time", "music", "social",
	}
	tlds      = []string{"com", "net", "org"}
	tailWords = []string{"blog", "shop", "news", "forum", "media", "travel", "sport", "cook", "tech", "games", "photo", "radio", "books", "local", "city"}
)

func newWorld(cfg Config) *world {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x776f726c64)) // "world"
	w := &world{}
	newServer := func(addr [4]byte, name string, rttLo, rttHi time.Duration) int {
		hops := uint8(5 + rng.IntN(15))
		base := []uint8{64, 128, 255}[rng.IntN(3)]
		w.servers = append(w.servers, server{
			addr: addr, name: name, ttl: base - hops,
			rtt: int64(rttLo) + rng.Int64N(int64(rttHi-rttLo)),
		})
		return len(w.servers) - 1
	}
	var cum float64
	for i, n := range popularNames {
		s := newServer([4]byte{198, 51, 100, byte(10 + i)}, n+".example."+tlds[i%3], 3*time.Millisecond, 40*time.Millisecond)
		w.servers[s].quic = i%3 == 0
		w.popular = append(w.popular, s)
		cum += 1 / float64(i+1)
		w.popCum = append(w.popCum, cum)
	}
	w.ntp = newServer([4]byte{192, 0, 2, 123}, "ntp.example.net", 5*time.Millisecond, 30*time.Millisecond)

	tail := max(64, 6*cfg.Hosts)
	first := len(w.servers)
	for i := range tail {
		name := fmt.Sprintf("%s%d.example.%s", tailWords[i%len(tailWords)], i/len(tailWords), tlds[(i/7)%3])
		addr := [4]byte{198, byte(18 + i/(254*256)), byte(i / 254 % 256), byte(1 + i%254)}
		newServer(addr, name, 15*time.Millisecond, 180*time.Millisecond)
	}

	for i := range cfg.Hosts {
		h := host{
			addr:     HostAddr(i).As4(),
			ttl:      128,
			rhythm:   newRhythm(rng),
			nextPort: uint16(49152 + rng.IntN(16384)),
			resolved: map[int]int64{},
		}
		if rng.IntN(5) == 0 {
			h.ttl = 64
		}
		for range 8 {
			h.personal = append(h.personal, first+rng.IntN(tail))
		}
		w.hosts = append(w.hosts, h)
	}
	w.benign = newBenign(cfg)
	return w
}

// pickServer chooses where a host's next session goes: mostly the popular
// servers (Zipf), sometimes its own sites.
func (w *world) pickServer(h *host, rng *rand.Rand) int {
	if rng.IntN(10) < 3 {
		return h.personal[rng.IntN(len(h.personal))]
	}
	x := rng.Float64() * w.popCum[len(w.popCum)-1]
	for i, c := range w.popCum {
		if x < c {
			return w.popular[i]
		}
	}
	return w.popular[len(w.popular)-1]
}

// port returns the host's next ephemeral port, wrapping in 49152–65535.
func (h *host) port() uint16 {
	p := h.nextPort
	h.nextPort++
	if h.nextPort == 0 {
		h.nextPort = 49152
	}
	return p
}

// rhythm is a host's working pattern: busy weekday hours, light evenings
// and weekends, nights near idle (background agents only).
type rhythm struct {
	start, end float64 // working hours, UTC
	appetite   float64 // how much traffic this person makes, median 1
	weekend    float64 // activity on weekend days
}

func newRhythm(rng *rand.Rand) rhythm {
	r := rhythm{
		start:    7 + 2.5*rng.Float64(),
		end:      16.5 + 2.5*rng.Float64(),
		appetite: math.Exp(0.5 * rng.NormFloat64()),
		weekend:  0.03,
	}
	if rng.IntN(5) == 0 {
		r.weekend = 0.3
	}
	return r
}

// activity is the fraction of a busy hour's sessions expected in the hour
// that starts at t.
func (r rhythm) activity(t time.Time) float64 {
	h := float64(t.Hour()) + 0.5
	night := h < 6 || h > 23
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		if night {
			return 0.02
		}
		return r.weekend
	}
	switch {
	case night:
		return 0.02
	case h >= 12 && h < 13:
		return 0.6
	case h >= r.start && h < r.end:
		return 1
	case h >= r.start-1 && h < r.end+2:
		return 0.3
	default:
		return 0.08
	}
}
