package sensor

import (
	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/names"
	"github.com/outflowhq/outflow/sensor/source"
)

// pipelineMetrics adds one pipeline's cumulative stats into counters shared
// by every pipeline of the sensor (GetOrCreate on the same set), by delta.
type pipelineMetrics struct {
	prevS source.Stats
	prevD decode.Stats
	prevT flowtable.Stats
	prevN names.Stats

	packets, drops, truncated, bytes, nonIP                  *metrics.Counter
	errTrunc, errMalformed, errLink, transTrunc, fragUnmatch *metrics.Counter
	created, evictions, expired, records                     *metrics.Counter
	namesLearned, namesEvicted, namesDNSBad                  *metrics.Counter
	entries, capacity, namesEntries                          *metrics.Gauge
}

func newPipelineMetrics(set *metrics.Set) *pipelineMetrics {
	return &pipelineMetrics{
		packets:      set.GetOrCreateCounter("outflow_sensor_packets_total"),
		drops:        set.GetOrCreateCounter("outflow_sensor_drops_total"),
		truncated:    set.GetOrCreateCounter("outflow_sensor_capture_truncated_total"),
		bytes:        set.GetOrCreateCounter("outflow_sensor_ip_bytes_total"),
		nonIP:        set.GetOrCreateCounter("outflow_sensor_non_ip_frames_total"),
		errTrunc:     set.GetOrCreateCounter(`outflow_sensor_decode_errors_total{kind="truncated"}`),
		errMalformed: set.GetOrCreateCounter(`outflow_sensor_decode_errors_total{kind="malformed"}`),
		errLink:      set.GetOrCreateCounter(`outflow_sensor_decode_errors_total{kind="unsupported_link"}`),
		transTrunc:   set.GetOrCreateCounter("outflow_sensor_transport_truncated_total"),
		fragUnmatch:  set.GetOrCreateCounter("outflow_sensor_fragments_unmatched_total"),
		created:      set.GetOrCreateCounter("outflow_sensor_flows_created_total"),
		evictions:    set.GetOrCreateCounter("outflow_sensor_flowtable_evictions_total"),
		expired:      set.GetOrCreateCounter("outflow_sensor_flows_expired_total"),
		records:      set.GetOrCreateCounter("outflow_sensor_flow_records_total"),
		namesLearned: set.GetOrCreateCounter("outflow_sensor_names_learned_total"),
		namesEvicted: set.GetOrCreateCounter("outflow_sensor_names_evicted_total"),
		namesDNSBad:  set.GetOrCreateCounter("outflow_sensor_dns_malformed_total"),
		namesEntries: set.GetOrCreateGauge("outflow_sensor_names_entries", nil),
		entries:      set.GetOrCreateGauge("outflow_sensor_flowtable_entries", nil),
		capacity:     set.GetOrCreateGauge("outflow_sensor_flowtable_capacity", nil),
	}
}

func addDelta(c *metrics.Counter, cur, prev uint64) {
	if cur > prev {
		c.AddInt64(int64(cur - prev))
	}
}

func (m *pipelineMetrics) update(s source.Stats, d decode.Stats, t flowtable.Stats, n names.Stats) {
	addDelta(m.namesLearned, n.Learned, m.prevN.Learned)
	addDelta(m.namesEvicted, n.Evicted, m.prevN.Evicted)
	addDelta(m.namesDNSBad, n.DNSBad, m.prevN.DNSBad)
	m.namesEntries.Add(float64(n.Entries - m.prevN.Entries))
	addDelta(m.packets, s.Packets, m.prevS.Packets)
	addDelta(m.drops, s.Drops, m.prevS.Drops)
	addDelta(m.truncated, s.Truncated, m.prevS.Truncated)
	addDelta(m.bytes, t.Bytes, m.prevT.Bytes)
	addDelta(m.nonIP, d.NotIP, m.prevD.NotIP)
	addDelta(m.errTrunc, d.Truncated, m.prevD.Truncated)
	addDelta(m.errMalformed, d.Malformed, m.prevD.Malformed)
	addDelta(m.errLink, d.UnsupportedLink, m.prevD.UnsupportedLink)
	addDelta(m.transTrunc, d.TransportTruncated, m.prevD.TransportTruncated)
	addDelta(m.fragUnmatch, d.FragmentsUnmatched, m.prevD.FragmentsUnmatched)
	addDelta(m.created, t.Created, m.prevT.Created)
	addDelta(m.evictions, t.Evictions, m.prevT.Evictions)
	addDelta(m.expired, t.Expired, m.prevT.Expired)
	addDelta(m.records, t.Records, m.prevT.Records)
	m.entries.Add(float64(t.Entries - m.prevT.Entries))
	m.capacity.Add(float64(t.Capacity - m.prevT.Capacity))
	m.prevS, m.prevD, m.prevT, m.prevN = s, d, t, n
}
