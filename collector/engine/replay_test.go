package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/flow"
)

// Arrival model of replayScenario: a record reaches the engine less than
// maxLag after its End (a sensor exports every few seconds), so it is at
// most maxLag older than the newest End seen before it. A batch's clock is
// its newest End plus less than maxJitter. With maxLag+maxJitter at most
// AllowedLateness (30 s) every record ends after the watermark in force
// when it arrives: it is on time, and the alerts must not depend on how the
// records were cut into batches.
const (
	maxLag    = 10 * time.Second
	maxJitter = 20 * time.Second
)

// office is a host's ordinary traffic: three records an hour at minutes and
// seconds of its own, to two servers only it uses, 20–40 MB an hour.
func office(host string, n, hours int) []flow.Record {
	volumes := []uint64{8_000_000, 10_000_000, 12_500_000, 9_000_000}
	var recs []flow.Record
	for i := range hours {
		for j, m := range []int{(7*n + 5) % 60, (7*n + 25) % 60, (7*n + 45) % 60} {
			end := at(i, m, 3*n+j)
			remote := fmt.Sprintf("198.51.%d.%d", 100+n, 1+j%2)
			recs = append(recs, out(host, remote, volumes[(i+j+n)%len(volumes)], end.Add(-40*time.Second), end, "svc.example.com"))
		}
	}
	return recs
}

// paced is an upload of bytes sent as one delta every step for d, the way
// a sensor exports a long flow.
func paced(host, remote string, bytes uint64, step, d time.Duration, start time.Time, name string) []flow.Record {
	n := int(d / step)
	return burstEvery(host, remote, bytes, n, step, start, name)
}

func burstEvery(host, remote string, bytes uint64, parts int, step time.Duration, start time.Time, name string) []flow.Record {
	var recs []flow.Record
	for i := range parts {
		s := start.Add(time.Duration(i) * step)
		recs = append(recs, out(host, remote, bytes/uint64(parts), s, s.Add(step), name))
	}
	return recs
}

// replayScenario is a bit over three days of a small office with four
// incidents.
func replayScenario() []flow.Record {
	hosts := []string{"10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6", "10.1.2.7", "10.1.2.8"}
	var recs []flow.Record
	for i, h := range hosts {
		recs = append(recs, office(h, i, 78)...)
	}
	recs = append(recs, popular(10, "198.51.100.7")...)
	// 10.1.2.3 uploads 1.2 GB over 15 minutes to a server nobody uses, 15 MB
	// every 11 s: new_destination at once, volume after about 90 s.
	recs = append(recs, paced("10.1.2.3", "203.0.113.77", 1_200_000_000, 11*time.Second, 15*time.Minute, at(74, 10, 0), "drop7.filebox.example")...)
	// Later in the same hour it sends 40 MB to another new server: a new
	// group, a second alert.
	recs = append(recs, burst("10.1.2.3", "203.0.113.80", 40_000_000, 4, at(74, 40, 0), "")...)
	// 10.1.2.4 sends 400 MB to a server it knows, across a window boundary:
	// both windows are over their limits, one group holds both.
	recs = append(recs, burst("10.1.2.4", "198.51.101.2", 400_000_000, 12, at(75, 59, 0), "svc.example.com")...)
	// 10.1.2.5 and 10.1.2.6 start sending to the same new server at the same
	// instant, in records ending with 10.1.2.4's: the prevalence each sees
	// depends on which is processed first.
	recs = append(recs, burst("10.1.2.6", "203.0.113.90", 12_000_000, 1, at(76, 0, 0), "")...)
	recs = append(recs, burst("10.1.2.5", "203.0.113.90", 12_000_000, 1, at(76, 0, 0), "")...)
	return recs
}

// arrival is a record and when it reaches the collector.
type arrival struct {
	t   time.Time
	rec flow.Record
}

// arrivals delays each record by less than maxLag after its End and
// returns them in order of arrival (ties in the order given).
func arrivals(recs []flow.Record, seed uint64) []arrival {
	r := rand.New(rand.NewPCG(seed, seed))
	as := make([]arrival, len(recs))
	for i, rec := range recs {
		as[i] = arrival{rec.End.Add(time.Duration(r.Int64N(int64(maxLag)))), rec}
	}
	slices.SortStableFunc(as, func(a, b arrival) int { return a.t.Compare(b.t) })
	return as
}

func records(as []arrival) []flow.Record {
	recs := make([]flow.Record, len(as))
	for i := range as {
		recs[i] = as[i].rec
	}
	return recs
}

// batching cuts the record sequence and clocks each batch.
type batching struct {
	name   string
	size   func() int           // records in the next batch
	jitter func() time.Duration // added to the batch's newest End for its clock
}

// feedBatches plays recs in the batching's batches; every restartEvery
// batches (0: never) it saves, drops the engine and continues on a new one
// restored from the store.
func feedBatches(t *testing.T, recs []flow.Record, b batching, restartEvery int) []alert.Alert {
	t.Helper()
	store := mapStore{}
	e, set := newEngine(t, testConfig(), store)
	var alerts []alert.Alert
	for i, n := 0, 0; i < len(recs); n++ {
		j := min(len(recs), i+max(1, b.size()))
		newest := recs[i].End
		for _, r := range recs[i:j] {
			if r.End.After(newest) {
				newest = r.End
			}
		}
		alerts = append(alerts, e.Ingest("gw1", newest.Add(b.jitter()), recs[i:j])...)
		i = j
		if restartEvery > 0 && n%restartEvery == restartEvery-1 {
			if err := e.Save(); err != nil {
				t.Fatal(err)
			}
			checkOnTime(t, set)
			e, set = newEngine(t, testConfig(), store)
		}
	}
	alerts = append(alerts, e.Flush()...)
	checkOnTime(t, set)
	return alerts
}

// checkOnTime fails the test when a record arrived late: the scenario would
// then test nothing the engine promises.
func checkOnTime(t *testing.T, set *metrics.Set) {
	t.Helper()
	if n := metric(set, "outflow_collector_late_flows_total") + metric(set, "outflow_collector_held_overflow_total"); n != 0 {
		t.Fatalf("%v records late or forced out of order", n)
	}
}

// The same records give the same alerts, field for field and in the same
// order, however the sensor cut them into batches and whatever clocks it
// put on the batches, as long as every record is on time.
func TestBatchingIndependence(t *testing.T) {
	recs := records(arrivals(replayScenario(), 7))
	rng := rand.New(rand.NewPCG(1, 2))
	fixed := func(n int) func() int { return func() int { return n } }
	random := func(hi int) func() int { return func() int { return 1 + rng.IntN(hi) } }
	none := func() time.Duration { return 0 }
	jitter := func() time.Duration { return time.Duration(rng.Int64N(int64(maxJitter))) }
	var batchings []batching
	for _, size := range []struct {
		name string
		f    func() int
	}{{"1", fixed(1)}, {"7", fixed(7)}, {"100", fixed(100)}, {"2048", fixed(2048)},
		{"random ≤ 50", random(50)}, {"random ≤ 500", random(500)}, {"random ≤ 5000", random(5000)}} {
		batchings = append(batchings,
			batching{"size " + size.name + ", clock at newest end", size.f, none},
			batching{"size " + size.name + ", clock jittered", size.f, jitter})
	}

	want := feedBatches(t, recs, batchings[0], 0)
	checkScenarioAlerts(t, want)
	for _, b := range batchings[1:] {
		t.Run(b.name, func(t *testing.T) {
			compareAlerts(t, feedBatches(t, recs, b, 0), want)
		})
	}
	// Saving and restoring in the middle (records held, groups pending) is
	// invisible too.
	for _, every := range []int{1, 3, 17} {
		b := batching{fmt.Sprintf("random ≤ 200, jittered, restart every %d batches", every), random(200), jitter}
		t.Run(b.name, func(t *testing.T) {
			compareAlerts(t, feedBatches(t, recs, b, every), want)
		})
	}
}

func compareAlerts(t *testing.T, got, want []alert.Alert) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Fatalf("alert %d missing: %s", i, toJSON(t, want[i]))
		case i >= len(want):
			t.Fatalf("extra alert %d: %s", i, toJSON(t, got[i]))
		case !reflect.DeepEqual(got[i], want[i]):
			t.Fatalf("alert %d:\n%s\nwant:\n%s", i, toJSON(t, got[i]), toJSON(t, want[i]))
		}
	}
}

// checkScenarioAlerts makes sure the scenario exercises what it claims.
func checkScenarioAlerts(t *testing.T, as []alert.Alert) {
	t.Helper()
	var got []string
	for _, a := range as {
		got = append(got, fmt.Sprintf("%s %v %s", a.Host, a.Detectors, a.End.Format("15:04:05")))
	}
	want := []string{
		// The upload: both detectors in one alert, held while the upload went
		// on until GroupMax after the first evidence (02:10:11 + 5 min); it
		// reports the records that ended by then.
		"10.1.2.3 [new_destination volume] 02:15:08",
		// Evidence after that deadline: a new group.
		"10.1.2.3 [new_destination] 02:40:40",
		// Deadline 04:00:40, in host order.
		"10.1.2.5 [new_destination] 04:00:10",
		"10.1.2.6 [new_destination] 04:00:10",
		// One group over two windows, deadline 04:01:30.
		"10.1.2.4 [volume] 04:01:00",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("scenario alerts:\n%q\nwant:\n%q\n%s", got, want, toJSON(t, as))
	}
	if as[0].BytesOut >= 1_200_000_000 || as[0].Severity != alert.SeverityCritical {
		t.Errorf("upload alert should report what was sent by its deadline: %s", toJSON(t, as[0]))
	}
	if p5, p6 := as[2].Evidence[0].Prevalence, as[3].Evidence[0].Prevalence; p5 != 1 || p6 != 2 {
		t.Errorf("prevalence %d, %d: want 1, 2 (10.1.2.5 first on a tie)", p5, p6)
	}
}

// Two sensors, each exporting what arrived every few seconds to minutes of
// event time with that time as its clock (clock-only batches included),
// their batches interleaved as they come: the alerts are those of one
// sensor delivering everything, bar the sensor names. Records of different
// sensors ending at the same instant arrive in a different order in every
// run; the engine orders them by host and remote.
func TestSensorsIndependence(t *testing.T) {
	as := arrivals(replayScenario(), 7)
	want := feedBatches(t, records(as), batching{"one sensor", func() int { return 1 }, func() time.Duration { return 0 }}, 0)
	for i := range want {
		want[i].Sensors = nil
	}
	gw2 := map[string]bool{"10.1.2.4": true, "10.1.2.6": true, "10.1.2.8": true}
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			type batch struct {
				sensor string
				clock  time.Time
				recs   []flow.Record
			}
			var batches []batch
			for _, sensor := range []string{"gw1", "gw2"} {
				var mine []arrival
				for _, a := range as {
					host, _, _, _, _, _ := a.rec.Local()
					if gw2[host.String()] == (sensor == "gw2") {
						mine = append(mine, a)
					}
				}
				// A sensor that starts sends its clock before any records,
				// so the watermark waits for it from the start. Slices of
				// 1 s to 3 min keep the sensors well within SensorIdle of
				// each other, so neither drops out of the watermark.
				batches = append(batches, batch{sensor, t0, nil})
				for clock, i := t0, 0; i < len(mine); {
					clock = clock.Add(time.Second + time.Duration(rng.Int64N(int64(3*time.Minute))))
					j := i
					for j < len(mine) && !mine[j].t.After(clock) {
						j++
					}
					batches = append(batches, batch{sensor, clock, records(mine[i:j])})
					i = j
				}
			}
			slices.SortStableFunc(batches, func(a, b batch) int { return a.clock.Compare(b.clock) })
			e, set := newEngine(t, testConfig(), nil)
			var got []alert.Alert
			for _, b := range batches {
				got = append(got, e.Ingest(b.sensor, b.clock, b.recs)...)
			}
			got = append(got, e.Flush()...)
			checkOnTime(t, set)
			for i := range got {
				got[i].Sensors = nil
			}
			compareAlerts(t, got, want)
		})
	}
}
