package scenario

import (
	"iter"
	"time"
)

// SSH identification strings: the workstation runs the server.
var (
	sshServerID = []byte("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n")
	sshClientID = []byte("SSH-2.0-OpenSSH_9.6\r\n")
)

// inboundPull is KindInboundPull: Remote connects to the host's port 22,
// both sides identify and exchange keys, then the remote pulls Bytes (an
// SFTP download: small requests, the host streams the file) over Duration
// and closes.
func (w *world) inboundPull(inc Incident, i int, seed int64) iter.Seq[*packet] {
	h := &w.hosts[hostIndex(inc.Host.As4())]
	return func(yield func(*packet) bool) {
		rng := incRNG(seed, i, 2)
		r := newRemoteEnd(rng, inc)
		c := newConv(yield, rng, inc.At.UnixNano(), i)
		c.cli, c.srv, c.cport, c.sport = h.addr, r.addr, 22, uint16(32768+rng.IntN(28000))
		c.cttl, c.sttl, c.rtt = h.ttl, r.ttl, r.rtt
		c.p.countable = true
		bps := float64(inc.Bytes*8) / inc.Duration.Seconds()
		srvKex, cliKex := uint64(1080+rng.IntN(40)), uint64(1500+rng.IntN(40))
		_ = c.accept() &&
			c.send(true, uint64(len(sshServerID)), 20e6, sshServerID) &&
			c.send(false, uint64(len(sshClientID)), 20e6, sshClientID) &&
			c.send(true, srvKex, 20e6, nil) && c.send(false, cliKex, 20e6, nil) &&
			c.send(false, 48, 20e6, nil) && c.wait(int64(2*time.Millisecond)) && c.send(true, 564, 20e6, nil) &&
			c.send(false, 16, 20e6, nil) && c.send(false, 52, 20e6, nil) && c.send(true, 52, 20e6, nil) && // auth
			c.send(false, 120, 20e6, nil) && c.send(true, 120, 20e6, nil) && // sftp open
			c.send(true, inc.Bytes, bps, nil) &&
			c.send(false, 80, 20e6, nil) && c.wait(serverTime(rng)) && c.closeBy(false)
	}
}
