package scenario

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Benign configures legitimate heavy uploaders: the traffic a detector
// must not mistake for a leak. Each field is a number of hosts, chosen by
// the seed; backup, call and video_upload hosts are distinct, sync hosts
// may also have another role. Zero adds nothing and changes nothing else.
type Benign struct {
	// Backups: hosts that back up every night, at their own time between
	// 01:00 and 02:30 (±3 min), to backup.vaultstore.example (192.0.2.80,
	// TCP/443): one connection, median 60–200 MB per host.
	Backups int
	// Sync: hosts running the cloud-sync client of sync.cloudbox.example
	// (198.51.100.200, TCP/443): small uploads (median 400 kB, at most
	// 30 MB) about 1.5 times per busy hour, following the host's rhythm.
	Sync int
	// Calls: hosts that join video calls (media.meetcloud.example,
	// 198.51.100.210, UDP/3478): in a busy weekday hour a call starts with
	// probability 6 %, lasts 15–50 min, 400–700 kbit/s up and 600–1200
	// kbit/s down in 900–1200-byte datagrams.
	Calls int
	// VideoUploads: power users who now and then (2.5 % of their active
	// hours) upload a video of median 250 MB (at most 1.5 GB) to the
	// popular video.example.net.
	VideoUploads int
}

func (b Benign) validate(hosts int) error {
	if b.Backups < 0 || b.Sync < 0 || b.Calls < 0 || b.VideoUploads < 0 ||
		b.Backups+b.Calls+b.VideoUploads > hosts || b.Sync > hosts {
		return errors.New("scenario: benign uploaders: want backups+calls+video uploads and sync each within the hosts")
	}
	return nil
}

// Benign roles, as named in Truth.Benign.
const (
	RoleBackup      = "backup"
	RoleSync        = "sync"
	RoleCall        = "call"
	RoleVideoUpload = "video_upload"
)

const (
	roleBackup = 1 << iota
	roleSync
	roleCall
	roleVideo
)

// benignHost is what the planner knows of one host's benign roles.
type benignHost struct {
	roles      int
	backupAt   int64    // offset into 01:00–02:30 of the nightly backup
	backupSize float64  // median backup, bytes
	callUntil  int64    // a call is on until then
	looked     [4]int64 // last DNS lookup per server (backup, sync, media, video)
	rngStream  uint64
	hostIndex  int
}

// benignWorld is the benign uploaders and the servers they use; built
// from its own random stream so the rest of the world does not change.
type benignWorld struct {
	hosts                      []benignHost
	backup, sync, media, video server
}

// BenignRoles returns the hosts of each role cfg.Benign asks for.
func BenignRoles(cfg Config) map[string][]netip.Addr {
	if cfg.Benign.validate(cfg.Hosts) != nil {
		return nil
	}
	bw := newBenign(cfg)
	if bw == nil {
		return nil
	}
	return bw.truth()
}

func newBenign(cfg Config) *benignWorld {
	b := cfg.Benign
	if b == (Benign{}) {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x62656e69676e)) // "benign"
	bw := &benignWorld{}
	mk := func(addr [4]byte, name string, rtt time.Duration) server {
		return server{addr: addr, name: name, ttl: uint8(50 + rng.IntN(8)), rtt: int64(rtt) + rng.Int64N(int64(rtt))}
	}
	bw.backup = mk([4]byte{192, 0, 2, 80}, "backup.vaultstore.example", 20*time.Millisecond)
	bw.sync = mk([4]byte{198, 51, 100, 200}, "sync.cloudbox.example", 10*time.Millisecond)
	bw.media = mk([4]byte{198, 51, 100, 210}, "media.meetcloud.example", 10*time.Millisecond)
	perm := rng.Perm(cfg.Hosts)
	syncPerm := rng.Perm(cfg.Hosts)
	roles := make([]int, cfg.Hosts)
	for k, i := range perm {
		switch {
		case k < b.Backups:
			roles[i] |= roleBackup
		case k < b.Backups+b.Calls:
			roles[i] |= roleCall
		case k < b.Backups+b.Calls+b.VideoUploads:
			roles[i] |= roleVideo
		}
	}
	for _, i := range syncPerm[:b.Sync] {
		roles[i] |= roleSync
	}
	for i, r := range roles {
		if r == 0 {
			continue
		}
		bw.hosts = append(bw.hosts, benignHost{
			roles: r, hostIndex: i,
			backupAt:   int64(3*time.Minute) + rng.Int64N(int64(87*time.Minute)),
			backupSize: logUniform(rng, 60e6, 200e6),
			rngStream:  rng.Uint64(),
		})
	}
	return bw
}

func (bw *benignWorld) truth() map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	for _, bh := range bw.hosts {
		for _, r := range []struct {
			bit  int
			name string
		}{{roleBackup, RoleBackup}, {roleSync, RoleSync}, {roleCall, RoleCall}, {roleVideo, RoleVideoUpload}} {
			if bh.roles&r.bit != 0 {
				out[r.name] = append(out[r.name], HostAddr(bh.hostIndex))
			}
		}
	}
	return out
}

func (w *world) benignTruth() map[string][]netip.Addr {
	if w.benign == nil {
		return nil
	}
	return w.benign.truth()
}

// planBenign returns the benign uploaders' sessions that start in the hour
// from t. Each host-hour draws from its own random stream.
func (w *world) planBenign(cfg Config, t int64, hour uint64) []planned {
	bw := w.benign
	if bw == nil {
		return nil
	}
	if bw.video.name == "" {
		bw.video = w.servers[w.popular[16]] // video.example.net
	}
	var out []planned
	wall := time.Unix(0, t).UTC()
	weekday := wall.Weekday() != time.Saturday && wall.Weekday() != time.Sunday
	for k := range bw.hosts {
		bh := &bw.hosts[k]
		h := &w.hosts[bh.hostIndex]
		rng := rand.New(rand.NewPCG(bh.rngStream, hour))
		act := h.rhythm.activity(wall)
		s := benignSession{h: h, bh: bh, rng: rng}
		if bh.roles&roleBackup != 0 && wall.Hour() == 1 {
			st := t + bh.backupAt + rng.Int64N(int64(6*time.Minute)) - int64(3*time.Minute)
			size, bps := uint64(logNormal(rng, bh.backupSize, 0.25)), logUniform(rng, 20e6, 60e6)
			out = append(out, s.at(st, func(c *conv) bool { return s.upload(c, &bw.backup, 0, size, bps, 0) }))
		}
		if bh.roles&roleSync != 0 {
			for range poisson(rng, 1.5*act) {
				st := t + rng.Int64N(int64(time.Hour))
				size := uint64(min(logNormal(rng, 400e3, 1.2), 30e6))
				bps, down := logUniform(rng, 5e6, 40e6), uint64(2000+rng.IntN(20000))
				out = append(out, s.at(st, func(c *conv) bool { return s.upload(c, &bw.sync, 1, size, bps, down) }))
			}
		}
		if bh.roles&roleCall != 0 && weekday && act >= 0.6 && t >= bh.callUntil && rng.Float64() < 0.06 {
			st := t + rng.Int64N(int64(time.Hour))
			d := int64(15*time.Minute) + rng.Int64N(int64(35*time.Minute))
			bh.callUntil = st + d
			up, down := logUniform(rng, 400e3, 700e3), logUniform(rng, 600e3, 1200e3)
			out = append(out, s.at(st, func(c *conv) bool { return s.call(c, &bw.media, d, up, down) }))
		}
		if bh.roles&roleVideo != 0 && act >= 0.08 && rng.Float64() < 0.025 {
			st := t + rng.Int64N(int64(time.Hour))
			size, bps := uint64(min(logNormal(rng, 250e6, 0.6), 1.5e9)), logUniform(rng, 15e6, 40e6)
			out = append(out, s.at(st, func(c *conv) bool { return s.upload(c, &bw.video, 3, size, bps, 2000) }))
		}
	}
	sortPlanned(out)
	return out
}

func sortPlanned(p []planned) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j].t < p[j-1].t; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// benignSession is one benign session of a host.
type benignSession struct {
	h   *host
	bh  *benignHost
	rng *rand.Rand
}

// at plans a session starting at st: body runs on a conv from the host.
// Each session gets its own random stream drawn now, so sessions that
// overlap do not share one.
func (s benignSession) at(st int64, body func(c *conv) bool) planned {
	rng := rand.New(rand.NewPCG(s.rng.Uint64(), s.rng.Uint64()))
	return planned{t: st, run: func(yield func(*packet) bool) {
		c := newConv(yield, rng, st, -1)
		c.cli, c.cport, c.cttl = s.h.addr, uint16(49152+rng.IntN(16384)), s.h.ttl
		body(c)
	}}
}

// resolve looks srv up unless the host asked for it (slot) within dnsTTL.
func (s benignSession) resolve(c *conv, srv *server, slot int) bool {
	if last := s.bh.looked[slot]; last != 0 && c.t-last <= dnsTTL {
		return true
	}
	s.bh.looked[slot] = c.t
	return lookup(c, srv.name, srv.addr)
}

// upload is one HTTPS connection sending size bytes at bps, answered by
// down bytes.
func (s benignSession) upload(c *conv, srv *server, slot int, size uint64, bps float64, down uint64) bool {
	c.srv, c.sport, c.sttl, c.rtt = srv.addr, 443, srv.ttl, srv.rtt
	if !s.resolve(c, srv, slot) {
		return false
	}
	c.t += int64(time.Millisecond)
	r := remoteEnd{addr: srv.addr, name: srv.name, ttl: srv.ttl, rtt: srv.rtt, flight: 3800}
	return post(c, r, max(size, 1), max(down, 200), bps)
}

// rtpHead starts every media datagram: RTP version 2, payload type 96.
var rtpHead = []byte{0x80, 0x60}

// stunBinding starts a STUN binding request and its success response.
var (
	stunRequest  = []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}
	stunResponse = []byte{0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42}
)

// call is a video call of d ns: a STUN binding, then media both ways at
// up and down bit/s in 900–1200-byte datagrams, interleaved in time.
func (s benignSession) call(c *conv, srv *server, d int64, up, down float64) bool {
	c.srv, c.sport, c.sttl, c.rtt = srv.addr, 3478, srv.ttl, srv.rtt
	if !s.resolve(c, srv, 2) {
		return false
	}
	if !(c.udp(true, stunRequest, 20) && c.wait(c.rtt) && c.udp(false, stunResponse, 32)) {
		return false
	}
	end := c.t + d
	tu, td := c.t, c.t+c.rtt
	for {
		fromCli, next, bps := true, &tu, up
		if td < tu {
			fromCli, next, bps = false, &td, down
		}
		if *next >= end {
			return true
		}
		c.t = *next
		size := 900 + c.rng.IntN(300)
		if !c.udp(fromCli, rtpHead, size) {
			return false
		}
		*next += int64(float64(size*8) * 1e9 / bps)
	}
}
