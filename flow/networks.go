package flow

import (
	"fmt"
	"net/netip"
	"strings"
)

// DefaultInternal are the networks treated as internal when none are
// configured: RFC 1918, RFC 6598 shared address space, and IPv6 ULA.
var DefaultInternal = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"}

// Networks is an immutable set of prefixes. Contains is called per packet,
// so it is a linear scan over a short slice with no allocation.
type Networks struct {
	v4 []netip.Prefix
	v6 []netip.Prefix
}

// ParseNetworks parses CIDR strings. An error names the offending entry.
func ParseNetworks(cidrs []string) (*Networks, error) {
	n := &Networks{}
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			// Accept a bare address as a host prefix.
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return nil, fmt.Errorf("internal network %q: not a CIDR prefix or address", c)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		p = p.Masked()
		if p.Addr().Is4() || p.Addr().Is4In6() {
			n.v4 = append(n.v4, netip.PrefixFrom(p.Addr().Unmap(), min(p.Bits(), 32)))
		} else {
			n.v6 = append(n.v6, p)
		}
	}
	return n, nil
}

// MustParseNetworks is ParseNetworks for constants; it panics on error.
func MustParseNetworks(cidrs []string) *Networks {
	n, err := ParseNetworks(cidrs)
	if err != nil {
		panic(err)
	}
	return n
}

// Contains reports whether a is inside one of the prefixes.
func (n *Networks) Contains(a netip.Addr) bool {
	if a.Is4In6() {
		a = a.Unmap()
	}
	list := n.v6
	if a.Is4() {
		list = n.v4
	}
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Classify returns the direction of a flow from initiator src to responder dst.
func (n *Networks) Classify(src, dst netip.Addr) Direction {
	si, di := n.Contains(src), n.Contains(dst)
	switch {
	case si && !di:
		return Outbound
	case !si && di:
		return Inbound
	case si && di:
		return Internal
	}
	return External
}

// Strings returns the prefixes in text form, IPv4 first.
func (n *Networks) Strings() []string {
	out := make([]string, 0, len(n.v4)+len(n.v6))
	for _, p := range n.v4 {
		out = append(out, p.String())
	}
	for _, p := range n.v6 {
		out = append(out, p.String())
	}
	return out
}
