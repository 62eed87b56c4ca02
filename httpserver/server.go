package httpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Server is a running HTTP endpoint.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Health reports nil when the process is healthy.
type Health func() error

// Start listens on addr and serves /metrics from set, /healthz from health
// and the routes in mux (which may be nil).
func Start(addr string, set *metrics.Set, health Health, mux *http.ServeMux, log *slog.Logger) (*Server, error) {
	if mux == nil {
		mux = http.NewServeMux()
	}
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		WriteMetrics(w, set)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if health != nil {
			if err := health(); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http listen %s: %w", addr, err)
	}
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "addr", addr, "err", err)
		}
	}()
	return s, nil
}

// WriteMetrics writes set plus the Go runtime and process metrics.
func WriteMetrics(w io.Writer, set *metrics.Set) {
	set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops the server, waiting for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }
