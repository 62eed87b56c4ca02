package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultTimeout bounds one HTTP attempt when the config sets none.
const DefaultTimeout = 10 * time.Second

// bodyExcerptLen is how much of an error response ends up in the error.
const bodyExcerptLen = 200

// httpTarget is the part every HTTP driver shares: one POST of a JSON body,
// with errors classified for Retry. The URL never appears in errors or logs
// beyond scheme and host, because webhook URLs (Slack's above all) are
// secrets.
type httpTarget struct {
	name    string
	url     string
	where   string // scheme://host, safe to print
	headers http.Header
	client  *http.Client
}

func newHTTPTarget(name, rawURL string, headers map[string]string, timeout time.Duration) (*httpTarget, error) {
	u, err := parseHTTPURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("notify %s: url: %w", name, err)
	}
	if err := checkHeaders(headers); err != nil {
		return nil, fmt.Errorf("notify %s: %w", name, err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	h := make(http.Header, len(headers))
	for k, v := range headers {
		h.Set(k, v)
	}
	return &httpTarget{
		name:    name,
		url:     rawURL,
		where:   u.Scheme + "://" + u.Host,
		headers: h,
		client:  &http.Client{Timeout: timeout},
	}, nil
}

// parseHTTPURL accepts absolute http and https URLs only.
func parseHTTPURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("missing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, withoutURL(err)
	}
	switch {
	case u.Scheme == "":
		return nil, errors.New("missing scheme")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return nil, errors.New("missing host")
	}
	return u, nil
}

// withoutURL unwraps a *url.Error, whose message quotes the secret URL.
func withoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

func (t *httpTarget) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify %s: POST %s: %w", t.name, t.where, withoutURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "outflow-notify")
	for k, v := range t.headers {
		req.Header[k] = v
	}
	resp, err := t.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("notify %s: POST %s: %w", t.name, t.where, context.Cause(ctx))
		}
		return &transientError{fmt.Errorf("notify %s: POST %s: %w", t.name, t.where, withoutURL(err))}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	return &StatusError{
		Notifier:   t.name,
		Status:     resp.StatusCode,
		Body:       excerpt(resp.Body),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// excerpt reads the start of an error body as one short printable line.
func excerpt(r io.Reader) string {
	buf, _ := io.ReadAll(io.LimitReader(r, 4*bodyExcerptLen))
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(buf), "")), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > bodyExcerptLen {
		s = truncate(s, bodyExcerptLen)
	}
	return s
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 section 10.2.3). It returns 0 when absent, invalid or past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
