package scenario

import (
	"encoding/base32"
	"fmt"
	"iter"
	"time"
)

// tunnelEncoding spells a tunnel's data in query labels: lower-case base32
// without padding, as DNS tunnels do (names are case-insensitive).
var tunnelEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// dnsTunnel is KindDNSTunnel: Count TXT queries to the internal resolver,
// one every Duration/Count (±50 %), each from a fresh source port, named
// <data>.<sequence>.RemoteName, answered with a short TXT acknowledgement.
// The resolver's own queries to the domain's name server are not modelled
// (background does not show the resolver's upstream traffic either).
func (w *world) dnsTunnel(inc Incident, i int, seed int64) iter.Seq[*packet] {
	h := &w.hosts[hostIndex(inc.Host.As4())]
	return func(yield func(*packet) bool) {
		rng := incRNG(seed, i, 2)
		d := newConv(yield, rng, inc.At.UnixNano(), i)
		d.cli, d.srv, d.sport, d.cttl, d.sttl = h.addr, resolver, 53, h.ttl, 64
		d.p.countable = true
		nonce := rng.Uint32()
		step := int64(inc.Duration) / int64(inc.Count)
		data := make([]byte, dnsChunk)
		buf := make([]byte, 0, 512)
		left := inc.Bytes
		for k := range inc.Count {
			if k > 0 {
				d.t = max(d.t+int64(time.Millisecond), inc.At.UnixNano()+int64(k)*step+rng.Int64N(step+1)-step/2)
			}
			n := min(uint64(dnsChunk), left)
			left -= n
			for j := range data[:n] {
				data[j] = byte(rng.Uint32())
			}
			name := fmt.Sprintf("%s.%08x.%s", tunnelEncoding.EncodeToString(data[:n]), uint32(k)^nonce, inc.RemoteName)
			d.cport = uint16(49152 + rng.IntN(16384))
			id := uint16(rng.Uint32())
			q := dnsQueryType(buf[:0], id, name, dnsTypeTXT)
			if !d.udp(true, q, len(q)) {
				return
			}
			d.t += int64(300*time.Microsecond) + rng.Int64N(int64(20*time.Millisecond))
			a := dnsTXTAnswer(q[len(q):], id, name, fmt.Sprintf("%08x", rng.Uint32()))
			if !d.udp(false, a, len(a)) {
				return
			}
		}
	}
}
