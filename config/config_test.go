package config

import (
	"github.com/outflowhq/outflow/collector/engine"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outflow.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsValid(t *testing.T) {
	f, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Validate("(defaults)"); err != nil {
		t.Fatal(err)
	}
	if f.Sensor.FlowTable.TCPIdle != 5*time.Minute || f.Sensor.FlowTable.OtherIdle != time.Minute ||
		f.Sensor.FlowTable.ClosedIdle != 10*time.Second || f.Sensor.FlowTable.ActiveInterval != 10*time.Second {
		t.Fatalf("flow table defaults: %+v", f.Sensor.FlowTable)
	}
	if got := strings.Join(f.Sensor.Internal, ","); got != "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7" {
		t.Fatalf("internal = %s", got)
	}
}

func TestOverlay(t *testing.T) {
	p := write(t, "sensor:\n  id: gw7\n  flowtable:\n    tcp_idle: 2m\ncollector:\n  listen: 127.0.0.1:9999\n")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Sensor.ID != "gw7" || f.Sensor.FlowTable.TCPIdle != 2*time.Minute || f.Sensor.FlowTable.OtherIdle != time.Minute || f.Collector.Listen != "127.0.0.1:9999" {
		t.Fatalf("overlay: %+v %+v", f.Sensor, f.Collector.Listen)
	}
}

func TestErrorsNameFileAndKey(t *testing.T) {
	cases := []struct {
		name, body string
		load       bool // error expected from Load (else from Validate)
		want       []string
	}{
		{"unknown key", "sensor:\n  flowtabel:\n    max_flows: 10\n", true, []string{"outflow.yaml", "line 2", `unknown key "flowtabel"`}},
		{"removed key", "collector:\n  notify:\n    slack: [{url: \"https://hooks.example/x\", queue_size: 10}]\n", true,
			[]string{"line 3", `unknown key "queue_size" (removed: notifiers deliver from the alert stream, bounded by collector.streams.alert_max_bytes)`}},
		{"bad duration", "sensor:\n  flowtable:\n    tcp_idle: soon\n", true, []string{"outflow.yaml", "line 3", "soon"}},
		{"bad type", "sensor:\n  fanout: many\n", true, []string{"outflow.yaml", "line 2", "many"}},
		{"not yaml", "sensor: [\n", true, []string{"outflow.yaml"}},
		{"bad cidr", "sensor:\n  internal: [10.0.0.0/8, 300.1.0.0/16]\n", false, []string{"outflow.yaml", "sensor.internal", `"300.1.0.0/16"`}},
		{"bad id", "sensor:\n  id: gw.1\n", false, []string{"outflow.yaml", "sensor.id"}},
		{"zero flows", "sensor:\n  flowtable:\n    max_flows: 0\n", false, []string{"outflow.yaml: sensor.flowtable.max_flows: must be > 0, got 0"}},
		{"negative idle", "sensor:\n  flowtable:\n    closed_idle: -1s\n", false, []string{"sensor.flowtable.closed_idle: must be a positive duration"}},
		{"bad filter", "collector:\n  filter: flows.>\n", false, []string{"collector.filter"}},
		{"bad webhook", "collector:\n  notify:\n    webhooks:\n      - url: ftp://x\n", false, []string{"notify.webhooks[0].url"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(t, c.body)
			f, err := Load(p)
			if !c.load {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				err = f.Validate(p)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v", err)
	}
}

// defaults.yaml shows every detection parameter with the engine's own
// default, so what `outflow config` prints is what runs.
func TestDefaultsMatchEngine(t *testing.T) {
	f := &File{}
	if err := decode("defaults.yaml", Defaults, f); err != nil {
		t.Fatal(err)
	}
	got, want := f.Collector.Detect, engine.DefaultConfig()
	if len(got.PeerGroups) == 0 && len(want.PeerGroups) == 0 {
		got.PeerGroups, want.PeerGroups = nil, nil // "[]" in YAML is the default nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults.yaml detect:\n %+v\nengine.DefaultConfig():\n %+v", got, want)
	}
}
