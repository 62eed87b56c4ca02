package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Config lists the notifiers, under the "notify" key of the collector's
// configuration. Every alert goes to all of them.
type Config struct {
	JSONL    []JSONLConfig   `yaml:"jsonl"`
	Webhooks []WebhookConfig `yaml:"webhooks"`
	Slack    []SlackConfig   `yaml:"slack"`
}

// Build validates cfg, opens every notifier and returns a Dispatcher
// delivering to all of them. Errors name the key: notify.webhooks[1].url.
func Build(cfg Config, set *metrics.Set, log *slog.Logger) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := NewDispatcher(set, log)
	fail := func(key string, err error) (*Dispatcher, error) {
		_ = d.Close(context.Background()) // nothing queued yet: returns at once
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	for i, c := range cfg.JSONL {
		c.Name = defaultName(c.Name, "jsonl", i)
		n, err := NewJSONL(c)
		if err != nil {
			return fail(key("jsonl", i, ""), err)
		}
		if err := d.Add(n, Options{QueueSize: c.QueueSize}); err != nil {
			_ = n.Close()
			return fail(key("jsonl", i, "name"), err)
		}
	}
	for i, c := range cfg.Webhooks {
		c.Name = defaultName(c.Name, "webhook", i)
		n, err := NewWebhook(c)
		if err != nil {
			return fail(key("webhooks", i, ""), err)
		}
		if err := d.Add(n, Options{QueueSize: c.QueueSize, Retry: &c.Retry}); err != nil {
			return fail(key("webhooks", i, "name"), err)
		}
	}
	for i, c := range cfg.Slack {
		c.Name = defaultName(c.Name, "slack", i)
		n, err := NewSlack(c)
		if err != nil {
			return fail(key("slack", i, ""), err)
		}
		if err := d.Add(n, Options{QueueSize: c.QueueSize, Retry: &c.Retry}); err != nil {
			return fail(key("slack", i, "name"), err)
		}
	}
	return d, nil
}

// Validate checks cfg without opening anything and reports every problem,
// each prefixed by its key.
func (cfg Config) Validate() error {
	var errs []error
	names := map[string]string{} // notifier name -> key that defined it
	check := func(list string, i int, name string) {
		k := key(list, i, "name")
		if err := checkName(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		} else if prev, dup := names[name]; dup {
			errs = append(errs, fmt.Errorf("%s: %q is already the name of %s", k, name, prev))
		}
		names[name] = strings.TrimSuffix(k, ".name")
	}
	bad := func(list string, i int, field string, err error) {
		errs = append(errs, fmt.Errorf("%s: %w", key(list, i, field), err))
	}
	for i, c := range cfg.JSONL {
		check("jsonl", i, defaultName(c.Name, "jsonl", i))
		if c.Path == "" {
			bad("jsonl", i, "path", errors.New(`missing (a file, or "-" for stdout)`))
		}
		if c.QueueSize < 0 {
			bad("jsonl", i, "queue_size", errors.New("negative"))
		}
	}
	for i, c := range cfg.Webhooks {
		check("webhooks", i, defaultName(c.Name, "webhook", i))
		errs = append(errs, checkHTTP("webhooks", i, c.URL, c.Timeout, c.Retry, c.QueueSize)...)
		if err := checkHeaders(c.Headers); err != nil {
			bad("webhooks", i, "headers", err)
		}
	}
	for i, c := range cfg.Slack {
		check("slack", i, defaultName(c.Name, "slack", i))
		errs = append(errs, checkHTTP("slack", i, c.URL, c.Timeout, c.Retry, c.QueueSize)...)
	}
	return errors.Join(errs...)
}

func checkHTTP(list string, i int, url string, timeout time.Duration, r RetryPolicy, queue int) []error {
	var errs []error
	bad := func(field string, err error) {
		errs = append(errs, fmt.Errorf("%s: %w", key(list, i, field), err))
	}
	if _, err := parseHTTPURL(url); err != nil {
		bad("url", err)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"timeout", timeout},
		{"retry.initial_backoff", r.InitialBackoff},
		{"retry.max_backoff", r.MaxBackoff},
		{"retry.max_elapsed", r.MaxElapsed},
	} {
		if d.v < 0 {
			bad(d.field, errors.New("negative"))
		}
	}
	if r.Attempts < 0 {
		bad("retry.attempts", errors.New("negative"))
	}
	if queue < 0 {
		bad("queue_size", errors.New("negative"))
	}
	return errs
}

// key names a config key as the user wrote it: notify.webhooks[1].url.
func key(list string, i int, field string) string {
	k := fmt.Sprintf("notify.%s[%d]", list, i)
	if field != "" {
		k += "." + field
	}
	return k
}

// defaultName gives unnamed notifiers their kind, numbered after the first.
func defaultName(name, kind string, i int) string {
	switch {
	case name != "":
		return name
	case i == 0:
		return kind
	}
	return fmt.Sprintf("%s-%d", kind, i)
}

// checkName keeps names usable as metric label values and in logs.
func checkName(name string) error {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("%q: use letters, digits, '-', '_' and '.'", name)
		}
	}
	if name == "" {
		return errors.New("empty")
	}
	return nil
}

// checkHeaders rejects what net/http would refuse at send time, where it
// would look like a delivery failure instead of a config error.
func checkHeaders(h map[string]string) error {
	for name, value := range h {
		if name == "" || strings.ContainsFunc(name, func(r rune) bool {
			// RFC 9110 token characters only.
			return r <= ' ' || r > '~' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
		}) {
			return fmt.Errorf("invalid header name %q", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return fmt.Errorf("header %s: value contains a line break or NUL", name)
		}
	}
	return nil
}
