package scenario

import (
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// dnsTTL is how long a host reuses an answer before asking again.
const dnsTTL = int64(300 * time.Second)

// planHour returns the background sessions of every host that start in
// the hour from t, in host order then time order. Each host-hour draws from
// its own random stream, so incidents never change the background.
func (w *world) planHour(cfg Config, t int64, hour uint64) []planned {
	var out []planned
	wall := time.Unix(0, t).UTC()
	for i := range w.hosts {
		h := &w.hosts[i]
		rng := rand.New(rand.NewPCG(uint64(cfg.Seed), hour<<20|uint64(i)))
		n := poisson(rng, cfg.SessionsPerHour*h.rhythm.appetite*h.rhythm.activity(wall))
		starts := make([]int64, n+1)
		for j := range starts {
			starts[j] = t + rng.Int64N(int64(time.Hour))
		}
		ntpAt := starts[n] // every host syncs its clock once an hour
		slices.Sort(starts)
		for _, st := range starts {
			v := &visit{h: h, t: st, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), rng.Uint64()))}
			var run iter.Seq[*packet]
			switch {
			case st == ntpAt:
				v.s = &w.servers[w.ntp]
				run = v.ntp()
			default:
				v.s = &w.servers[w.pickServer(h, rng)]
				v.port = h.port()
				v.rounds = 1 + rng.IntN(4)
				v.down = uint64(min(logNormal(rng, 15e3, 1.4), 50e6) * cfg.VolumeScale)
				v.up = uint64(v.rounds) * uint64(300+rng.IntN(1200))
				if rng.IntN(100) < 3 { // an attachment, a form, a sync
					v.up += uint64(min(logNormal(rng, 200e3, 1.2), 50e6) * cfg.VolumeScale)
				}
				run = v.https()
				if v.s.quic && rng.IntN(10) < 4 {
					run = v.quic()
				}
			}
			idx := int(v.s.addr[3]) | int(v.s.addr[2])<<8 | int(v.s.addr[1])<<16 | int(v.s.addr[0])<<24
			if last, ok := h.resolved[idx]; !ok || st-last > dnsTTL {
				v.resolve = true
				h.resolved[idx] = st
			}
			out = append(out, planned{t: st, run: run})
		}
	}
	return out
}

// planned is a session not yet started.
type planned struct {
	t   int64
	run iter.Seq[*packet]
}

// poisson draws from a Poisson distribution of mean lam.
func poisson(rng *rand.Rand, lam float64) int {
	if lam <= 0 {
		return 0
	}
	if lam > 30 {
		return max(0, int(math.Round(lam+math.Sqrt(lam)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lam), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
