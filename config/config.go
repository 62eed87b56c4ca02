package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/outflowhq/outflow/collector/api"
	"github.com/outflowhq/outflow/collector/engine"
	"github.com/outflowhq/outflow/collector/notify"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/transport"
	"go.yaml.in/yaml/v3"
)

//go:embed defaults.yaml
var Defaults []byte

// File is the whole configuration file.
type File struct {
	Sensor    Sensor    `yaml:"sensor"`
	Collector Collector `yaml:"collector"`
}

// Sensor is the sensor section.
type Sensor struct {
	ID         string    `yaml:"id"`
	NATS       string    `yaml:"nats"`
	Internal   []string  `yaml:"internal"`
	Pcap       []string  `yaml:"pcap"`
	Interfaces []string  `yaml:"interfaces"`
	Fanout     int       `yaml:"fanout"`
	EBPF       EBPF      `yaml:"ebpf"`
	Listen     string    `yaml:"listen"`
	Flows      string    `yaml:"flows"`
	FlowTable  FlowTable `yaml:"flowtable"`
	Export     Export    `yaml:"export"`
}

// EBPF configures the gateway source: kernel programs on TCX.
type EBPF struct {
	Interfaces []string `yaml:"interfaces"`
	Attach     string   `yaml:"attach"` // auto, tcx or tc
	// NameEvents limits the frames copied to user space for names.
	NameEvents struct {
		Rate  uint32 `yaml:"rate"`  // per second per CPU
		Burst uint32 `yaml:"burst"` // token bucket depth
	} `yaml:"name_events"`
}

// FlowTable mirrors flowtable.Config.
type FlowTable struct {
	MaxFlows       int           `yaml:"max_flows"`
	TCPIdle        time.Duration `yaml:"tcp_idle"`
	OtherIdle      time.Duration `yaml:"other_idle"`
	ClosedIdle     time.Duration `yaml:"closed_idle"`
	ActiveInterval time.Duration `yaml:"active_interval"`
}

// Export configures batching.
type Export struct {
	Interval   time.Duration `yaml:"interval"`
	BatchSize  int           `yaml:"batch_size"`
	Queue      int           `yaml:"queue"`
	Partitions uint32        `yaml:"partitions"`
}

// Collector is the collector section.
type Collector struct {
	DataDir string `yaml:"data_dir"`
	Listen  string `yaml:"listen"`
	NATS    struct {
		URL    string `yaml:"url"`
		Listen string `yaml:"listen"`
	} `yaml:"nats"`
	Durable      string  `yaml:"durable"`
	Filter       string  `yaml:"filter"`
	Streams      Streams `yaml:"streams"`
	RecentAlerts int     `yaml:"recent_alerts"`
	// ExternalURL is where people reach this collector's web UI (behind a
	// proxy, say): alerts link to ExternalURL/ui/alerts/<id>. Empty: no links.
	ExternalURL string `yaml:"external_url"`
	// HostNames names internal hosts in alerts and pages: address → name.
	HostNames map[string]string `yaml:"host_names"`
	API       api.Config        `yaml:"api"`
	Detect    engine.Config     `yaml:"detect"`
	Notify    notify.Config     `yaml:"notify"`
}

// Streams bounds the JetStream streams.
type Streams struct {
	FlowMaxAge    time.Duration `yaml:"flow_max_age"`
	FlowMaxBytes  int64         `yaml:"flow_max_bytes"`
	AlertMaxAge   time.Duration `yaml:"alert_max_age"`
	AlertMaxBytes int64         `yaml:"alert_max_bytes"`
}

// StreamConfig converts to the transport's form.
func (s Streams) StreamConfig() transport.StreamConfig {
	return transport.StreamConfig{FlowMaxAge: s.FlowMaxAge, FlowMaxBytes: s.FlowMaxBytes, AlertMaxAge: s.AlertMaxAge, AlertMaxBytes: s.AlertMaxBytes}
}

// Load returns the defaults overlaid with path (none when path is "").
func Load(path string) (*File, error) {
	f := &File{}
	f.Collector.Detect = engine.DefaultConfig()
	if err := decode("defaults.yaml (embedded)", Defaults, f); err != nil {
		return nil, err
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decode(path, data, f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// removedKeys say why a key that older versions read is gone.
var removedKeys = map[string]string{
	"queue_size": "removed: notifiers deliver from the alert stream, bounded by collector.streams.alert_max_bytes",
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type config\.(\w+)|field (\S+) not found in type (\S+)`)

func decode(name string, data []byte, f *File) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, e := range te.Errors {
				msgs[i] = unknownField.ReplaceAllString(e, "unknown key \"$1$3\"")
				for key, why := range removedKeys {
					if strings.HasSuffix(msgs[i], "unknown key \""+key+"\"") {
						msgs[i] += " (" + why + ")"
					}
				}
			}
			return fmt.Errorf("config %s: %s", name, strings.Join(msgs, "; "))
		}
		return fmt.Errorf("config %s: %w", name, err)
	}
	return nil
}

// Validate checks values; errors name the file and the key.
func (f *File) Validate(name string) error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("config %s: %s: %s", name, key, fmt.Sprintf(format, a...)))
	}
	s := &f.Sensor
	if s.ID != "" {
		if err := transport.ValidToken(s.ID); err != nil {
			bad("sensor.id", "%v", err)
		}
	}
	if _, err := flow.ParseNetworks(s.Internal); err != nil {
		bad("sensor.internal", "%v", err)
	}
	if s.Fanout < 1 || s.Fanout > 64 {
		bad("sensor.fanout", "must be 1..64, got %d", s.Fanout)
	}
	switch s.EBPF.Attach {
	case "auto", "tcx", "tc":
	default:
		bad("sensor.ebpf.attach", "must be auto, tcx or tc, got %q", s.EBPF.Attach)
	}
	if s.EBPF.NameEvents.Rate < 1 {
		bad("sensor.ebpf.name_events.rate", "must be > 0, got %d", s.EBPF.NameEvents.Rate)
	}
	if s.EBPF.NameEvents.Burst < 1 {
		bad("sensor.ebpf.name_events.burst", "must be > 0, got %d", s.EBPF.NameEvents.Burst)
	}
	ft := &s.FlowTable
	if ft.MaxFlows < 1 {
		bad("sensor.flowtable.max_flows", "must be > 0, got %d", ft.MaxFlows)
	}
	for key, d := range map[string]time.Duration{"tcp_idle": ft.TCPIdle, "other_idle": ft.OtherIdle, "closed_idle": ft.ClosedIdle, "active_interval": ft.ActiveInterval} {
		if d <= 0 {
			bad("sensor.flowtable."+key, "must be a positive duration, got %v", d)
		}
	}
	e := &s.Export
	if e.Interval <= 0 {
		bad("sensor.export.interval", "must be a positive duration, got %v", e.Interval)
	}
	if e.BatchSize < 1 || e.BatchSize > 65536 {
		bad("sensor.export.batch_size", "must be 1..65536, got %d", e.BatchSize)
	}
	if e.Queue < 1 {
		bad("sensor.export.queue", "must be > 0, got %d", e.Queue)
	}
	if e.Partitions < 1 || e.Partitions > 1024 {
		bad("sensor.export.partitions", "must be 1..1024, got %d", e.Partitions)
	}
	c := &f.Collector
	if c.NATS.URL == "" && c.DataDir == "" {
		bad("collector.data_dir", "required with the embedded NATS server")
	}
	if err := transport.ValidToken(c.Durable); err != nil {
		bad("collector.durable", "%v", err)
	}
	if !strings.HasPrefix(c.Filter, "outflow.flows.") {
		bad("collector.filter", "must start with outflow.flows., got %q", c.Filter)
	}
	if c.RecentAlerts < 1 {
		bad("collector.recent_alerts", "must be > 0, got %d", c.RecentAlerts)
	}
	if c.ExternalURL != "" {
		if u, err := url.Parse(c.ExternalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("collector.external_url", "want an absolute http or https URL, got %q", c.ExternalURL)
		}
	}
	for addr := range c.HostNames {
		if _, err := netip.ParseAddr(addr); err != nil {
			bad("collector.host_names", "key %q is not an IP address", addr)
		}
	}
	if err := c.API.Validate(); err != nil {
		bad("collector", "%v", err)
	}
	if err := c.Detect.Validate(); err != nil {
		bad("collector.detect", "%v", err)
	}
	if err := c.Notify.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("config %s: %w", name, err))
	}
	return errors.Join(errs...)
}
