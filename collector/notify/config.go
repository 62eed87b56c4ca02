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
// configuration. Every alert goes to each of them whose route matches.
type Config struct {
	JSONL         []JSONLConfig        `yaml:"jsonl"`
	Webhooks      []WebhookConfig      `yaml:"webhooks"`
	Slack         []SlackConfig        `yaml:"slack"`
	Teams         []TeamsConfig        `yaml:"teams"`
	Mattermost    []MattermostConfig   `yaml:"mattermost"`
	Discord       []DiscordConfig      `yaml:"discord"`
	GoogleChat    []GoogleChatConfig   `yaml:"googlechat"`
	Alertmanagers []AlertmanagerConfig `yaml:"alertmanagers"`
}

// Build validates cfg, opens every notifier and returns a Dispatcher
// delivering to all of them, each behind its route. Errors name the key:
// notify.webhooks[1].url.
func Build(cfg Config, set *metrics.Set, log *slog.Logger) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := NewDispatcher(set, log)
	fail := func(key string, err error) (*Dispatcher, error) {
		_ = d.Close(context.Background()) // nothing queued yet: returns at once
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	for _, e := range cfg.entries() {
		n, err := e.open()
		if err != nil {
			return fail(key(e.list, e.i, ""), err)
		}
		if err := d.Add(withRoute(n, e.route), Options{Retry: e.retry}); err != nil {
			_ = n.Close()
			return fail(key(e.list, e.i, "name"), err)
		}
	}
	return d, nil
}

// Validate checks cfg without opening anything and reports every problem,
// each prefixed by its key.
func (cfg Config) Validate() error {
	var errs []error
	names := map[string]string{} // notifier name -> key that defined it
	for _, e := range cfg.entries() {
		k := key(e.list, e.i, "name")
		if err := checkName(e.name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		} else if prev, dup := names[e.name]; dup {
			errs = append(errs, fmt.Errorf("%s: %q is already the name of %s", k, e.name, prev))
		}
		names[e.name] = key(e.list, e.i, "")
		problems := append(e.check(), e.route.check()...)
		for _, p := range problems {
			errs = append(errs, fmt.Errorf("%s: %w", key(e.list, e.i, p.field), p.err))
		}
	}
	return errors.Join(errs...)
}

// entry is one configured notifier, whatever its kind.
type entry struct {
	list  string // its list under notify: "webhooks"
	i     int    // its index in the list
	name  string
	retry *RetryPolicy // nil: one attempt (a local file)
	route Route
	check func() []fieldError // kind-specific problems
	open  func() (Notifier, error)
}

// entries lists every notifier in cfg, named by default where unnamed.
func (cfg Config) entries() []entry {
	var es []entry
	for i, c := range cfg.JSONL {
		c.Name = defaultName(c.Name, "jsonl", i)
		es = append(es, entry{list: "jsonl", i: i, name: c.Name, route: c.Route,
			check: func() []fieldError {
				if c.Path == "" {
					return []fieldError{{"path", errors.New(`missing (a file, or "-" for stdout)`)}}
				}
				return nil
			},
			open: func() (Notifier, error) { return NewJSONL(c) },
		})
	}
	for i, c := range cfg.Webhooks {
		c.Name = defaultName(c.Name, "webhook", i)
		es = append(es, httpEntry("webhooks", i, c.Name, c.URL, c.Headers, c.Timeout, &c.Retry, c.Route,
			func() (Notifier, error) { return NewWebhook(c) },
			func() []fieldError {
				if c.Format != "" && c.Format != FormatAlertmanager && c.Format != FormatOutflow {
					return []fieldError{{"format", errFormat(c.Format)}}
				}
				return nil
			}))
	}
	for _, chat := range []struct {
		list string
		cs   []ChatConfig
		open func(ChatConfig) (Notifier, error)
	}{
		{"slack", cfg.Slack, func(c ChatConfig) (Notifier, error) { return NewSlack(c) }},
		{"teams", cfg.Teams, func(c ChatConfig) (Notifier, error) { return NewTeams(c) }},
		{"mattermost", cfg.Mattermost, func(c ChatConfig) (Notifier, error) { return NewMattermost(c) }},
		{"discord", cfg.Discord, func(c ChatConfig) (Notifier, error) { return NewDiscord(c) }},
		{"googlechat", cfg.GoogleChat, func(c ChatConfig) (Notifier, error) { return NewGoogleChat(c) }},
	} {
		for i, c := range chat.cs {
			c.Name = defaultName(c.Name, chat.list, i)
			es = append(es, httpEntry(chat.list, i, c.Name, c.URL, nil, c.Timeout, &c.Retry, c.Route,
				func() (Notifier, error) { return chat.open(c) }, nil))
		}
	}
	for i, c := range cfg.Alertmanagers {
		c.Name = defaultName(c.Name, "alertmanager", i)
		es = append(es, httpEntry("alertmanagers", i, c.Name, c.URL, c.Headers, c.Timeout, &c.Retry, c.Route,
			func() (Notifier, error) { return NewAlertmanager(c) },
			func() []fieldError { return negative("ttl", int64(c.TTL)) }))
	}
	return es
}

// httpEntry is the entry of an HTTP driver: URL, headers, timeout and
// retry policy are checked alike, extra (may be nil) checks the rest.
func httpEntry(list string, i int, name, url string, headers map[string]string, timeout time.Duration, retry *RetryPolicy,
	route Route, open func() (Notifier, error), extra func() []fieldError) entry {
	return entry{list: list, i: i, name: name, retry: retry, route: route, open: open,
		check: func() []fieldError {
			var errs []fieldError
			if _, err := parseHTTPURL(url); err != nil {
				errs = append(errs, fieldError{"url", err})
			}
			if err := checkHeaders(headers); err != nil {
				errs = append(errs, fieldError{"headers", err})
			}
			errs = append(errs, negative("timeout", int64(timeout))...)
			errs = append(errs, negative("retry.attempts", int64(retry.Attempts))...)
			errs = append(errs, negative("retry.initial_backoff", int64(retry.InitialBackoff))...)
			errs = append(errs, negative("retry.max_backoff", int64(retry.MaxBackoff))...)
			errs = append(errs, negative("retry.max_elapsed", int64(retry.MaxElapsed))...)
			if extra != nil {
				errs = append(errs, extra()...)
			}
			return errs
		},
	}
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

// fieldError is one problem in one entry's config, named by its field.
type fieldError struct {
	field string
	err   error
}

func negative(field string, v int64) []fieldError {
	if v < 0 {
		return []fieldError{{field, errors.New("negative")}}
	}
	return nil
}
