package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/outflowhq/outflow/wire"
)

// Delivery is one message handed to the consumer's handler.
type Delivery struct {
	Subject string
	Data    []byte
	Schema  string // the wire.HeaderSchema header, "" when absent
	Seq     uint64 // stream sequence
	msg     jetstream.Msg
}

// Consumer is the collector's durable pull consumer on the flow stream.
// Messages are handled one at a time, in stream order, and acknowledged
// after the handler returns.
type Consumer struct {
	cons jetstream.Consumer
	js   jetstream.JetStream
}

// NewConsumer creates or updates the durable consumer named durable on the
// flow stream (explicit acks, filter on subjects).
func NewConsumer(ctx context.Context, js jetstream.JetStream, durable, filter string) (*Consumer, error) {
	if filter == "" {
		filter = FlowSubjects
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, FlowStream, jetstream.ConsumerConfig{
		Durable:       durable,
		FilterSubject: filter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       2 * time.Minute,
		MaxAckPending: 4096,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", durable, FlowStream, err)
	}
	return &Consumer{cons: cons, js: js}, nil
}

// Run hands messages to handle until ctx ends. A handler error terminates
// the message (it is not redelivered: a batch the collector cannot read will
// not become readable by retrying); the handler is expected to have counted
// it.
func (c *Consumer) Run(ctx context.Context, handle func(*Delivery) error) error {
	it, err := c.cons.Messages(jetstream.PullMaxMessages(256))
	if err != nil {
		return fmt.Errorf("consume %s: %w", FlowStream, err)
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("consume %s: %w", FlowStream, err)
		}
		d := &Delivery{Subject: msg.Subject(), Data: msg.Data(), msg: msg}
		if h := msg.Headers(); h != nil {
			d.Schema = h.Get(wire.HeaderSchema)
		}
		if md, err := msg.Metadata(); err == nil {
			d.Seq = md.Sequence.Stream
		}
		if herr := handle(d); herr != nil {
			_ = msg.Term()
			continue
		}
		_ = msg.Ack()
	}
}

// Pending is how many stream messages the consumer has not yet been
// delivered, plus those delivered but not acknowledged: its lag.
func (c *Consumer) Pending(ctx context.Context) (uint64, error) {
	info, err := c.cons.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// LastSeq is the flow stream's last sequence number.
func LastSeq(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	s, err := js.Stream(ctx, FlowStream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}
