package engine

import (
	"fmt"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector/alert"
)

// engineMetrics are the engine's series, all prefixed outflow_collector_.
// Labels carry detector and severity names only, never addresses.
type engineMetrics struct {
	flows                *metrics.Counter // records received
	flowsIgnored         *metrics.Counter // internal/external-only or no bytes out
	late                 *metrics.Counter // records that arrived with End at or behind the watermark
	held                 *metrics.Gauge   // records waiting for the watermark
	heldOverflow         *metrics.Counter // records processed early because the hold queue was full
	windowsClosed        *metrics.Counter
	hosts                *metrics.Gauge
	hostsEvicted         *metrics.Counter
	destsEvicted         *metrics.Counter
	windowRemotesDropped *metrics.Counter
	fleetRemotes         *metrics.Gauge
	fleetEvicted         *metrics.Counter
	sensors              *metrics.Gauge
	watermark            *metrics.Gauge // unix seconds
	storeErrors          *metrics.Counter
	baselinesReset       *metrics.Counter // stored baselines of an older format, relearned
	alertsDeduplicated   *metrics.Counter // updates of an open incident that added nothing new
	alertsResolved       *metrics.Counter
	namesEvicted         *metrics.Counter                   // remote names dropped from the report table (view.go)
	allowlisted          [numDetectors + 1]*metrics.Counter // evidence an allowlist rule covered
	silenced             [numDetectors + 1]*metrics.Counter // evidence in a maintenance window
	limitLevel           [numBases]*metrics.Counter
	evidence             [numDetectors + 1]*metrics.Counter
	alerts               map[string]*metrics.Counter // "detector/severity"
	set                  *metrics.Set
}

func newEngineMetrics(s *metrics.Set) *engineMetrics {
	const p = "outflow_collector_"
	m := &engineMetrics{
		flows:                s.GetOrCreateCounter(p + "flows_total"),
		flowsIgnored:         s.GetOrCreateCounter(p + "flows_ignored_total"),
		late:                 s.GetOrCreateCounter(p + "late_flows_total"),
		held:                 s.GetOrCreateGauge(p+"held_flows", nil),
		heldOverflow:         s.GetOrCreateCounter(p + "held_overflow_total"),
		windowsClosed:        s.GetOrCreateCounter(p + "windows_closed_total"),
		hosts:                s.GetOrCreateGauge(p+"hosts", nil),
		hostsEvicted:         s.GetOrCreateCounter(p + "hosts_evicted_total"),
		destsEvicted:         s.GetOrCreateCounter(p + "destinations_evicted_total"),
		windowRemotesDropped: s.GetOrCreateCounter(p + "window_remotes_dropped_total"),
		fleetRemotes:         s.GetOrCreateGauge(p+"fleet_remotes", nil),
		fleetEvicted:         s.GetOrCreateCounter(p + "fleet_remotes_evicted_total"),
		sensors:              s.GetOrCreateGauge(p+"sensors", nil),
		watermark:            s.GetOrCreateGauge(p+"watermark_seconds", nil),
		storeErrors:          s.GetOrCreateCounter(p + "store_errors_total"),
		baselinesReset:       s.GetOrCreateCounter(p + "baselines_reset_total"),
		alertsDeduplicated:   s.GetOrCreateCounter(p + "alerts_deduplicated_total"),
		alertsResolved:       s.GetOrCreateCounter(p + "alerts_resolved_total"),
		namesEvicted:         s.GetOrCreateCounter(p + "remote_names_evicted_total"),
		alerts:               map[string]*metrics.Counter{},
		set:                  s,
	}
	for l, name := range limitLevels {
		m.limitLevel[l] = s.GetOrCreateCounter(fmt.Sprintf(`%svolume_limits_total{basis=%q}`, p, name))
	}
	for d := detector(1); d <= numDetectors; d++ {
		m.allowlisted[d] = s.GetOrCreateCounter(fmt.Sprintf(`%sevidence_allowlisted_total{detector=%q}`, p, d))
		m.silenced[d] = s.GetOrCreateCounter(fmt.Sprintf(`%sevidence_silenced_total{detector=%q}`, p, d))
		m.evidence[d] = s.GetOrCreateCounter(fmt.Sprintf(`%sevidence_total{detector=%q}`, p, d))
		for _, sev := range []alert.Severity{alert.SeverityWarning, alert.SeverityCritical} {
			m.alertCounter(d.String(), sev)
		}
	}
	return m
}

// alertCounter counts alerts per detector and severity; an alert with two
// detectors counts once under each.
func (m *engineMetrics) alertCounter(det string, sev alert.Severity) *metrics.Counter {
	k := det + "/" + string(sev)
	c := m.alerts[k]
	if c == nil {
		c = m.set.GetOrCreateCounter(fmt.Sprintf(`outflow_collector_alerts_total{detector=%q,severity=%q}`, det, sev))
		m.alerts[k] = c
	}
	return c
}
