package scenario

import (
	"bytes"
	"crypto/sha256"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func smallConfig() Config {
	start := time.Date(2025, 3, 7, 0, 0, 0, 0, time.UTC) // a Friday: weekday and weekend
	return Config{
		Hosts: 5, Days: 2, Start: start, Seed: 42,
		Incidents: []Incident{{Kind: KindUpload, Host: HostAddr(3), At: start.Add(26 * time.Hour), Bytes: 5 << 20, Duration: time.Minute}},
	}
}

func hashOf(t *testing.T, cfg Config) ([32]byte, Truth) {
	t.Helper()
	var buf bytes.Buffer
	tr, err := Generate(cfg, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(buf.Bytes()), tr
}

func TestDeterministic(t *testing.T) {
	a, ta := hashOf(t, smallConfig())
	b, tb := hashOf(t, smallConfig())
	if a != b || ta.Packets != tb.Packets {
		t.Fatalf("same config gave different captures: %x (%d packets) vs %x (%d)", a, ta.Packets, b, tb.Packets)
	}
	other := smallConfig()
	other.Seed++
	if c, _ := hashOf(t, other); c == a {
		t.Fatal("a different seed gave the same capture")
	}
	t.Logf("small config: %d packets, sha256 %x", ta.Packets, a)
}

// Incidents have their own random streams: adding one leaves every
// background packet as it was.
func TestIncidentLeavesBackground(t *testing.T) {
	with := smallConfig()
	without := smallConfig()
	without.Incidents = nil
	_, tw := hashOf(t, with)
	_, to := hashOf(t, without)
	inc := tw.Incidents[0]
	// The incident adds its own packets and two DNS packets, nothing else.
	if got, want := tw.Packets-to.Packets, inc.OutPackets+inc.InPackets+2; got != want {
		t.Fatalf("incident added %d packets, want %d", got, want)
	}
}

func TestConfigErrors(t *testing.T) {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	ok := Incident{Kind: KindUpload, Host: HostAddr(0), At: start.Add(time.Hour), Bytes: 1 << 20}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no hosts", func(c *Config) { c.Hosts = 0 }, "hosts"},
		{"no days", func(c *Config) { c.Days = 0 }, "days"},
		{"snaplen", func(c *Config) { c.Snaplen = 20 }, "snaplen"},
		{"kind", func(c *Config) { c.Incidents[0].Kind = "teleport" }, "unknown kind"},
		{"host", func(c *Config) { c.Incidents[0].Host = netip.MustParseAddr("10.20.1.99") }, "not one of"},
		{"late", func(c *Config) { c.Incidents[0].At = start.Add(24 * time.Hour) }, "outside"},
		{"tiny", func(c *Config) { c.Incidents[0].Bytes = 10 }, "bytes"},
		{"v6", func(c *Config) { c.Incidents[0].Remote = netip.MustParseAddr("2001:db8::1") }, "IPv4"},
		{"p2p remote", func(c *Config) {
			c.Incidents[0].Kind, c.Incidents[0].Remote = KindP2P, netip.MustParseAddr("203.0.113.5")
		}, "many remotes"},
		{"few beacons", func(c *Config) { c.Incidents[0].Kind, c.Incidents[0].Duration = KindBeaconUpload, 10*time.Minute }, "beacons"},
		{"long beacon span", func(c *Config) { c.Incidents[0].Kind, c.Incidents[0].Duration = KindBeaconUpload, 23*time.Hour }, "outside"},
		{"documents count", func(c *Config) { c.Incidents[0].Kind, c.Incidents[0].Count = KindDocuments, 5000 }, "per count"},
		{"benign", func(c *Config) { c.Benign.Backups = 3 }, "benign"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Hosts: 2, Days: 1, Start: start, Incidents: []Incident{ok}}
			tc.edit(&cfg)
			_, err := Generate(cfg, &countingWriter{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestHostAddr(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
	}{{0, "10.20.1.10"}, {239, "10.20.1.249"}, {240, "10.20.2.10"}} {
		if got := HostAddr(tc.i).String(); got != tc.want {
			t.Errorf("HostAddr(%d) = %s, want %s", tc.i, got, tc.want)
		}
		if !isHost(HostAddr(tc.i), tc.i+1) || isHost(HostAddr(tc.i), tc.i) {
			t.Errorf("isHost(HostAddr(%d)) wrong", tc.i)
		}
	}
}
