package scenario

import (
	"iter"
	"math/rand/v2"
	"time"
)

// p2p is KindP2P: Count peer sessions spread over Duration, each its own
// stream so they overlap. Odd-numbered peers connect in to the host's
// listening port; the host connects out to the others' high ports. In
// every session the host serves pieces (its share of Bytes) and fetches
// fewer (its share of Bytes/4).
func (w *world) p2p(inc Incident, i int, seed int64) []planned {
	h := &w.hosts[hostIndex(inc.Host.As4())]
	rng := incRNG(seed, i, 1)
	listen := uint16(10000 + rng.IntN(50000))
	up := splitBytes(rng, inc.Bytes, inc.Count, 1)
	down := splitBytes(rng, inc.Bytes/4, inc.Count, 1)
	seen := map[[4]byte]bool{}
	out := make([]planned, inc.Count)
	for k := range out {
		var peer [4]byte
		for peer == [4]byte{} || seen[peer] {
			peer = [4]byte{198, 19, byte(rng.IntN(256)), byte(1 + rng.IntN(254))}
		}
		seen[peer] = true
		s := peerSession{
			h: h, peer: peer, inbound: k%2 == 1, up: up[k], down: down[k],
			peerPort: uint16(10000 + rng.IntN(55000)), listen: listen,
			ttl: uint8(40 + rng.IntN(20)), rtt: int64(20*time.Millisecond) + rng.Int64N(int64(250*time.Millisecond)),
			bps: logUniform(rng, 0.5e6, 5e6),
		}
		at := inc.At.UnixNano()
		if k > 0 {
			at += rng.Int64N(int64(inc.Duration) * 85 / 100)
		}
		out[k] = planned{t: at, run: s.run(incRNG(seed, i, 3+k), at, i)}
	}
	return out
}

// peerSession is one connection between the host and a peer.
type peerSession struct {
	h        *host
	peer     [4]byte
	inbound  bool // the peer connected to the host
	up, down uint64
	peerPort uint16 // the peer's listening port (outbound sessions)
	listen   uint16 // the host's listening port (inbound sessions)
	ttl      uint8
	rtt      int64
	bps      float64
}

// btHandshake starts a BitTorrent handshake (68 bytes: this, reserved
// bytes, info hash, peer id).
var btHandshake = []byte("\x13BitTorrent protocol")

// pieceSize is what one request/piece round moves.
const pieceSize = 256 << 10

func (s peerSession) run(rng *rand.Rand, at int64, i int) iter.Seq[*packet] {
	return func(yield func(*packet) bool) {
		c := newConv(yield, rng, at, i)
		c.cli, c.srv, c.cttl, c.sttl, c.rtt = s.h.addr, s.peer, s.h.ttl, s.ttl, s.rtt
		c.p.countable = true
		var ok bool
		if s.inbound {
			c.cport, c.sport = s.listen, uint16(49152+rng.IntN(16384))
			ok = c.accept() && c.send(false, 68, 2e6, btHandshake) && c.send(true, 68, 2e6, btHandshake)
		} else {
			c.cport, c.sport = uint16(49152+rng.IntN(16384)), s.peerPort
			ok = c.handshake() && c.send(true, 68, 2e6, btHandshake) && c.send(false, 68, 2e6, btHandshake)
		}
		bitfield := uint64(40 + rng.IntN(200))
		if !(ok && c.send(true, bitfield, 2e6, nil) && c.send(false, bitfield, 2e6, nil)) {
			return
		}
		rounds := int(min(40, 1+s.up/pieceSize))
		for r := range rounds {
			if !(c.send(false, 17*16, 2e6, nil) && c.wait(serverTime(rng)) &&
				c.send(true, share(s.up, rounds, r), s.bps, nil) &&
				c.send(true, 17*4, 2e6, nil) && c.wait(c.rtt) &&
				c.send(false, share(s.down, rounds, r), s.bps, nil)) {
				return
			}
			c.t += thinkTime(rng)
		}
		c.closeBy(!s.inbound)
	}
}
