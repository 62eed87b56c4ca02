package engine

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// maxSensors bounds the sensor clock table; past it the stalest sensor is
// forgotten.
const maxSensors = 1024

// sensorClocks holds each sensor's latest clock (its newest packet time,
// ns) and the watermark derived from them: the oldest clock among sensors
// active in event time (within SensorIdle of the newest clock), minus the
// allowed lateness. The watermark never goes back.
type sensorClocks struct {
	m  map[string]int64
	wm int64
}

func newSensorClocks() sensorClocks {
	return sensorClocks{m: make(map[string]int64), wm: math.MinInt64}
}

func (c *sensorClocks) update(sensor string, ns int64) {
	if old, ok := c.m[sensor]; ok {
		c.m[sensor] = max(old, ns)
		return
	}
	if len(c.m) >= maxSensors {
		c.forgetStalest()
	}
	c.m[sensor] = ns
}

func (c *sensorClocks) forgetStalest() {
	var names []string
	for s := range c.m {
		names = append(names, s)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(c.m[a], c.m[b]), strings.Compare(a, b)) })
	delete(c.m, names[0])
}

// watermark recomputes and returns the watermark.
func (c *sensorClocks) watermark(idle, lateness int64) int64 {
	newest := int64(math.MinInt64)
	for _, t := range c.m {
		newest = max(newest, t)
	}
	if newest == math.MinInt64 {
		return c.wm
	}
	oldest := newest
	for _, t := range c.m {
		if t >= newest-idle {
			oldest = min(oldest, t)
		}
	}
	c.wm = max(c.wm, oldest-lateness)
	return c.wm
}
