package scenario

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var (
	backupAddr = netip.MustParseAddr("192.0.2.80")
	syncAddr   = netip.MustParseAddr("198.51.100.200")
	mediaAddr  = netip.MustParseAddr("198.51.100.210")
	videoAddr  = netip.MustParseAddr("198.51.100.26") // video.example.net, popular in background too
)

// benignConfig is 10 hosts over two weekdays with every role.
func benignConfig() Config {
	return Config{
		Hosts: 10, Days: 2, Start: time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC), Seed: 3,
		Benign: Benign{Backups: 1, Sync: 4, Calls: 1, VideoUploads: 2},
	}
}

// Each benign uploader does what it promises, only on its hosts, and
// nothing of it appears when Benign is zero.
func TestBenignUploaders(t *testing.T) {
	cfg := benignConfig()
	truth, ps := decodeAll(t, cfg)
	roles := truth.Benign
	if len(roles[RoleBackup]) != 1 || len(roles[RoleSync]) != 4 || len(roles[RoleCall]) != 1 || len(roles[RoleVideoUpload]) != 2 {
		t.Fatalf("roles %v", roles)
	}
	if !maps(roles, BenignRoles(cfg)) {
		t.Errorf("BenignRoles %v differs from the truth %v", BenignRoles(cfg), roles)
	}
	type flowSum struct{ out, in int }
	per := map[netip.Addr]map[netip.Addr]*flowSum{} // server → host → bytes
	nights := map[int64]bool{}
	var callUDP int
	bigVideo := map[netip.Addr]int{}
	for _, p := range ps {
		host, srv, out := p.src, p.dst, true
		if !host.IsPrivate() {
			host, srv, out = p.dst, p.src, false
		}
		if srv != backupAddr && srv != syncAddr && srv != mediaAddr && srv != videoAddr {
			continue
		}
		if per[srv] == nil {
			per[srv] = map[netip.Addr]*flowSum{}
		}
		s := per[srv][host]
		if s == nil {
			s = &flowSum{}
			per[srv][host] = s
		}
		if out {
			s.out += p.payload
		} else {
			s.in += p.payload
		}
		switch {
		case srv == backupAddr && out && p.syn:
			at := time.Unix(0, p.ts).UTC()
			if at.Hour() < 1 || at.Hour() > 2 || at.Hour() == 2 && at.Minute() > 36 {
				t.Errorf("backup at %s, want 01:00–02:36", at)
			}
			nights[p.ts/int64(24*time.Hour)] = true
		case srv == mediaAddr:
			if p.tcp || (out && p.dport != 3478) {
				t.Fatalf("call packet not UDP to 3478")
			}
			callUDP++
		case srv == videoAddr && out:
			bigVideo[host] += p.payload
		}
	}
	only := func(srv netip.Addr, role string) {
		for h := range per[srv] {
			if !slices.Contains(roles[role], h) {
				t.Errorf("%s talks to the %s server %s", h, role, srv)
			}
		}
		if len(per[srv]) == 0 {
			t.Errorf("nobody talks to the %s server", role)
		}
	}
	only(backupAddr, RoleBackup)
	only(syncAddr, RoleSync)
	only(mediaAddr, RoleCall)
	if len(nights) != 2 {
		t.Errorf("backups on %d nights, want 2", len(nights))
	}
	b := per[backupAddr][roles[RoleBackup][0]]
	if b.out < 2*30_000_000 || b.in > b.out/100 {
		t.Errorf("backup host sent %d bytes and received %d over two nights", b.out, b.in)
	}
	for h, s := range per[mediaAddr] {
		if s.out < 20_000_000 || s.in < s.out {
			t.Errorf("call host %s: %d up, %d down; want tens of MB, more down than up", h, s.out, s.in)
		}
	}
	uploaders := 0
	for h, n := range bigVideo {
		if n > 50_000_000 {
			uploaders++
			if !slices.Contains(roles[RoleVideoUpload], h) {
				t.Errorf("%s uploaded %d bytes of video without the role", h, n)
			}
		}
	}
	if uploaders == 0 {
		t.Error("no video was uploaded")
	}
	t.Logf("%d packets; %d call datagrams; backup %d MB; sync hosts %d", truth.Packets, callUDP, b.out/1e6, len(per[syncAddr]))

	off := cfg
	off.Benign = Benign{}
	offTruth, offPs := decodeAll(t, off)
	if offTruth.Benign != nil {
		t.Errorf("benign roles %v when off", offTruth.Benign)
	}
	for _, p := range offPs {
		for _, a := range []netip.Addr{backupAddr, syncAddr, mediaAddr} {
			if p.src == a || p.dst == a {
				t.Fatalf("packet to %s with no benign uploaders", a)
			}
		}
	}
}

func maps(a, b map[string][]netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// Benign uploaders have their own random streams: with backups, sync and
// calls on, the packets that are not theirs are the background's exactly.
func TestBenignLeavesBackground(t *testing.T) {
	cfg := benignConfig()
	cfg.Benign.VideoUploads = 0 // its server is also a background one
	cfg.Snaplen = 65535
	benignNames := map[string]bool{"backup.vaultstore.example": true, "sync.cloudbox.example": true, "media.meetcloud.example": true}
	hash := func(cfg Config, skip bool) ([32]byte, int) {
		h := sha256.New()
		n := 0
		generateStream(t, cfg, func(r record) error {
			ip := r.data[ethLen:]
			src, dst := netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
			if skip {
				for _, a := range []netip.Addr{backupAddr, syncAddr, mediaAddr} {
					if src == a || dst == a {
						return nil
					}
				}
				if ip[9] == protoUDP && (binary.BigEndian.Uint16(ip[20:]) == 53 || binary.BigEndian.Uint16(ip[22:]) == 53) {
					name, _ := dnsName(ip[28+12:])
					if benignNames[name] {
						return nil
					}
				}
			}
			n++
			h.Write(r.data)
			return nil
		})
		return [32]byte(h.Sum(nil)), n
	}
	with, nWith := hash(cfg, true)
	cfg.Benign = Benign{}
	without, nWithout := hash(cfg, false)
	if with != without || nWith != nWithout {
		t.Fatalf("background changed: %d packets vs %d", nWith, nWithout)
	}
}

// dnsName reads an uncompressed DNS name.
func dnsName(b []byte) (string, bool) {
	var name []byte
	for len(b) > 0 && b[0] != 0 {
		n := int(b[0])
		if n > 63 || len(b) < 1+n {
			return "", false
		}
		if len(name) > 0 {
			name = append(name, '.')
		}
		name = append(name, b[1:1+n]...)
		b = b[1+n:]
	}
	return string(name), true
}

// Same config (every kind and every benign role) → the same bytes; a
// different seed → different ones.
func TestDeterministicEverything(t *testing.T) {
	cfg := benignConfig()
	at := cfg.Start.Add(26 * time.Hour)
	for i, kind := range Kinds() {
		inc := Incident{Kind: kind, Host: HostAddr(i % cfg.Hosts), At: at.Add(time.Duration(i) * time.Hour), Bytes: 2 << 20, Duration: 20 * time.Minute}
		if kind == KindBeaconUpload {
			inc.Interval = time.Minute
		}
		cfg.Incidents = append(cfg.Incidents, inc)
	}
	a, ta := hashOf(t, cfg)
	b, tb := hashOf(t, cfg)
	if a != b || ta.Packets != tb.Packets {
		t.Fatalf("same config gave different captures: %x vs %x", a, b)
	}
	cfg.Seed++
	if c, _ := hashOf(t, cfg); c == a {
		t.Fatal("a different seed gave the same capture")
	}
	for _, it := range ta.Incidents {
		if it.Packets == 0 || it.OutPackets == 0 {
			t.Errorf("%s: no packets", it.Kind)
		}
	}
}

// EvalConfig is valid, covers every kind, puts incidents after the first
// week on hosts without a benign role, and keeps its presets' promises.
func TestEvalConfig(t *testing.T) {
	cfg := EvalConfig()
	full, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	busy := map[netip.Addr]bool{}
	for _, hs := range BenignRoles(cfg) {
		for _, h := range hs {
			busy[h] = true
		}
	}
	kinds := map[string]int{}
	hours := map[bool]int{} // office hours or not
	for _, inc := range full.Incidents {
		kinds[inc.Kind]++
		if inc.At.Before(cfg.Start.Add(8 * 24 * time.Hour)) {
			t.Errorf("%s at %s: before the learning week ends", inc.Kind, inc.At)
		}
		if busy[inc.Host] {
			t.Errorf("%s on %s, a benign uploader", inc.Kind, inc.Host)
		}
		h := inc.At.Hour()
		hours[h >= 9 && h < 18]++
	}
	for _, k := range Kinds() {
		if kinds[k] < 1 || kinds[k] > 2 {
			t.Errorf("%d incidents of %s, want 1 or 2", kinds[k], k)
		}
	}
	if hours[true] == 0 || hours[false] == 0 {
		t.Errorf("incidents by office hours: %v", hours)
	}
}
