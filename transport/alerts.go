package transport

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// AlertAckWait is how long a notifier may hold an alert without telling
// the server it is still working on it (it signals progress more often
// than this while it retries). It is also how soon after a crash, or a
// stop in the middle of retries, the alert is handed out again: the server
// keeps no earlier redelivery across its own restart.
const AlertAckWait = 10 * time.Second

// AlertConsumer creates or updates a notifier's durable consumer on the
// alert stream: every alert, in order, one at a time (an alert is not handed
// out again until it is acknowledged or AlertAckWait passes without
// progress). A new consumer starts at the stream's end, so a notifier added
// to the config does not receive the last month's alerts; an existing one
// resumes where it stopped. Collectors sharing the stream share each
// notifier's consumer, so each alert is delivered once by one of them.
//
// ackWait 0 means AlertAckWait.
func AlertConsumer(ctx context.Context, js jetstream.JetStream, notifier string, ackWait time.Duration) (jetstream.Consumer, error) {
	if ackWait <= 0 {
		ackWait = AlertAckWait
	}
	durable := AlertDurable(notifier)
	cons, err := js.CreateOrUpdateConsumer(ctx, AlertStream, jetstream.ConsumerConfig{
		Durable:       durable,
		Description:   "outflow notifier " + notifier,
		FilterSubject: AlertSubjects,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: 1,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", durable, AlertStream, err)
	}
	return cons, nil
}

// AlertDurable is the durable consumer name of a notifier: "notify_" and
// its name with '.' (not allowed in consumer names) as '_'.
func AlertDurable(notifier string) string {
	return "notify_" + strings.ReplaceAll(notifier, ".", "_")
}

// PublishAlert appends one alert (its JSON) to the alert stream on
// outflow.alerts.<severity>.<host>, with message id alert-<id>-<update>:
// an incident's alerts share its id, each update is its own message, and a
// publish retried within the duplicate window is stored once.
func PublishAlert(ctx context.Context, js jetstream.JetStream, severity, host, id string, update int, data []byte) error {
	subject := "outflow.alerts." + severity + "." + strings.NewReplacer(".", "-", ":", "-", "*", "-", ">", "-").Replace(host)
	_, err := js.Publish(ctx, subject, data, jetstream.WithMsgID(fmt.Sprintf("alert-%s-%d", id, update)))
	return err
}

// LastAlerts returns the data of the alert stream's last n messages, oldest
// first (the collector's recent list after a restart).
func LastAlerts(ctx context.Context, js jetstream.JetStream, n int) ([][]byte, error) {
	s, err := js.Stream(ctx, AlertStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", AlertStream, err)
	}
	st := s.CachedInfo().State
	if st.Msgs == 0 || n <= 0 {
		return nil, nil
	}
	start := st.FirstSeq
	if st.LastSeq >= uint64(n) {
		start = max(start, st.LastSeq-uint64(n)+1)
	}
	cons, err := js.OrderedConsumer(ctx, AlertStream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", AlertStream, err)
	}
	var out [][]byte
	for {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", AlertStream, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			out = append(out, m.Data())
			if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= st.LastSeq {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("read %s: %w", AlertStream, err)
		}
		if got == 0 { // the end was discarded meanwhile
			return out, nil
		}
	}
}
