package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Triage names: the bucket holding triage state (per-incident status and
// run-time allowlist rules) and the stream holding the action log.
const (
	TriageBucket   = "outflow_triage"
	TriageStream   = "OUTFLOW_TRIAGE"
	TriageSubjects = "outflow.triage.>"
)

// TriageConfig bounds the triage bucket and the action log.
type TriageConfig struct {
	StateMaxBytes int64         // default 64 MiB
	LogMaxAge     time.Duration // default 365 days
	LogMaxBytes   int64         // default 256 MiB
	Replicas      int           // 1 for the embedded server
}

func (c *TriageConfig) defaults() {
	if c.StateMaxBytes == 0 {
		c.StateMaxBytes = 64 << 20
	}
	if c.LogMaxAge == 0 {
		c.LogMaxAge = 365 * 24 * time.Hour
	}
	if c.LogMaxBytes == 0 {
		c.LogMaxBytes = 256 << 20
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
}

// TriageKV opens (creating if needed) the triage state bucket. It is
// bounded in bytes; the triage package also prunes old entries itself.
func TriageKV(ctx context.Context, js jetstream.JetStream, cfg TriageConfig) (jetstream.KeyValue, error) {
	cfg.defaults()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: TriageBucket, History: 1, Storage: jetstream.FileStorage, Replicas: cfg.Replicas,
		MaxBytes: cfg.StateMaxBytes, MaxValueSize: 64 << 10,
	})
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s: %w", TriageBucket, err)
	}
	return kv, nil
}

// TriageLog is the action log: a stream of opaque entries, oldest
// discarded past its age and size limits.
type TriageLog struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	timeout time.Duration
}

// EnsureTriageLog creates or updates the action-log stream.
func EnsureTriageLog(ctx context.Context, js jetstream.JetStream, cfg TriageConfig) (*TriageLog, error) {
	cfg.defaults()
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: TriageStream, Subjects: []string{TriageSubjects},
		Storage: jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxAge: cfg.LogMaxAge, MaxBytes: cfg.LogMaxBytes, Replicas: cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", TriageStream, err)
	}
	return &TriageLog{js: js, stream: s, timeout: 10 * time.Second}, nil
}

// Append adds one entry under outflow.triage.<kind> (kind must be a valid
// subject token).
func (l *TriageLog) Append(kind string, data []byte) error {
	if err := ValidToken(kind); err != nil {
		return fmt.Errorf("triage log kind: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	if _, err := l.js.Publish(ctx, "outflow.triage."+kind, data); err != nil {
		return fmt.Errorf("append to %s: %w", TriageStream, err)
	}
	return nil
}

// Tail returns the newest n entries, oldest first.
func (l *TriageLog) Tail(ctx context.Context, n int) ([][]byte, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", TriageStream, err)
	}
	st := info.State
	if st.Msgs == 0 || n <= 0 {
		return nil, nil
	}
	start := st.FirstSeq
	if st.LastSeq >= uint64(n) && st.LastSeq-uint64(n)+1 > start {
		start = st.LastSeq - uint64(n) + 1
	}
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", TriageStream, err)
	}
	var out [][]byte
	for next := start; next <= st.LastSeq; {
		batch, err := cons.Fetch(int(st.LastSeq-next+1), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", TriageStream, err)
		}
		got := 0
		for m := range batch.Messages() {
			out = append(out, m.Data())
			got++
			if md, err := m.Metadata(); err == nil {
				next = md.Sequence.Stream + 1
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("read %s: %w", TriageStream, err)
		}
		if got == 0 {
			break // the rest was discarded meanwhile
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}
