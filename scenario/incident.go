package scenario

import (
	"iter"
	"math/rand/v2"
	"time"
)

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

func hostIndex(a [4]byte) int { return (int(a[2])-1)*240 + int(a[3]) - 10 }
