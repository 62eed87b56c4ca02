// Package baseline keeps what is normal for one internal host: a bounded ring
// of log(1+bytes out per window) over the host's past active windows, and
// the robust statistics (median, MAD) a detector compares a new window with.
//
// It owns no clock, no metrics and no I/O: the engine decides when a window
// closes, what value enters the ring (anomalous windows are clipped before
// they do) and how the ring is persisted (Values/Restore).
package baseline
