package allow

import "net/netip"

// maxName is the longest domain suffix accepted (RFC 1035's 253 characters
// of presentation form without the trailing dot).
const maxName = 253

// suffixIndex maps normalized domain suffixes to rule indexes (ascending).
type suffixIndex struct {
	rules  map[string][]int32
	maxLen int
}

// parseSuffix normalizes a configured suffix (lower case, no trailing dot)
// and checks it is a domain name: labels of 1–63 letters, digits, '-' or
// '_', at most 253 characters. Wildcards are refused: a suffix already
// covers every name below it.
func parseSuffix(s string) (string, bool) {
	if n := len(s); n > 0 && s[n-1] == '.' {
		s = s[:n-1]
	}
	if len(s) == 0 || len(s) > maxName {
		return "", false
	}
	b := []byte(s)
	label := 0
	for i, c := range b {
		switch {
		case c == '.':
			if label == 0 {
				return "", false
			}
			label = 0
			continue
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return "", false
		}
		if label++; label > 63 {
			return "", false
		}
	}
	if label == 0 {
		return "", false
	}
	return string(b), true
}

// bestDomain returns the lowest rule index below best that covers host
// and detector and whose domains hold a suffix that name equals or ends
// with at a label boundary (ignoring ASCII case and one trailing dot). Only
// the last maxLen+1 bytes of name can take part in a match, so they are
// lowered into a stack buffer and looked up without allocating.
func (l *List) bestDomain(name string, host netip.Addr, detector string, best int32) int32 {
	if n := len(name); n > 0 && name[n-1] == '.' {
		name = name[:n-1]
	}
	if len(name) == 0 || len(l.domains.rules) == 0 {
		return best
	}
	var buf [maxName + 1]byte
	k := min(len(name), l.domains.maxLen+1)
	tail := buf[:k]
	for i := range k {
		c := name[len(name)-k+i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		tail[i] = c
	}
	if k == len(name) {
		best = l.firstRule(l.domains.rules[string(tail)], host, detector, best)
	}
	for i, c := range tail {
		if c == '.' {
			best = l.firstRule(l.domains.rules[string(tail[i+1:])], host, detector, best)
		}
	}
	return best
}
