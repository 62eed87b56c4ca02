package scenario

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// DefaultSnaplen is used when Config.Snaplen is 0: what a tap typically
// captures. It keeps every header and DNS answers for names of up to 52
// characters, but cuts TLS ClientHellos before the SNI (see README).
const DefaultSnaplen = 128

// Config describes one capture. Zero values of the optional fields take the
// defaults documented on each field.
type Config struct {
	Hosts int       // internal workstations, 1..4000; host i is HostAddr(i)
	Days  int       // capture length in days, 1..366
	Start time.Time // first instant; rhythm uses its UTC wall clock. Zero: Monday 2025-03-03 00:00 UTC
	Seed  int64     // same Config (Seed included) → byte-identical capture

	// Snaplen cuts frames to this many bytes; IP headers keep the true
	// total length. 0 means DefaultSnaplen; 65535 keeps whole frames.
	Snaplen int

	// SessionsPerHour is the mean number of sessions (HTTPS, QUIC) a host of
	// average appetite opens in a busy weekday hour; other hours scale down
	// with the office rhythm. 0 means 4.5, which with VolumeScale 1 gives
	// about 3,500 packets per host-day over a working week.
	SessionsPerHour float64
	// VolumeScale multiplies the bytes of every background session. 0 means 1.
	VolumeScale float64

	// Benign adds legitimate heavy uploaders (backups, cloud sync, video
	// calls, video uploads). Zero: none, as in DemoConfig and BenchConfig.
	Benign Benign

	Incidents []Incident
}

// HostAddr is the address of host i: 10.20.0.0/16 from 10.20.1.10 upwards,
// 240 hosts per /24 (10.20.1.10–10.20.1.249, then 10.20.2.10, ...).
func HostAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 20, byte(1 + i/240), byte(10 + i%240)})
}

// ResolverAddr is the internal DNS server every host asks (10.20.0.53); it
// sits behind the gateway in a server subnet, so the capture sees both the
// query and the answer.
func ResolverAddr() netip.Addr { return netip.AddrFrom4(resolver) }

var resolver = [4]byte{10, 20, 0, 53}

// DemoConfig is what `make demo` replays: 12 hosts for 4 days from Monday;
// on the last night, at 02:10, workstation 10.20.1.17 uploads 1.2 GB over
// 15 minutes to drop7.filebox.example (203.0.113.77), which no host
// contacted before. Snaplen 192 keeps both DNS answers and TLS SNI.
func DemoConfig() Config {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	return Config{
		Hosts:   12,
		Days:    4,
		Start:   start,
		Seed:    1,
		Snaplen: 192,
		Incidents: []Incident{{
			Kind:       KindUpload,
			Host:       HostAddr(7),
			Remote:     netip.MustParseAddr("203.0.113.77"),
			RemoteName: "drop7.filebox.example",
			At:         start.Add(3*24*time.Hour + 2*time.Hour + 10*time.Minute),
			Bytes:      1_200_000_000,
			Duration:   15 * time.Minute,
		}},
	}
}

// BenchConfig is the capture for sensor benchmarks and the softflowd
// comparison: 120 hosts, 8 days from Monday, snaplen 128, about 3.4 M
// packets, no incidents.
func BenchConfig() Config {
	return Config{
		Hosts:   120,
		Days:    8,
		Start:   time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC),
		Seed:    8,
		Snaplen: 128,
	}
}

// withDefaults returns a validated copy of c with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if c.Hosts < 1 || c.Hosts > 4000 {
		return c, fmt.Errorf("scenario: hosts %d: want 1..4000", c.Hosts)
	}
	if c.Days < 1 || c.Days > 366 {
		return c, fmt.Errorf("scenario: days %d: want 1..366", c.Days)
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	}
	c.Start = c.Start.UTC()
	if c.Snaplen == 0 {
		c.Snaplen = DefaultSnaplen
	}
	if c.Snaplen < 64 || c.Snaplen > 65535 {
		return c, fmt.Errorf("scenario: snaplen %d: want 64..65535", c.Snaplen)
	}
	if c.SessionsPerHour == 0 {
		c.SessionsPerHour = 4.5
	}
	if c.VolumeScale == 0 {
		c.VolumeScale = 1
	}
	if c.SessionsPerHour < 0 || c.SessionsPerHour > 1000 || c.VolumeScale < 0 || c.VolumeScale > 1000 {
		return c, errors.New("scenario: sessions per hour and volume scale must be in 0..1000")
	}
	if err := c.Benign.validate(c.Hosts); err != nil {
		return c, err
	}
	end := c.Start.Add(time.Duration(c.Days) * 24 * time.Hour)
	incs := make([]Incident, len(c.Incidents))
	for i, inc := range c.Incidents {
		inc, err := inc.withDefaults(i, c.Hosts)
		if err != nil {
			return c, fmt.Errorf("scenario: incident %d (%s): %w", i, inc.Kind, err)
		}
		if span := inc.span(); inc.At.Before(c.Start) || !inc.At.Add(span).Before(end) {
			return c, fmt.Errorf("scenario: incident %d (%s): at %s + %s is outside the capture", i, inc.Kind, inc.At.Format(time.RFC3339), span)
		}
		incs[i] = inc
	}
	c.Incidents = incs
	return c, nil
}

func isHost(a netip.Addr, hosts int) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	i := (int(b[2])-1)*240 + int(b[3]) - 10
	return b[0] == 10 && b[1] == 20 && b[2] >= 1 && b[3] >= 10 && b[3] < 250 && i < hosts
}
