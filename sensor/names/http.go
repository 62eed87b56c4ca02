package names

import "bytes"

// httpMethods start a request line; the trailing space avoids matching
// words that merely begin like a method.
var httpMethods = [...]string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

// maxHeaderScan bounds the search for Host in a request's headers.
const maxHeaderScan = 8192

// httpHost returns the Host header of an HTTP/1.x request, without port.
// Only the captured first segment is searched.
func httpHost(b []byte) ([]byte, bool) {
	isRequest := false
	for _, m := range httpMethods {
		if len(b) >= len(m) && string(b[:len(m)]) == m {
			isRequest = true
			break
		}
	}
	if !isRequest {
		return nil, false
	}
	b = b[:min(len(b), maxHeaderScan)]
	// skip the request line; then one header per line until a blank line
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, false
		}
		b = b[i+1:]
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			return nil, false // a line cut by the capture may hold half a name
		}
		line := bytes.TrimRight(b[:j], "\r")
		if len(line) == 0 {
			return nil, false // end of headers
		}
		if len(line) > 5 && line[4] == ':' && bytes.EqualFold(line[:4], []byte("host")) {
			host := stripPort(bytes.TrimSpace(line[5:]))
			return host, validHost(host)
		}
	}
}

// stripPort removes a ":port" suffix and the brackets of an IPv6 literal.
func stripPort(h []byte) []byte {
	if len(h) > 0 && h[0] == '[' {
		if end := bytes.IndexByte(h, ']'); end > 0 {
			return h[1:end]
		}
		return nil
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 && bytes.IndexByte(h[:i], ':') < 0 {
		return trimDot(h[:i]) // one colon: host:port (several would be a bare IPv6 address)
	}
	return trimDot(h)
}
