package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream and subject names.
const (
	FlowStream    = "OUTFLOW_FLOWS"
	AlertStream   = "OUTFLOW_ALERTS"
	StateBucket   = "outflow_state"
	FlowSubjects  = "outflow.flows.>"
	AlertSubjects = "outflow.alerts.>"
)

// StreamConfig bounds the streams: JetStream discards the oldest messages
// past these limits (and counts nothing itself: the consumer's lag metric
// shows a collector falling behind before that happens).
type StreamConfig struct {
	FlowMaxAge   time.Duration // default 24h
	FlowMaxBytes int64         // default 2 GiB
	AlertMaxAge  time.Duration // default 30 days
	// AlertMaxBytes bounds the alert stream, every notifier's queue: a
	// notifier this far behind loses the oldest (outflow_notify_dropped_total).
	AlertMaxBytes int64 // default 1 GiB
	Replicas      int   // 1 for the embedded server
	// Duplicates is the de-duplication window for batch message ids.
	Duplicates time.Duration // default 2m
}

func (c *StreamConfig) defaults() {
	if c.FlowMaxAge == 0 {
		c.FlowMaxAge = 24 * time.Hour
	}
	if c.FlowMaxBytes == 0 {
		c.FlowMaxBytes = 2 << 30
	}
	if c.AlertMaxAge == 0 {
		c.AlertMaxAge = 30 * 24 * time.Hour
	}
	if c.AlertMaxBytes == 0 {
		c.AlertMaxBytes = 1 << 30
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Duplicates == 0 {
		c.Duplicates = 2 * time.Minute
	}
}

// EnsureStreams creates or updates the flow and alert streams.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	cfg.defaults()
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: FlowStream, Subjects: []string{FlowSubjects},
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxAge: cfg.FlowMaxAge, MaxBytes: cfg.FlowMaxBytes, Duplicates: cfg.Duplicates, Replicas: cfg.Replicas,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", FlowStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: AlertStream, Subjects: []string{AlertSubjects},
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxAge: cfg.AlertMaxAge, MaxBytes: cfg.AlertMaxBytes, Duplicates: cfg.Duplicates, Replicas: cfg.Replicas,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", AlertStream, err)
	}
	return nil
}

// StateKV opens (creating if needed) the collector's state bucket.
func StateKV(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	if replicas == 0 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: StateBucket, History: 1, Storage: jetstream.FileStorage, Replicas: replicas,
		MaxValueSize: 1 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s: %w", StateBucket, err)
	}
	return kv, nil
}

// FlowSubject is the subject a sensor publishes a partition's batches on.
func FlowSubject(partition uint32, sensor string) string {
	return fmt.Sprintf("outflow.flows.%d.%s", partition, sensor)
}

// ValidToken reports whether s can be one NATS subject token (a sensor id).
func ValidToken(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if strings.ContainsAny(s, ".*> \t\r\n") {
		return fmt.Errorf("%q contains one of . * > or white space", s)
	}
	return nil
}
