package names

// The ClientHello is parsed just far enough to reach the server_name
// extension (RFC 8446 4.1.2, RFC 6066 3). Every length is checked against
// what was captured; a hello split over segments yields nothing unless the
// name is in the first one.

const (
	tlsHandshake   = 0x16
	tlsClientHello = 0x01
	extServerName  = 0x0000
	sniHostName    = 0x00
)

// cursor reads big-endian fields; a read past the end sets bad and returns
// zeros, so parsing code checks once at the end of a step.
type cursor struct {
	b   []byte
	bad bool
}

func (c *cursor) take(n int) []byte {
	if c.bad || n > len(c.b) {
		c.bad = true
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) u8() int {
	if v := c.take(1); v != nil {
		return int(v[0])
	}
	return 0
}

func (c *cursor) u16() int {
	if v := c.take(2); v != nil {
		return int(v[0])<<8 | int(v[1])
	}
	return 0
}

func (c *cursor) u24() int {
	if v := c.take(3); v != nil {
		return int(v[0])<<16 | int(v[1])<<8 | int(v[2])
	}
	return 0
}

// sub returns a cursor over the next n bytes, or over what is left when the
// capture ends first (a ClientHello is parsed as far as it was captured).
func (c *cursor) sub(n int) cursor {
	if c.bad {
		return cursor{bad: true}
	}
	n = min(n, len(c.b))
	s := cursor{b: c.b[:n]}
	c.b = c.b[n:]
	return s
}

// clientHelloSNI returns the host name of a TLS ClientHello's SNI.
func clientHelloSNI(b []byte) ([]byte, bool) {
	rec := cursor{b: b}
	if rec.u8() != tlsHandshake || rec.u8() != 3 { // content type, major version
		return nil, false
	}
	rec.u8() // minor version
	body := rec.sub(rec.u16())
	if body.u8() != tlsClientHello {
		return nil, false
	}
	hello := body.sub(body.u24())
	hello.take(2 + 32)      // legacy version, random
	hello.take(hello.u8())  // session id
	hello.take(hello.u16()) // cipher suites
	hello.take(hello.u8())  // compression methods
	exts := hello.sub(hello.u16())
	for !exts.bad && len(exts.b) >= 4 {
		typ := exts.u16()
		ext := exts.sub(exts.u16())
		if typ != extServerName {
			continue
		}
		list := ext.sub(ext.u16())
		for !list.bad && len(list.b) >= 3 {
			kind := list.u8()
			name := list.take(list.u16())
			if kind == sniHostName && !list.bad {
				name = trimDot(name)
				return name, validHost(name)
			}
		}
		return nil, false
	}
	return nil, false
}

func trimDot(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '.' {
		return b[:len(b)-1]
	}
	return b
}
