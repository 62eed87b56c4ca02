//go:build linux

package sensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/bpf"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/export"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/names"
	"github.com/outflowhq/outflow/sensor/source"
	"github.com/outflowhq/outflow/sensor/sweep"
	"github.com/outflowhq/outflow/wire"
	"golang.org/x/sys/unix"
)

// runEBPF is the gateway source: the kernel programs count flows on the
// configured interfaces, the sweeper turns the map into records on every
// export interval. On return the programs are detached and every flow
// they counted has been emitted.
func runEBPF(ctx context.Context, cfg *config.Sensor, o Options, pcfg PipelineConfig, exp *export.Exporter) error {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set := o.Metrics
	if set == nil {
		set = metrics.NewSet()
	}
	mode, err := bpf.ParseMode(cfg.EBPF.Attach)
	if err != nil {
		return fmt.Errorf("sensor.ebpf.attach: %w", err)
	}
	objs, err := bpf.LoadWith(bpf.Options{
		MaxFlows:   uint32(cfg.FlowTable.MaxFlows),
		EventRate:  cfg.EBPF.NameEvents.Rate,
		EventBurst: cfg.EBPF.NameEvents.Burst,
	})
	if err != nil {
		return privilegeHint(err)
	}
	defer objs.Close()

	var attached []io.Closer
	detach := func() {
		for _, c := range attached {
			if err := c.Close(); err != nil {
				log.Error("detach eBPF programs", "err", err)
			}
		}
		attached = nil
	}
	defer detach()
	var modes []string // attach mode per interface, for the health's source
	for _, ifname := range cfg.EBPF.Interfaces {
		c, got, err := objs.AttachMode(ifname, mode)
		if err != nil {
			return privilegeHint(err)
		}
		attached = append(attached, c)
		set.GetOrCreateGauge(fmt.Sprintf(`outflow_sensor_ebpf_attached{interface=%q,mode=%q}`, ifname, got), nil).Set(1)
		if mode == bpf.ModeAuto && got == bpf.ModeTC {
			set.GetOrCreateCounter("outflow_sensor_ebpf_tc_fallbacks_total").Inc()
			log.Warn("this kernel has no TCX (Linux 6.6+): attached with legacy tc clsact filters instead; they stay attached if the sensor crashes, until the next start replaces them",
				"interface", ifname)
		}
		log.Info("eBPF programs attached", "interface", ifname, "mode", got)
		if !slices.Contains(modes, string(got)) {
			modes = append(modes, string(got))
		}
	}

	events, err := objs.NameEvents()
	if err != nil {
		return err
	}
	if pcfg.NamesCapacity <= 0 {
		pcfg.NamesCapacity = 65536
	}
	if pcfg.ExportInterval <= 0 {
		pcfg.ExportInterval = 5 * time.Second
	}
	cache := names.New(pcfg.NamesCapacity)
	var (
		clock  time.Time
		health = wire.Health{Source: "ebpf/" + strings.Join(modes, "+")} // ebpf/tcx, ebpf/tc
	)
	sw := sweep.New(sweep.Config{Internal: pcfg.Internal, FlowTable: pcfg.FlowTable}, objs, cache,
		func(r *flow.Record) { exp.Add(r, clock, health) })
	namesDone := make(chan error, 1)
	go func() { namesDone <- sw.ReadNames(events) }()

	m := newPipelineMetrics(set)
	em := newEBPFMetrics(set)
	pass := func(flush bool) {
		clock = time.Now().UTC()
		start := time.Now()
		if err := sw.Pass(flush); err != nil {
			log.Warn("sweep of the eBPF flow map", "err", err)
		}
		em.sweep.UpdateDuration(start)
		kc, err := objs.Counters()
		if err != nil {
			log.Warn("read eBPF counters", "err", err)
		}
		st := sw.Stats()
		ss, ds, ts := stagesOf(kc, st)
		fillHealth(&health, ss, ds, ts)
		m.update(ss, ds, ts, sw.NameStats())
		em.update(kc, st, sw.EventStats())
		exp.Cut(clock, health)
	}

	tick := time.NewTicker(pcfg.ExportInterval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			pass(false)
		}
	}
	// Detach first so the last pass holds every packet counted.
	detach()
	pass(true)
	events.Close()
	if err := <-namesDone; err != nil {
		return err
	}
	return nil
}

// stagesOf maps the kernel's counters and the sweeper's onto the packet
// path's stage stats, so both sources fill the same metrics and health.
func stagesOf(kc bpf.Counters, st sweep.Stats) (source.Stats, decode.Stats, flowtable.Stats) {
	return source.Stats{Packets: kc.Packets, Drops: kc.InsertFailed},
		decode.Stats{NotIP: kc.NotIP, Truncated: kc.Truncated, TransportTruncated: kc.TransportTruncated},
		flowtable.Stats{
			Entries: st.Entries, Capacity: st.Capacity, Created: st.Created, Evictions: st.Evictions,
			Expired: st.Expired, Flushed: st.Flushed, Records: st.Records, Packets: st.Packets, Bytes: st.Bytes,
		}
}

// privilegeHint names the capabilities when the kernel refused them.
func privilegeHint(err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w (the eBPF source needs CAP_BPF and CAP_NET_ADMIN; see docs/operations.md)", err)
	}
	return err
}

// ebpfMetrics are the gateway source's own metrics; the rest are the
// packet path's (pipelineMetrics), fed from the kernel's counters.
type ebpfMetrics struct {
	prevK bpf.Counters
	prevS sweep.Stats
	prevE sweep.EventStats

	insertFailed, fragments                      *metrics.Counter
	evSent, evLimited, evLost                    *metrics.Counter
	evDecodeErr, evReadErr, namesAttached, names *metrics.Counter
	sweeps, restarted, errors                    *metrics.Counter
	fill                                         *metrics.Gauge
	sweep                                        *metrics.Histogram
}

func newEBPFMetrics(set *metrics.Set) *ebpfMetrics {
	set.GetOrCreateCounter("outflow_sensor_ebpf_tc_fallbacks_total") // counted at attach; exported at 0 without a fallback
	return &ebpfMetrics{
		insertFailed:  set.GetOrCreateCounter("outflow_sensor_ebpf_map_insert_failures_total"),
		fragments:     set.GetOrCreateCounter("outflow_sensor_ebpf_fragments_total"),
		evSent:        set.GetOrCreateCounter(`outflow_sensor_ebpf_name_events_total{result="sent"}`),
		evLimited:     set.GetOrCreateCounter(`outflow_sensor_ebpf_name_events_total{result="rate_limited"}`),
		evLost:        set.GetOrCreateCounter(`outflow_sensor_ebpf_name_events_total{result="ring_full"}`),
		evDecodeErr:   set.GetOrCreateCounter(`outflow_sensor_ebpf_name_event_errors_total{kind="decode"}`),
		evReadErr:     set.GetOrCreateCounter(`outflow_sensor_ebpf_name_event_errors_total{kind="read"}`),
		namesAttached: set.GetOrCreateCounter(`outflow_sensor_ebpf_flow_names_total{result="attached"}`),
		names:         set.GetOrCreateCounter(`outflow_sensor_ebpf_flow_names_total{result="dropped"}`),
		sweeps:        set.GetOrCreateCounter("outflow_sensor_ebpf_sweeps_total"),
		restarted:     set.GetOrCreateCounter("outflow_sensor_ebpf_flows_restarted_total"),
		errors:        set.GetOrCreateCounter("outflow_sensor_ebpf_sweep_errors_total"),
		fill:          set.GetOrCreateGauge("outflow_sensor_ebpf_map_fill_ratio", nil),
		sweep:         set.GetOrCreateHistogram("outflow_sensor_ebpf_sweep_duration_seconds"),
	}
}

func (m *ebpfMetrics) update(k bpf.Counters, s sweep.Stats, e sweep.EventStats) {
	addDelta(m.insertFailed, k.InsertFailed, m.prevK.InsertFailed)
	addDelta(m.fragments, k.Fragments, m.prevK.Fragments)
	addDelta(m.evSent, k.NameEvents, m.prevK.NameEvents)
	addDelta(m.evLimited, k.NameEventsRateLimited, m.prevK.NameEventsRateLimited)
	addDelta(m.evLost, k.NameEventsLost, m.prevK.NameEventsLost)
	addDelta(m.evDecodeErr, e.DecodeErrors, m.prevE.DecodeErrors)
	addDelta(m.evReadErr, e.ReadErrors, m.prevE.ReadErrors)
	addDelta(m.namesAttached, s.Names, m.prevS.Names)
	addDelta(m.names, s.NamesLost, m.prevS.NamesLost)
	addDelta(m.sweeps, s.Passes, m.prevS.Passes)
	addDelta(m.restarted, s.Restarted, m.prevS.Restarted)
	addDelta(m.errors, s.Errors, m.prevS.Errors)
	if s.Capacity > 0 {
		m.fill.Set(float64(s.Entries) / float64(s.Capacity))
	}
	m.prevK, m.prevS, m.prevE = k, s, e
}
