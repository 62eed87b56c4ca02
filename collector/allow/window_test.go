package allow

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin on machines without zoneinfo
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSilenced(t *testing.T) {
	daily2 := Window{Every: "day", At: "02:00", For: time.Hour, Detectors: []string{"volume"}}
	nightly := Window{Every: "day", At: "23:00", For: 2 * time.Hour}
	sunday := Window{Every: "sunday", At: "23:00", For: 3 * time.Hour, TZ: "Europe/Berlin", Hosts: []string{"10.0.0.0/8"}}
	berlin0130 := Window{Every: "day", At: "01:30", For: 2 * time.Hour, TZ: "Europe/Berlin"}
	saturday := Window{Every: "Saturday", At: "23:00", For: 4 * time.Hour, TZ: "Europe/Berlin"}
	berlin0230 := Window{Every: "day", At: "02:30", For: 30 * time.Minute, TZ: "Europe/Berlin"}
	berlin0230h := Window{Every: "day", At: "02:30", For: time.Hour, TZ: "Europe/Berlin"}
	always := Window{Every: "monday", At: "00:00", For: 168 * time.Hour}
	once := Window{From: at("2025-06-01T08:00:00Z"), To: at("2025-06-01T12:00:00+02:00")}
	for _, c := range []struct {
		name     string
		w        Window
		host     string
		detector string
		t        string
		want     bool
	}{
		{"daily: before", daily2, "10.0.0.1", "volume", "2025-06-03T01:59:59Z", false},
		{"daily: start", daily2, "10.0.0.1", "volume", "2025-06-03T02:00:00Z", true},
		{"daily: last second", daily2, "10.0.0.1", "volume", "2025-06-03T02:59:59Z", true},
		{"daily: end is excluded", daily2, "10.0.0.1", "volume", "2025-06-03T03:00:00Z", false},
		{"daily: other detector", daily2, "10.0.0.1", "p2p", "2025-06-03T02:30:00Z", false},
		{"midnight: before", nightly, "10.0.0.1", "p2p", "2025-06-03T22:59:59Z", false},
		{"midnight: evening", nightly, "10.0.0.1", "p2p", "2025-06-03T23:00:00Z", true},
		{"midnight: next day", nightly, "10.0.0.1", "p2p", "2025-06-04T00:30:00Z", true},
		{"midnight: end", nightly, "10.0.0.1", "p2p", "2025-06-04T01:00:00Z", false},
		{"weekly: Sunday 22:59 CEST", sunday, "10.0.0.1", "p2p", "2025-06-08T20:59:59Z", false},
		{"weekly: Sunday 23:00 CEST", sunday, "10.0.0.1", "p2p", "2025-06-08T21:00:00Z", true},
		{"weekly: Monday 01:30 CEST", sunday, "10.0.0.1", "p2p", "2025-06-08T23:30:00Z", true},
		{"weekly: Monday 01:59:59 CEST", sunday, "10.0.0.1", "p2p", "2025-06-08T23:59:59Z", true},
		{"weekly: Monday 02:00 CEST", sunday, "10.0.0.1", "p2p", "2025-06-09T00:00:00Z", false},
		{"weekly: Sunday noon", sunday, "10.0.0.1", "p2p", "2025-06-08T10:00:00Z", false},
		{"weekly: Saturday 23:30 CEST", sunday, "10.0.0.1", "p2p", "2025-06-07T21:30:00Z", false},
		{"weekly: Tuesday 01:30 CEST", sunday, "10.0.0.1", "p2p", "2025-06-09T23:30:00Z", false},
		{"weekly: Monday 01:30 CET", sunday, "10.0.0.1", "p2p", "2025-01-06T00:30:00Z", true},
		{"weekly: host out of scope", sunday, "192.168.1.1", "p2p", "2025-06-08T23:30:00Z", false},
		{"weekly: mapped host", sunday, "::ffff:10.1.1.1", "p2p", "2025-06-08T23:30:00Z", true},
		// Clocks go forward at 01:00Z on 2025-03-30: the window lasts two real
		// hours from 01:30 CET (00:30Z), to 04:30 CEST.
		{"spring: before", berlin0130, "10.0.0.1", "p2p", "2025-03-30T00:29:59Z", false},
		{"spring: start 01:30 CET", berlin0130, "10.0.0.1", "p2p", "2025-03-30T00:30:00Z", true},
		{"spring: 04:29:59 CEST", berlin0130, "10.0.0.1", "p2p", "2025-03-30T02:29:59Z", true},
		{"spring: 04:30 CEST", berlin0130, "10.0.0.1", "p2p", "2025-03-30T02:30:00Z", false},
		{"spring: next day 03:29 CEST", berlin0130, "10.0.0.1", "p2p", "2025-03-31T01:29:00Z", true},
		{"spring: next day 03:30 CEST", berlin0130, "10.0.0.1", "p2p", "2025-03-31T01:30:00Z", false},
		{"spring over midnight: 03:59 CEST", saturday, "10.0.0.1", "p2p", "2025-03-30T01:59:59Z", true},
		{"spring over midnight: 04:00 CEST", saturday, "10.0.0.1", "p2p", "2025-03-30T02:00:00Z", false},
		{"spring over midnight: 23:00 CET", saturday, "10.0.0.1", "p2p", "2025-03-29T22:00:00Z", true},
		// 02:30 does not exist on 2025-03-30: the window starts when the
		// clocks jump to 03:00 CEST (01:00Z).
		{"skipped start: before jump", berlin0230h, "10.0.0.1", "p2p", "2025-03-30T00:59:59Z", false},
		{"skipped start: at jump", berlin0230h, "10.0.0.1", "p2p", "2025-03-30T01:00:00Z", true},
		{"skipped start: last second", berlin0230h, "10.0.0.1", "p2p", "2025-03-30T01:59:59Z", true},
		{"skipped start: end", berlin0230h, "10.0.0.1", "p2p", "2025-03-30T02:00:00Z", false},
		// 02:30 happens twice on 2025-10-26: the window starts the first time
		// (02:30 CEST, 00:30Z), not the second (02:30 CET, 01:30Z).
		{"repeated start: first 02:30", berlin0230, "10.0.0.1", "p2p", "2025-10-26T00:30:00Z", true},
		{"repeated start: 02:59 CEST", berlin0230, "10.0.0.1", "p2p", "2025-10-26T00:59:59Z", true},
		{"repeated start: 02:00 CET", berlin0230, "10.0.0.1", "p2p", "2025-10-26T01:00:00Z", false},
		{"repeated start: second 02:30", berlin0230, "10.0.0.1", "p2p", "2025-10-26T01:45:00Z", false},
		{"repeated start: next day 02:30 CET", berlin0230, "10.0.0.1", "p2p", "2025-10-27T01:30:00Z", true},
		{"every week for a week", always, "2001:db8::1", "p2p", "2025-06-08T23:59:59Z", true},
		{"one-off: before", once, "10.0.0.1", "p2p", "2025-06-01T07:59:59Z", false},
		{"one-off: from", once, "10.0.0.1", "p2p", "2025-06-01T08:00:00Z", true},
		{"one-off: in another zone", once, "10.0.0.1", "p2p", "2025-06-01T11:59:59+02:00", true},
		{"one-off: to is excluded", once, "10.0.0.1", "p2p", "2025-06-01T10:00:00Z", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := New(Config{Maintenance: []Window{c.w}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := l.Silenced(addr(c.host), c.detector, at(c.t))
			if ok != c.want || (ok && w != 0) || (!ok && w != -1) {
				t.Errorf("Silenced(%s, %s, %s) = %d, %v; want %v", c.host, c.detector, c.t, w, ok, c.want)
			}
		})
	}
}

func TestSilencedLowestWindow(t *testing.T) {
	l, err := New(Config{Maintenance: []Window{
		{Every: "day", At: "02:00", For: time.Hour, Hosts: []string{"10.1.0.0/16"}},
		{Every: "day", At: "01:00", For: 3 * time.Hour},
		{From: at("2025-06-01T00:00:00Z"), To: at("2025-07-01T00:00:00Z")},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host, t string
		want    int
	}{
		{"10.1.0.1", "2025-06-03T02:30:00Z", 0},
		{"10.2.0.1", "2025-06-03T02:30:00Z", 1},
		{"10.2.0.1", "2025-06-03T05:00:00Z", 2},
		{"10.2.0.1", "2025-07-03T05:00:00Z", -1},
	} {
		if w, ok := l.Silenced(addr(c.host), "volume", at(c.t)); w != c.want || ok != (c.want >= 0) {
			t.Errorf("Silenced(%s, %s) = %d, %v; want %d", c.host, c.t, w, ok, c.want)
		}
	}
	if r, w := l.Len(); r != 0 || w != 3 {
		t.Errorf("Len() = %d, %d; want 0, 3", r, w)
	}
}
