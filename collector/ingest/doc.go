// Package ingest takes flow batches off the wire for the collector: it
// checks the schema header, decodes, rejects what it cannot read with a
// counted reason, keeps each sensor's last reported health for metrics and
// the API, and hands the records to the detection engine.
package ingest
