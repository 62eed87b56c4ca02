package scenario

import (
	"math/rand/v2"
	"time"
)

// A session is straight-line code that yields its packets in time order;
// the writer interleaves sessions through iter.Pull. Every helper returns
// false once the writer stops listening, and the session must then return.

// conv is one conversation between a workstation (client) and a remote
// (server), seen at the gateway. t is the time of the next packet.
type conv struct {
	yield    func(*packet) bool
	p        packet
	rng      *rand.Rand
	t        int64
	cli, srv [4]byte
	cport    uint16
	sport    uint16
	cttl     uint8
	sttl     uint8
	cid, sid uint16 // next IP ids
	rtt      int64  // gateway ↔ server round trip, ns
	lan      int64  // gateway ↔ client round trip, ns
	// TCP: next sequence number of each side.
	cseq, sseq uint32
}

const mss = 1460

// Options of the client SYN (MSS 1460, NOP, WS 8, NOP, NOP, SACK permitted)
// and of the SYN-ACK (MSS 1460, NOP, NOP, SACK permitted, NOP, WS 7).
var (
	synOpts    = []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2}
	synAckOpts = []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7}
)

// synOptsLen is the only TCP option overhead a client sends (its SYN).
const synOptsLen = 12

func newConv(yield func(*packet) bool, rng *rand.Rand, t int64, incident int) *conv {
	c := &conv{yield: yield, rng: rng, t: t}
	c.p.incident = incident
	c.cid, c.sid = uint16(rng.Uint32()), uint16(rng.Uint32())
	c.lan = int64(100*time.Microsecond) + rng.Int64N(int64(900*time.Microsecond))
	return c
}

// emit sends one packet at c.t from the client (fromCli) or the server.
func (c *conv) emit(fromCli bool, proto, flags uint8, opts, payload []byte, size int) bool {
	p := &c.p
	p.ts, p.proto, p.flags, p.opts, p.payload, p.size, p.out = c.t, proto, flags, opts, payload, size, fromCli
	if fromCli {
		p.src, p.dst, p.sport, p.dport, p.ttl, p.id = c.cli, c.srv, c.cport, c.sport, c.cttl, c.cid
		p.seq, p.ack, p.win = c.cseq, c.sseq, 1026
		c.cid++
	} else {
		p.src, p.dst, p.sport, p.dport, p.ttl, p.id = c.srv, c.cli, c.sport, c.cport, c.sttl, c.sid
		p.seq, p.ack, p.win = c.sseq, c.cseq, 501
		c.sid++
	}
	if flags&flagACK == 0 {
		p.ack = 0
	}
	return c.yield(p)
}

// wait moves the clock on by d.
func (c *conv) wait(d int64) bool { c.t += d; return true }

// udp sends one datagram of size bytes starting with payload.
func (c *conv) udp(fromCli bool, payload []byte, size int) bool {
	return c.emit(fromCli, protoUDP, 0, nil, payload, max(size, len(payload)))
}

// handshake is SYN, SYN-ACK one server round trip later, ACK.
func (c *conv) handshake() bool {
	c.cseq, c.sseq = c.rng.Uint32(), c.rng.Uint32()
	if !c.emit(true, protoTCP, flagSYN, synOpts, nil, 0) {
		return false
	}
	c.cseq++
	c.t += c.rtt
	if !c.emit(false, protoTCP, flagSYN|flagACK, synAckOpts, nil, 0) {
		return false
	}
	c.sseq++
	c.t += c.lan
	return c.emit(true, protoTCP, flagACK, nil, nil, 0)
}

// send transfers n bytes of TCP payload in MSS segments paced at bps
// bits/s, starting with head. The receiver ACKs every second segment and
// the last one; the clock ends at that last ACK. Pacing is plausible, not a
// TCP simulation: an ACK is placed before the next segment.
func (c *conv) send(fromCli bool, n uint64, bps float64, head []byte) bool {
	recv := c.lan
	if fromCli {
		recv = c.rtt
	}
	var sent uint64
	for segs := 1; sent < n; segs++ {
		seg := min(uint64(mss), n-sent)
		var payload []byte
		if sent < uint64(len(head)) {
			payload = head[sent:min(uint64(len(head)), sent+seg)]
		}
		sent += seg
		last := sent == n
		flags := uint8(flagACK)
		if last {
			flags |= flagPSH
		}
		if !c.emit(fromCli, protoTCP, flags, nil, payload, int(seg)) {
			return false
		}
		c.advance(fromCli, uint32(seg))
		gap := int64(float64(seg*8) * 1e9 / bps)
		if !last && segs%2 != 0 {
			c.t += gap
			continue
		}
		d := recv
		if !last {
			d = min(recv, gap/2)
		}
		c.t += d
		if !c.emit(!fromCli, protoTCP, flagACK, nil, nil, 0) {
			return false
		}
		if !last {
			c.t += gap - d
		}
	}
	return true
}

// datagrams transfers n bytes over UDP in datagrams of up to size bytes
// paced at bps, the receiver answering every second one with an ackSize
// datagram, as QUIC does. The clock ends at the last acknowledgement.
func (c *conv) datagrams(fromCli bool, n uint64, bps float64, size, ackSize int, head []byte) bool {
	recv := c.lan
	if fromCli {
		recv = c.rtt
	}
	var sent uint64
	for dgrams := 1; sent < n; dgrams++ {
		d := min(uint64(size), n-sent)
		sent += d
		last := sent == n
		if !c.udp(fromCli, head, int(d)) {
			return false
		}
		gap := int64(float64(d*8) * 1e9 / bps)
		if !last && dgrams%2 != 0 {
			c.t += gap
			continue
		}
		w := recv
		if !last {
			w = min(recv, gap/2)
		}
		c.t += w
		if !c.udp(!fromCli, quicShort, ackSize) {
			return false
		}
		if !last {
			c.t += gap - w
		}
	}
	return true
}

// First bytes of QUIC v1 long-header (Initial) and short-header packets.
var (
	quicInitial = []byte{0xc3, 0, 0, 0, 1, 8}
	quicShort   = []byte{0x43}
)

func (c *conv) advance(fromCli bool, n uint32) {
	if fromCli {
		c.cseq += n
	} else {
		c.sseq += n
	}
}

// close is FIN from the client, FIN-ACK from the server, last ACK.
func (c *conv) close() bool {
	if !c.emit(true, protoTCP, flagFIN|flagACK, nil, nil, 0) {
		return false
	}
	c.cseq++
	c.t += c.rtt
	if !c.emit(false, protoTCP, flagFIN|flagACK, nil, nil, 0) {
		return false
	}
	c.sseq++
	c.t += c.lan
	return c.emit(true, protoTCP, flagACK, nil, nil, 0)
}

// lookup is a DNS exchange for name → addr with the internal resolver,
// from a fresh source port; the clock ends at the answer.
func lookup(c *conv, name string, addr [4]byte) bool {
	d := &conv{yield: c.yield, rng: c.rng, t: c.t, cli: c.cli, srv: resolver, cttl: c.cttl, sttl: 64,
		cport: uint16(49152 + c.rng.IntN(16384)), sport: 53, cid: c.cid, sid: uint16(c.rng.Uint32())}
	d.p.incident = c.p.incident
	id := uint16(c.rng.Uint32())
	q := dnsQuery(make([]byte, 0, 2*len(name)+64), id, name)
	if !d.udp(true, q, len(q)) {
		return false
	}
	d.t += int64(300*time.Microsecond) + c.rng.Int64N(int64(40*time.Millisecond))
	a := dnsAnswer(q[len(q):], id, name, addr, 300)
	if !d.udp(false, a, len(a)) {
		return false
	}
	c.t, c.cid = d.t, d.cid
	return true
}

// accept is a handshake the remote starts: SYN from the server side,
// SYN-ACK from the workstation one LAN round trip later, ACK.
func (c *conv) accept() bool {
	c.cseq, c.sseq = c.rng.Uint32(), c.rng.Uint32()
	if !c.emit(false, protoTCP, flagSYN, synOpts, nil, 0) {
		return false
	}
	c.sseq++
	c.t += c.lan
	if !c.emit(true, protoTCP, flagSYN|flagACK, synAckOpts, nil, 0) {
		return false
	}
	c.cseq++
	c.t += c.rtt
	return c.emit(false, protoTCP, flagACK, nil, nil, 0)
}

// closeBy is FIN from one side (the workstation when fromCli), FIN-ACK
// from the other, last ACK.
func (c *conv) closeBy(fromCli bool) bool {
	if fromCli {
		return c.close()
	}
	if !c.emit(false, protoTCP, flagFIN|flagACK, nil, nil, 0) {
		return false
	}
	c.sseq++
	c.t += c.lan
	if !c.emit(true, protoTCP, flagFIN|flagACK, nil, nil, 0) {
		return false
	}
	c.cseq++
	c.t += c.rtt
	return c.emit(false, protoTCP, flagACK, nil, nil, 0)
}
