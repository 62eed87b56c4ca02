package scenario

import (
	"iter"
	"math"
	"math/rand/v2"
	"time"
)

// visit is one planned background session of a host.
type visit struct {
	h        *host
	s        *server
	rng      *rand.Rand
	t        int64 // first packet
	port     uint16
	resolve  bool   // look the name up first (not in the host's cache)
	up, down uint64 // payload bytes each way after the TLS handshake
	rounds   int    // request/response exchanges
}

func (v *visit) conv(yield func(*packet) bool, sport uint16) *conv {
	c := newConv(yield, v.rng, v.t, -1)
	c.cli, c.srv, c.cport, c.sport = v.h.addr, v.s.addr, v.port, sport
	c.cttl, c.sttl, c.rtt = v.h.ttl, v.s.ttl, v.s.rtt
	return c
}

// https is a TLS-over-TCP session: handshake, ClientHello with SNI, the
// server's handshake flight, then request/response rounds with think time,
// and a FIN teardown from the client.
func (v *visit) https() iter.Seq[*packet] {
	return func(yield func(*packet) bool) {
		c := v.conv(yield, 443)
		if v.resolve && !lookup(c, v.s.name, v.s.addr) {
			return
		}
		c.t += int64(100*time.Microsecond) + c.rng.Int64N(int64(2*time.Millisecond))
		var random [32]byte
		for i := range random {
			random[i] = byte(c.rng.Uint32())
		}
		hello := clientHello(make([]byte, 0, 520), v.s.name, random)
		upBps, downBps := logUniform(c.rng, 1e6, 20e6), logUniform(c.rng, 2e6, 50e6)
		flight := uint64(2500 + c.rng.IntN(3000))
		if !(c.handshake() && c.send(true, uint64(len(hello)), upBps, hello) &&
			c.wait(serverTime(c.rng)) && c.send(false, flight, downBps, recordHeader(nil, 0x16, int(flight))) &&
			c.send(true, 80, upBps, recordHeader(nil, 0x14, 80))) {
			return
		}
		for r := range v.rounds {
			if r > 0 {
				c.t += thinkTime(c.rng)
			}
			up, down := share(v.up, v.rounds, r), share(v.down, v.rounds, r)
			if !(c.send(true, up, upBps, recordHeader(nil, 0x17, int(up))) &&
				c.wait(serverTime(c.rng)) && c.send(false, down, downBps, recordHeader(nil, 0x17, int(down)))) {
				return
			}
		}
		c.t += thinkTime(c.rng)
		c.close()
	}
}

// quic is a QUIC-like UDP/443 session: Initial exchange, then rounds of
// 1252-byte datagrams acknowledged by small ones.
func (v *visit) quic() iter.Seq[*packet] {
	return func(yield func(*packet) bool) {
		c := v.conv(yield, 443)
		if v.resolve && !lookup(c, v.s.name, v.s.addr) {
			return
		}
		upBps, downBps := logUniform(c.rng, 1e6, 20e6), logUniform(c.rng, 2e6, 50e6)
		if !(c.udp(true, quicInitial, 1252) && c.wait(c.rtt) &&
			c.datagrams(false, 2*1252, downBps, 1252, 40, quicInitial)) {
			return
		}
		for r := range v.rounds {
			if r > 0 {
				c.t += thinkTime(c.rng)
			}
			up, down := share(v.up, v.rounds, r), share(v.down, v.rounds, r)
			if !(c.datagrams(true, up, upBps, 1252, 40, quicShort) &&
				c.wait(serverTime(c.rng)) && c.datagrams(false, down, downBps, 1252, 40, quicShort)) {
				return
			}
		}
	}
}

// ntp is one client/server exchange of 48-byte NTPv4 messages, 123 → 123.
func (v *visit) ntp() iter.Seq[*packet] {
	return func(yield func(*packet) bool) {
		c := v.conv(yield, 123)
		c.cport = 123
		if v.resolve && !lookup(c, v.s.name, v.s.addr) {
			return
		}
		_ = c.udp(true, ntpClient, 48) && c.wait(c.rtt) && c.udp(false, ntpServer, 48)
	}
}

var (
	ntpClient = []byte{0x23, 0, 6, 0xe9} // LI 0, version 4, mode 3 (client)
	ntpServer = []byte{0x24, 2, 6, 0xe9} // mode 4 (server), stratum 2
)

// share is round r's part of n bytes split over k rounds, at least 200.
func share(n uint64, k, r int) uint64 {
	s := n / uint64(k)
	if r == k-1 {
		s = n - s*uint64(k-1)
	}
	return max(s, 200)
}

func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo * math.Exp(rng.Float64()*math.Log(hi/lo))
}

func logNormal(rng *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*rng.NormFloat64())
}

// serverTime is how long a server takes to answer, 1–50 ms.
func serverTime(rng *rand.Rand) int64 {
	return int64(time.Millisecond) + rng.Int64N(int64(49*time.Millisecond))
}

// thinkTime is a user's pause between requests: mean 2 s, capped at 30 s.
func thinkTime(rng *rand.Rand) int64 {
	return int64(min(rng.ExpFloat64()*2, 30) * float64(time.Second))
}
