package names

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// DNS answers are parsed by hand rather than with gopacket's layers.DNS,
// which allocates every name and record: a response here costs one string
// (the name the client asked for) and the cache entries.

const (
	dnsTypeA     = 1
	dnsTypeCNAME = 5
	dnsTypeAAAA  = 28
	dnsClassIN   = 1

	maxCNAMEs = 16 // CNAMEs remembered per response; longer chains are not followed past them
	maxJumps  = 32 // compression pointers followed per name
)

var (
	errDNSShort = errors.New("dns: message cut")
	errDNSLoop  = errors.New("dns: compression pointers loop")
	errDNSName  = errors.New("dns: invalid name")
)

// dnsName is a decoded name: lower-case labels joined by dots.
type dnsName struct {
	b [maxName]byte
	n int
}

func (a *dnsName) equal(b *dnsName) bool { return string(a.b[:a.n]) == string(b.b[:b.n]) }

// dnsScratch holds one response's names so parsing does not allocate.
type dnsScratch struct {
	qname, owner dnsName
	cnames       [maxCNAMEs]struct{ from, to dnsName }
	ncnames      int
	qstring      string // qname as a string, made once per response when needed
}

// observeDNS learns the A and AAAA answers of a DNS response. An address
// is learned under the name the client asked for when a CNAME chain in the
// response leads from it to the answer (analysts recognise
// www.example.com, not the CDN's edge name), else under its own owner name.
func (c *Cache) observeDNS(msg []byte) {
	if len(msg) < 12 {
		return
	}
	flags := binary.BigEndian.Uint16(msg[2:4])
	const qr, opcode, rcode = 0x8000, 0x7800, 0x000f
	if flags&qr == 0 || flags&opcode != 0 || flags&rcode != 0 {
		return // a query, not a standard query, or an error: nothing to learn
	}
	c.stats.DNS++
	if err := c.dnsAnswers(msg); err != nil {
		c.stats.DNSBad++
	}
}

func (c *Cache) dnsAnswers(msg []byte) error {
	s := &c.dns
	s.ncnames, s.qstring, s.qname.n = 0, "", 0
	qd := binary.BigEndian.Uint16(msg[4:6])
	an := int(binary.BigEndian.Uint16(msg[6:8]))
	off := 12
	for i := range int(qd) {
		var err error
		name := &s.owner
		if i == 0 {
			name = &s.qname // only the first question names the answers
		}
		if off, err = readName(msg, off, name); err != nil {
			return err
		}
		off += 4 // type, class
	}
	for range an {
		var err error
		if off, err = readName(msg, off, &s.owner); err != nil {
			return err
		}
		if off+10 > len(msg) {
			return errDNSShort
		}
		typ := binary.BigEndian.Uint16(msg[off:])
		class := binary.BigEndian.Uint16(msg[off+2:])
		rdlen := int(binary.BigEndian.Uint16(msg[off+8:]))
		rdata := off + 10
		if off = rdata + rdlen; off > len(msg) {
			return errDNSShort
		}
		if class != dnsClassIN {
			continue
		}
		switch {
		case typ == dnsTypeA && rdlen == 4:
			c.learnAnswer(netip.AddrFrom4([4]byte(msg[rdata:off])))
		case typ == dnsTypeAAAA && rdlen == 16:
			c.learnAnswer(netip.AddrFrom16([16]byte(msg[rdata:off])).Unmap())
		case typ == dnsTypeCNAME && s.ncnames < maxCNAMEs:
			cn := &s.cnames[s.ncnames]
			if _, err := readName(msg[:off], rdata, &cn.to); err != nil {
				return err
			}
			cn.from = s.owner
			s.ncnames++
		}
	}
	return nil
}

// learnAnswer stores addr under the name resolution of the current owner.
func (c *Cache) learnAnswer(addr netip.Addr) {
	s := &c.dns
	name := &s.owner
	if s.qname.n > 0 && s.leadsFromQuestion(name) {
		if s.qstring == "" {
			s.qstring = string(s.qname.b[:s.qname.n])
		}
		c.Learn(addr, s.qstring)
	} else {
		if !validHost(name.b[:name.n]) {
			return
		}
		c.Learn(addr, string(name.b[:name.n]))
	}
	c.stats.DNSAddrs++
}

// leadsFromQuestion walks the CNAMEs backwards from name to the question.
func (s *dnsScratch) leadsFromQuestion(name *dnsName) bool {
	cur := name
	for range maxCNAMEs + 1 {
		if cur.equal(&s.qname) {
			return validHost(s.qname.b[:s.qname.n])
		}
		found := false
		for i := range s.ncnames {
			if s.cnames[i].to.equal(cur) {
				cur, found = &s.cnames[i].from, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return false // a CNAME loop
}

// readName decodes the possibly compressed name at off into dst and returns
// the offset just past it in the record. Pointer loops stop at maxJumps;
// names longer than maxName are refused.
func readName(msg []byte, off int, dst *dnsName) (next int, err error) {
	dst.n, next = 0, -1
	for jumps := 0; ; {
		if off >= len(msg) {
			return 0, errDNSShort
		}
		l := int(msg[off])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if next < 0 {
					next = off + 1
				}
				return next, nil
			}
			if off+1+l > len(msg) {
				return 0, errDNSShort
			}
			sep := 0
			if dst.n > 0 {
				sep = 1
			}
			if dst.n+sep+l > maxName {
				return 0, errDNSName
			}
			if sep == 1 {
				dst.b[dst.n] = '.'
				dst.n++
			}
			dst.n += copy(dst.b[dst.n:], msg[off+1:off+1+l])
			lower(dst.b[dst.n-l : dst.n])
			off += 1 + l
		case 0xc0:
			if off+2 > len(msg) {
				return 0, errDNSShort
			}
			if next < 0 {
				next = off + 2
			}
			if jumps++; jumps > maxJumps {
				return 0, errDNSLoop
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
		default: // 0x40, 0x80: extended label types, obsolete
			return 0, errDNSName
		}
	}
}

// QuestionName returns the first question's name of a standard DNS
// message (query or response; the caller knows which side sent it):
// lower-case, without the trailing dot, "" when the message is not a
// standard query/response, has no question, or its name does not decode
// or is the root. Bytes outside printable ASCII become '?', so the name is
// valid UTF-8 (binary tunnel encodings still give distinct names). The
// returned string is the only allocation.
func QuestionName(msg []byte) string {
	if len(msg) < 12 {
		return ""
	}
	const opcode = 0x7800
	if binary.BigEndian.Uint16(msg[2:4])&opcode != 0 || binary.BigEndian.Uint16(msg[4:6]) == 0 {
		return ""
	}
	var name dnsName
	if _, err := readName(msg, 12, &name); err != nil || name.n == 0 {
		return ""
	}
	b := name.b[:name.n]
	for i, ch := range b {
		if ch <= ' ' || ch > '~' {
			b[i] = '?'
		}
	}
	for len(b) > 0 && b[len(b)-1] == '.' { // a label ending in a '.' byte
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return ""
	}
	return string(b)
}
