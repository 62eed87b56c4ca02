package scenario

import (
	"iter"
	"math"
	"math/rand/v2"
	"time"
)

// incident returns the sessions of one incident, each starting at its t.
// New kinds go here (and in kinds).
func (w *world) incident(inc Incident, i int, seed int64) []planned {
	one := func(run iter.Seq[*packet]) []planned { return []planned{{t: inc.At.UnixNano(), run: run}} }
	switch inc.Kind {
	case KindUpload:
		return one(upload(w, inc, i, seed))
	case KindDocuments:
		return one(w.posts(inc, i, seed, documentTimes(inc, incRNG(seed, i, 1))))
	case KindLowAndSlow:
		return one(w.posts(inc, i, seed, lowAndSlowTimes(inc, incRNG(seed, i, 1))))
	case KindBeaconUpload:
		return one(w.beaconUpload(inc, i, seed))
	case KindLongLived:
		return one(w.longLived(inc, i, seed))
	case KindInboundPull:
		return one(w.inboundPull(inc, i, seed))
	case KindDNSTunnel:
		return one(w.dnsTunnel(inc, i, seed))
	case KindP2P:
		return w.p2p(inc, i, seed)
	}
	panic("scenario: unknown incident kind " + inc.Kind) // withDefaults rejects it
}

// incRNG is incident i's random stream number k (0 is upload's).
func incRNG(seed int64, i, k int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x696e63<<20|uint64(i)|uint64(k)<<48)) // "inc"
}

// upload is KindUpload: the host resolves RemoteName, opens TCP/443 to
// Remote, sends a ClientHello with that SNI, receives the server's flight,
// then pushes the rest of Bytes as TLS application data paced over Duration,
// gets a short reply and closes.
func upload(w *world, inc Incident, i int, seed int64) iter.Seq[*packet] {
	h := &w.hosts[hostIndex(inc.Host.As4())]
	return func(yield func(*packet) bool) {
		rng := rand.New(rand.NewPCG(uint64(seed), 0x696e63<<20|uint64(i))) // "inc"
		c := newConv(yield, rng, inc.At.UnixNano(), i)
		c.cli, c.srv, c.cport, c.sport = h.addr, inc.Remote.As4(), uint16(49152+rng.IntN(16384)), 443
		c.cttl, c.sttl = h.ttl, uint8(44+rng.IntN(10))
		c.rtt = int64(30*time.Millisecond) + rng.Int64N(int64(60*time.Millisecond))
		if !lookup(c, inc.RemoteName, c.srv) {
			return
		}
		c.p.countable = true
		c.t += int64(time.Millisecond)
		var random [32]byte
		for j := range random {
			random[j] = byte(rng.Uint32())
		}
		hello := clientHello(make([]byte, 0, 520), inc.RemoteName, random)
		data := inc.Bytes - uint64(len(hello))
		bps := float64(data*8) / inc.Duration.Seconds()
		_ = c.handshake() && c.send(true, uint64(len(hello)), 20e6, hello) &&
			c.wait(serverTime(rng)) && c.send(false, 4200, 20e6, recordHeader(nil, 0x16, 4200)) &&
			c.send(true, data, bps, recordHeader(nil, 0x17, int(data))) &&
			c.wait(serverTime(rng)) && c.send(false, 350, 20e6, recordHeader(nil, 0x17, 350)) &&
			c.wait(serverTime(rng)) && c.close()
	}
}

// ephemeral is the k-th port after base, wrapping in 49152–65535.
func ephemeral(base uint16, k int) uint16 { return uint16(49152 + (int(base)-49152+k)%16384) }

func hostIndex(a [4]byte) int { return (int(a[2])-1)*240 + int(a[3]) - 10 }

// remoteEnd is an incident's external server as its connections see it.
type remoteEnd struct {
	addr   [4]byte
	name   string
	ttl    uint8
	rtt    int64
	flight uint64 // its TLS handshake flight: the same certificate every time
}

func newRemoteEnd(rng *rand.Rand, inc Incident) remoteEnd {
	return remoteEnd{
		addr: inc.Remote.As4(), name: inc.RemoteName,
		ttl:    uint8(44 + rng.IntN(10)),
		rtt:    int64(30*time.Millisecond) + rng.Int64N(int64(60*time.Millisecond)),
		flight: uint64(2500 + rng.IntN(3000)),
	}
}

// dial starts a connection of h to r at t from port; the remote is named
// by a DNS lookup first when the host's answer is older than dnsTTL
// (*looked is when it last asked). The conv counts for incident i after
// the lookup.
func dial(yield func(*packet) bool, rng *rand.Rand, t int64, i int, h *host, r remoteEnd, port uint16, looked *int64) (*conv, bool) {
	c := newConv(yield, rng, t, i)
	c.cli, c.srv, c.cport, c.sport = h.addr, r.addr, port, 443
	c.cttl, c.sttl, c.rtt = h.ttl, r.ttl, r.rtt
	if r.name != "" && (*looked == 0 || t-*looked > dnsTTL) {
		*looked = t
		if !lookup(c, r.name, r.addr) {
			return c, false
		}
		c.t += int64(time.Millisecond)
	}
	c.p.countable = true
	return c, true
}

// post is one HTTPS request on c, a fresh connection: handshake,
// ClientHello with r's name, r's flight, the client's Finished, up bytes
// of application data at upBps, a reply of down bytes, FIN. The host sends
// 517 + 80 + up bytes of TCP payload.
func post(c *conv, r remoteEnd, up, down uint64, upBps float64) bool {
	var random [32]byte
	for j := range random {
		random[j] = byte(c.rng.Uint32())
	}
	hello := clientHello(make([]byte, 0, 520), r.name, random)
	return c.handshake() && c.send(true, uint64(len(hello)), 20e6, hello) &&
		c.wait(serverTime(c.rng)) && c.send(false, r.flight, 20e6, recordHeader(nil, 0x16, int(r.flight))) &&
		c.send(true, 80, upBps, recordHeader(nil, 0x14, 80)) &&
		c.send(true, up, upBps, recordHeader(nil, 0x17, int(up))) &&
		c.wait(serverTime(c.rng)) && c.send(false, down, 20e6, recordHeader(nil, 0x17, int(down))) &&
		c.wait(serverTime(c.rng)) && c.close()
}

// timedPost is one post of size bytes at start.
type timedPost struct {
	at   int64
	size uint64
}

// documentTimes: Count documents of Bytes in total, one every
// Duration/Count (±25 %), the first at At.
func documentTimes(inc Incident, rng *rand.Rand) []timedPost {
	sizes := splitBytes(rng, inc.Bytes, inc.Count, 0.8)
	gap := int64(inc.Duration) / int64(inc.Count)
	out := make([]timedPost, inc.Count)
	for k := range out {
		out[k] = timedPost{at: inc.At.UnixNano() + int64(k)*gap, size: sizes[k]}
		if k > 0 {
			out[k].at += rng.Int64N(gap/2+1) - gap/4
		}
	}
	return out
}

// lowAndSlowTimes: Count uploads of Bytes in total at uniformly random
// times over Duration, the first at At.
func lowAndSlowTimes(inc Incident, rng *rand.Rand) []timedPost {
	sizes := splitBytes(rng, inc.Bytes, inc.Count, 0.5)
	out := make([]timedPost, inc.Count)
	for k := range out {
		out[k] = timedPost{at: inc.At.UnixNano(), size: sizes[k]}
		if k > 0 {
			out[k].at += rng.Int64N(int64(inc.Duration))
		}
	}
	sortPosts(out)
	return out
}

func sortPosts(p []timedPost) {
	for i := 1; i < len(p); i++ { // insertion sort: stable and tiny
		for j := i; j > 0 && p[j].at < p[j-1].at; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// posts is documents and low_and_slow: one HTTPS post per entry of plan to
// Remote, each on a new connection, none before the previous one ended.
func (w *world) posts(inc Incident, i int, seed int64, plan []timedPost) iter.Seq[*packet] {
	h := &w.hosts[hostIndex(inc.Host.As4())]
	return func(yield func(*packet) bool) {
		rng := incRNG(seed, i, 2)
		r := newRemoteEnd(rng, inc)
		bps := logUniform(rng, 4e6, 20e6)
		port := uint16(49152 + rng.IntN(12000))
		var looked, free int64
		for k, p := range plan {
			c, ok := dial(yield, rng, max(p.at, free), i, h, r, ephemeral(port, k), &looked)
			if !ok || !post(c, r, p.size, uint64(200+rng.IntN(300)), bps) {
				return
			}
			free = c.t + int64(time.Millisecond)
		}
	}
}

// beaconUpload is KindBeaconUpload: Count beacons of nearly constant size
// every Interval (±2 %), then the upload one Interval after the last.
func (w *world) beaconUpload(inc Incident, i int, seed int64) iter.Seq[*packet] {
	h := &w.hosts[hostIndex(inc.Host.As4())]
	return func(yield func(*packet) bool) {
		rng := incRNG(seed, i, 2)
		r := newRemoteEnd(rng, inc)
		port := uint16(49152 + rng.IntN(12000))
		iv := int64(inc.Interval)
		var looked, free int64
		for k := range inc.Count + 1 {
			at := inc.At.UnixNano() + int64(k)*iv
			if k > 0 {
				at += int64(float64(iv) * 0.02 * (2*rng.Float64() - 1))
			}
			c, ok := dial(yield, rng, max(at, free), i, h, r, ephemeral(port, k), &looked)
			if !ok {
				return
			}
			up, down, bps := uint64(180+rng.IntN(8)), uint64(320+rng.IntN(16)), 2e6
			if k == inc.Count {
				up, bps = inc.Bytes, float64(inc.Bytes*8)/beaconUploadFor.Seconds()
			}
			if !post(c, r, up, down, bps) {
				return
			}
			free = c.t + int64(time.Millisecond)
		}
	}
}

// longLived is KindLongLived: one connection for Duration, a burst of
// data every 5–60 s, each answered by a few bytes.
func (w *world) longLived(inc Incident, i int, seed int64) iter.Seq[*packet] {
	h := &w.hosts[hostIndex(inc.Host.As4())]
	return func(yield func(*packet) bool) {
		rng := incRNG(seed, i, 2)
		r := newRemoteEnd(rng, inc)
		n := max(1, int(inc.Duration/(32500*time.Millisecond)))
		sizes := splitBytes(rng, inc.Bytes, n, 0.7)
		step := int64(inc.Duration) / int64(n)
		var looked int64
		c, ok := dial(yield, rng, inc.At.UnixNano(), i, h, r, uint16(49152+rng.IntN(16384)), &looked)
		if !ok {
			return
		}
		var random [32]byte
		for j := range random {
			random[j] = byte(rng.Uint32())
		}
		hello := clientHello(make([]byte, 0, 520), r.name, random)
		if !(c.handshake() && c.send(true, uint64(len(hello)), 20e6, hello) &&
			c.wait(serverTime(rng)) && c.send(false, r.flight, 20e6, recordHeader(nil, 0x16, int(r.flight))) &&
			c.send(true, 80, 20e6, recordHeader(nil, 0x14, 80))) {
			return
		}
		start := c.t
		for k, size := range sizes {
			at := start + int64(k)*step + int64(float64(step)*0.8*(rng.Float64()-0.5))
			c.t = max(c.t+int64(time.Millisecond), at)
			if !(c.send(true, size, 8e6, recordHeader(nil, 0x17, int(size))) &&
				c.wait(serverTime(rng)) && c.send(false, uint64(40+rng.IntN(160)), 20e6, recordHeader(nil, 0x17, 40))) {
				return
			}
		}
		c.t += serverTime(rng)
		c.close()
	}
}

// splitBytes splits total into n log-normally varying parts (sigma), each
// at least 1, that add up to total exactly.
func splitBytes(rng *rand.Rand, total uint64, n int, sigma float64) []uint64 {
	w := make([]float64, n)
	var sum float64
	for k := range w {
		w[k] = math.Exp(sigma * rng.NormFloat64())
		sum += w[k]
	}
	out := make([]uint64, n)
	rest := total - uint64(n) // everyone gets 1, the rest by weight
	var given uint64
	for k := range out {
		share := min(uint64(float64(rest)*w[k]/sum), rest-given)
		if k == n-1 {
			share = rest - given
		}
		given += share
		out[k] = 1 + share
	}
	return out
}
