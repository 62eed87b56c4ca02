package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/ingest"
)

// Source is what the API reads.
type Source interface {
	Alerts() []alert.Alert // newest first
}

// SensorSource lists sensor health.
type SensorSource interface {
	Sensors() []ingest.SensorHealth
}

// Register adds the API routes to mux:
//
//	GET /api/v1/alerts?host=&severity=&detector=&limit=
//	GET /api/v1/alerts/{id}
//	GET /api/v1/sensors
func Register(mux *http.ServeMux, alerts Source, sensors SensorSource) {
	mux.HandleFunc("GET /api/v1/alerts", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := 100
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 10000 {
				writeError(w, http.StatusBadRequest, "limit: want a number from 1 to 10000")
				return
			}
			limit = n
		}
		out := []alert.Alert{}
		for _, a := range alerts.Alerts() {
			if h := q.Get("host"); h != "" && a.Host != h {
				continue
			}
			if s := q.Get("severity"); s != "" && string(a.Severity) != s {
				continue
			}
			if d := q.Get("detector"); d != "" && !slices.Contains(a.Detectors, d) {
				continue
			}
			out = append(out, a)
			if len(out) == limit {
				break
			}
		}
		writeJSON(w, map[string]any{"alerts": out})
	})
	mux.HandleFunc("GET /api/v1/alerts/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		for _, a := range alerts.Alerts() {
			if a.ID == id {
				writeJSON(w, a)
				return
			}
		}
		writeError(w, http.StatusNotFound, "no recent alert with id "+id)
	})
	mux.HandleFunc("GET /api/v1/sensors", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"sensors": sensors.Sensors()})
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
