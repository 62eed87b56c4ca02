package transport

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/outflowhq/outflow/wire"
)

// Publisher publishes flow batches to JetStream, one message per batch,
// with the batch's MsgID as Nats-Msg-Id so the server drops retried
// duplicates. Not safe for concurrent use.
type Publisher struct {
	js  jetstream.JetStream
	buf []byte

	published, failed, retries, bytes *metrics.Counter
}

// NewPublisher registers its metrics on set.
func NewPublisher(js jetstream.JetStream, set *metrics.Set) *Publisher {
	return &Publisher{
		js:        js,
		published: set.NewCounter("outflow_sensor_batches_published_total"),
		failed:    set.NewCounter("outflow_sensor_batches_failed_total"),
		retries:   set.NewCounter("outflow_sensor_publish_retries_total"),
		bytes:     set.NewCounter("outflow_sensor_published_bytes_total"),
	}
}

// Publish sends b and waits for the stream's acknowledgement, retrying with
// backoff (100 ms doubling to 5 s) until it succeeds or ctx ends. A batch
// that could not be published by then is counted as failed.
func (p *Publisher) Publish(ctx context.Context, b *wire.Batch) error {
	data, err := wire.Encode(b, p.buf)
	if err != nil {
		p.failed.Inc()
		return fmt.Errorf("encode batch %s: %w", b.MsgID(), err)
	}
	p.buf = data
	msg := &nats.Msg{
		Subject: FlowSubject(b.Partition, b.SensorID),
		Data:    data,
		Header:  nats.Header{wire.HeaderSchema: []string{strconv.Itoa(wire.SchemaVersion)}},
	}
	id := b.MsgID()
	wait := 100 * time.Millisecond
	for {
		_, err = p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
		if err == nil {
			p.published.Inc()
			p.bytes.Add(len(data))
			return nil
		}
		if ctx.Err() != nil {
			p.failed.Inc()
			return fmt.Errorf("publish batch %s: %w", id, err)
		}
		p.retries.Inc()
		select {
		case <-ctx.Done():
			p.failed.Inc()
			return fmt.Errorf("publish batch %s: %w (last error: %v)", id, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}
