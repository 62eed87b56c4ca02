package notify

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/transport"
)

// alertStream is a real JetStream (an embedded NATS server keeping its
// files in dir) with the collector's alert stream.
type alertStream struct {
	dir string
	emb *transport.Embedded
	js  jetstream.JetStream
}

func newAlertStream(t *testing.T) *alertStream {
	t.Helper()
	s := &alertStream{dir: t.TempDir()}
	s.start(t)
	t.Cleanup(s.stop)
	return s
}

// start (re)starts the server on the same directory.
func (s *alertStream) start(t *testing.T) {
	t.Helper()
	emb, err := transport.StartServer(transport.ServerConfig{StoreDir: s.dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := emb.Connect("notify-test")
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := transport.EnsureStreams(context.Background(), js, transport.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	s.emb, s.js = emb, js
}

func (s *alertStream) stop() {
	if s.emb != nil {
		s.emb.Shutdown()
		s.emb = nil
	}
}

// publish appends alerts to the stream as the collector does.
func (s *alertStream) publish(t *testing.T, as ...*alert.Alert) {
	t.Helper()
	for _, a := range as {
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := transport.PublishAlert(context.Background(), s.js, string(a.Severity), a.Host, a.ID, a.Update, data); err != nil {
			t.Fatal(err)
		}
	}
}

// dispatch starts a Dispatcher delivering the stream to ns (with retry,
// when not nil) and returns it with its metrics.
func (s *alertStream) dispatch(t *testing.T, retry *RetryPolicy, ns ...Notifier) (*Dispatcher, *metrics.Set) {
	t.Helper()
	set := metrics.NewSet()
	d := NewDispatcher(set, nil)
	d.AckWait = time.Second // an interrupted alert comes back a second after a restart
	for _, n := range ns {
		if err := d.Add(n, Options{Retry: retry}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Start(context.Background(), s.js); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	return d, set
}

// closeWithin closes d, waiting at most timeout for it to catch up.
func closeWithin(t *testing.T, d *Dispatcher, timeout time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.Close(ctx)
}
