package notify

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/outflowhq/outflow/collector/alert"
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
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4*bodyExcerptLen))
	wait := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if resp.StatusCode == http.StatusTooManyRequests {
		// Discord also says it in the body, in fractions of a second.
		wait = max(wait, bodyRetryAfter(raw))
	}
	return &StatusError{
		Notifier:   t.name,
		Status:     resp.StatusCode,
		Body:       excerpt(raw),
		RetryAfter: wait,
	}
}

// bodyRetryAfter reads {"retry_after": seconds} from a 429 body, as Discord
// sends it (https://discord.com/developers/docs/topics/rate-limits); 0 when
// absent. A wait past an hour is not believed.
func bodyRetryAfter(body []byte) time.Duration {
	var v struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &v) != nil || v.RetryAfter <= 0 || v.RetryAfter > 3600 {
		return 0
	}
	return time.Duration(v.RetryAfter * float64(time.Second))
}

// excerpt renders the start of an error body as one short printable line.
func excerpt(buf []byte) string {
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

// jsonDriver is a Notifier that POSTs one JSON document per alert to an
// httpTarget; each HTTP driver gives it its own rendering.
type jsonDriver struct {
	target *httpTarget
	render func(*alert.Alert) ([]byte, error)
}

func newJSONDriver(name, rawURL string, headers map[string]string, timeout time.Duration, render func(*alert.Alert) ([]byte, error)) (jsonDriver, error) {
	t, err := newHTTPTarget(name, rawURL, headers, timeout)
	if err != nil {
		return jsonDriver{}, err
	}
	return jsonDriver{target: t, render: render}, nil
}

func (d *jsonDriver) Name() string { return d.target.name }

func (d *jsonDriver) Notify(ctx context.Context, a *alert.Alert) error {
	body, err := d.render(a)
	if err != nil {
		return fmt.Errorf("notify %s: encode alert %s: %w", d.target.name, a.ID, err)
	}
	return d.target.post(ctx, body)
}

func (d *jsonDriver) Close() error {
	d.target.client.CloseIdleConnections()
	return nil
}

// renderJSON adapts a function building a document to jsonDriver.render.
func renderJSON[T any](build func(*alert.Alert) T) func(*alert.Alert) ([]byte, error) {
	return func(a *alert.Alert) ([]byte, error) { return encodeJSON(build(a)) }
}
