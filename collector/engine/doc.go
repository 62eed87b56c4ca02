// Package engine is the collector's event-time detection core: it takes
// batches of flow records from sensors, keeps a watermark from the sensors'
// clocks, sums each internal host's outbound bytes into tumbling windows,
// learns a robust per-host baseline, runs the detectors (volume,
// new_destination), groups their evidence per host and returns alerts.
// Records wait until the watermark reaches them and are then processed in
// event-time order, so the alerts depend on the records alone, not on how
// sensors batched them.
//
// It owns the per-host state (baselines, destination history, open windows,
// pending evidence) and the fleet prevalence table, and persists them through
// the Store interface. It must not read the wall clock, log, or talk to the
// network: the caller feeds it records and delivers the alerts it returns.
// An Engine is used from one goroutine.
package engine
