// Package httpserver is the operational HTTP endpoint both binaries share:
// /metrics in Prometheus text format (VictoriaMetrics/metrics: the
// process's own set plus Go and process metrics), /healthz, and whatever
// routes the caller adds. It starts and stops the server; it knows nothing
// of flows or alerts.
package httpserver
