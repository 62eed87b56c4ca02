package engine

import (
	"testing"
	"time"
)

func TestHumanBytes(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{0, "0 B"}, {999, "999 B"}, {1000, "1.0 KB"}, {2_500_000, "2.5 MB"}, {9_960_000, "10 MB"},
		{31_000_000, "31 MB"}, {112_676_590, "113 MB"}, {999_600_000, "1.0 GB"}, {1_200_000_000, "1.2 GB"},
		{1 << 30, "1.1 GB"}, {2.5e15, "2.5 PB"},
	} {
		if got := humanBytes(tt.in); got != tt.want {
			t.Errorf("humanBytes(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPer(t *testing.T) {
	for _, tt := range []struct {
		in   time.Duration
		want string
	}{
		{time.Hour, "per hour"}, {24 * time.Hour, "per day"}, {2 * time.Hour, "per 2 hours"},
		{10 * time.Minute, "per 10 minutes"}, {30 * time.Second, "per 30 seconds"},
	} {
		if got := per(tt.in); got != tt.want {
			t.Errorf("per(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrevalenceClause(t *testing.T) {
	for n, want := range map[int]string{
		0: "no other internal host talks to it", 1: "no other internal host talks to it",
		2: "only 1 other internal host talks to it", 3: "only 2 other internal hosts talk to it",
	} {
		if got := prevalenceClause(n, "it"); got != want {
			t.Errorf("prevalenceClause(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg.Window = 7 * time.Minute
	cfg.MaxHosts = 0
	err := cfg.Validate()
	if err == nil || err.Error() != "window: must be at least 1s and divide 24h\nmax_hosts: must be at least 1" {
		t.Fatalf("err = %v", err)
	}
}

func TestUsual(t *testing.T) {
	for _, c := range []struct {
		v, base float64
		want    string
	}{
		{1.2e9, 36e6, "33× its usual 36 MB per hour"},
		{60e6, 40e6, "1.5× its usual 40 MB per hour"},
		{90e6, 0, "where it usually sends next to nothing per hour"},
		{90e6, 999, "where it usually sends next to nothing per hour"},
	} {
		if got := usual(c.v, c.base, time.Hour); got != c.want {
			t.Errorf("usual(%v, %v) = %q, want %q", c.v, c.base, got, c.want)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s",
		time.Minute: "1m", 30 * time.Second: "30s", 2*time.Hour + 30*time.Second: "2h0m30s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
