//go:build linux

package bpf

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/cilium/ebpf"
)

// clock converts the kernel's jiffies (a flow's times) to
// CLOCK_MONOTONIC nanoseconds. The program stores bpf_jiffies64() per
// packet because the verifier inlines it as one load; a tick is 1/HZ s, and
// HZ is a kernel build option user space cannot read without privileges
// (/proc/config.gz, /proc/timer_list). So clock_sync, run with
// BPF_PROG_TEST_RUN, reads both clocks at once: the latest reading anchors
// the conversion, and two readings far enough apart give the tick length.
type clock struct {
	mu          sync.Mutex
	prog        *ebpf.Program
	pairs       *ebpf.Map
	first, last flowClockPair // readings: the first one made, the latest
	tick        float64       // ns per jiffy, 0 until measured
	exact       bool          // tick is a known HZ's: jiffies keep step with CLOCK_MONOTONIC
	// start is when tick first.Jiffies started (CLOCK_MONOTONIC ns), as the
	// readings at calibration tell it: at most one tick late. It stays
	// fixed, so a flow's times convert the same at every reading; only a
	// reading that contradicts it by more than a tick moves it.
	start float64
}

// calibrateOver is how far apart two readings must be to measure the tick:
// at HZ=250 that is 62 or 63 ticks, well apart from HZ=300's 75.
const calibrateOver = 250 * time.Millisecond

// knownHZ are the tick rates Linux is built with; a measured rate within
// 5 % of one snaps to it.
var knownHZ = []float64{100, 250, 300, 1000, 24, 32, 48, 64, 128, 256, 512, 1024, 1200}

// sync reads both clocks now.
func (c *clock) sync() error {
	// A test run of a tc program needs a frame of at least an Ethernet
	// header; clock_sync does not look at it.
	if _, err := c.prog.Run(&ebpf.RunOptions{Data: make([]byte, 14)}); err != nil {
		return fmt.Errorf("read clocks (clock_sync): %w", err)
	}
	var p flowClockPair
	if err := c.pairs.Lookup(uint32(0), &p); err != nil {
		return fmt.Errorf("read clocks: %w", err)
	}
	if c.first.Ns == 0 {
		c.first = p
	}
	c.last = p
	// Each reading was taken at or after the start of its tick.
	bound := func(p flowClockPair) float64 { return float64(p.Ns) - float64(p.Jiffies-c.first.Jiffies)*c.tick }
	if d := float64(p.Ns - c.first.Ns); !c.exact && d >= float64(calibrateOver) && p.Jiffies > c.first.Jiffies {
		c.tick, c.exact = snapTick(d / float64(p.Jiffies-c.first.Jiffies))
		c.start = min(float64(c.first.Ns), bound(p))
	}
	if c.exact && bound(p) < c.start-c.tick {
		c.start = bound(p)
	}
	return nil
}

// snapTick rounds a measured tick length (ns) to the known rate it is
// within 5 % of (exact), else keeps it.
func snapTick(tick float64) (float64, bool) {
	hz := 1e9 / tick
	for _, k := range knownHZ {
		if math.Abs(hz-k) <= 0.05*k {
			return math.Round(1e9 / k), true // the kernel's TICK_NSEC
		}
	}
	return tick, false
}

// Sync re-reads both clocks; ReadFlows and Flows do it first, Take uses
// the latest reading. The first conversion after Load waits until the
// tick can be measured (calibrateOver after the first reading).
func (c *clock) Sync() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sync(); err != nil {
		return err
	}
	return c.calibrate()
}

func (c *clock) calibrate() error {
	for c.tick == 0 {
		if wait := calibrateOver - time.Duration(c.last.Ns-c.first.Ns); wait > 0 {
			time.Sleep(wait)
		}
		if err := c.sync(); err != nil {
			return err
		}
		if c.last.Jiffies == c.first.Jiffies { // no tick in calibrateOver: a tickless clock?
			return fmt.Errorf("read clocks: jiffies did not advance in %s", time.Duration(c.last.Ns-c.first.Ns))
		}
	}
	return nil
}

// ns converts jiffies j to CLOCK_MONOTONIC ns: the start of tick j, as
// well as the readings tell it (the same answer from one reading to the
// next, but for narrowing). The packet was within one tick after it. With
// a tick of no known rate it goes by the latest reading instead.
func (c *clock) ns(j uint64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tick == 0 {
		if err := c.sync(); err == nil {
			_ = c.calibrate()
		}
		if c.tick == 0 {
			c.tick = 4e6 // could not measure: HZ=250, the common default
		}
	}
	if c.exact {
		return uint64(max(0, c.start+(float64(j)-float64(c.first.Jiffies))*c.tick))
	}
	d := (float64(j) - float64(c.last.Jiffies)) * c.tick
	return uint64(max(0, float64(c.last.Ns)+d))
}
