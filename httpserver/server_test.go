package httpserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
)

func TestServer(t *testing.T) {
	set := metrics.NewSet()
	set.NewCounter(`outflow_test_things_total{kind="x"}`).Add(3)
	var unhealthy error
	mux := http.NewServeMux()
	mux.HandleFunc("GET /extra", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "extra") })
	s, err := Start("127.0.0.1:0", set, func() error { return unhealthy }, mux, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	body := func(path string) (int, string) {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, b := body("/metrics"); code != 200 || !strings.Contains(b, `outflow_test_things_total{kind="x"} 3`+"\n") || !strings.Contains(b, "go_goroutines") {
		t.Fatalf("/metrics: %d\n%s", code, b)
	}
	if code, b := body("/healthz"); code != 200 || b != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, b)
	}
	unhealthy = errors.New("nats: not connected")
	if code, b := body("/healthz"); code != 503 || b != "nats: not connected\n" {
		t.Fatalf("/healthz unhealthy: %d %q", code, b)
	}
	if code, b := body("/extra"); code != 200 || b != "extra" {
		t.Fatalf("/extra: %d %q", code, b)
	}
	if _, err := Start(s.Addr(), set, nil, nil, nil); err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Fatalf("second listen on %s: %v", s.Addr(), err)
	}
}
