package api

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/engine"
	"github.com/outflowhq/outflow/collector/ingest"
	"github.com/outflowhq/outflow/collector/triage"
)

// Source is what the API reads.
type Source interface {
	Alerts() []alert.Alert // newest first
}

// SensorSource lists sensor health.
type SensorSource interface {
	Sensors() []ingest.SensorHealth
}

// HostSource reports on internal hosts (the collector).
type HostSource interface {
	HostReport(host netip.Addr, since time.Time, maxRemotes int) (engine.HostReport, bool)
	HostName(host string) string
}

// Options are what Register serves. Hosts and Triage may be nil: their
// routes then answer 404 and 403.
type Options struct {
	Alerts  Source
	Sensors SensorSource
	Hosts   HostSource
	Triage  *triage.Triage
	Auth    *Auth // nil: no tokens (read-only for everyone)
	// Detectors are the detector names, for the UI's filters.
	Detectors []string
}

// Register adds the API routes to mux (docs/api.md describes them):
//
//	GET    /api/v1/whoami
//	GET    /api/v1/alerts?host=&severity=&detector=&status=&triage=&limit=
//	GET    /api/v1/alerts/{id}
//	POST   /api/v1/alerts/{id}/{acknowledge,resolve,reopen,suppress,allowlist}
//	GET    /api/v1/rules
//	DELETE /api/v1/rules/{id}
//	GET    /api/v1/actions?alert=&limit=
//	GET    /api/v1/hosts/{host}?days=&remotes=
//	GET    /api/v1/sensors
func Register(mux *http.ServeMux, o Options) {
	if o.Auth == nil {
		o.Auth = &Auth{}
	}
	s := &server{Options: o}
	a := o.Auth
	mux.HandleFunc("GET /api/v1/whoami", a.read(func(w http.ResponseWriter, r *http.Request, c Caller) {
		writeJSON(w, map[string]any{"name": c.Name, "role": c.Role, "tokens": a.Enabled(), "detectors": o.Detectors})
	}))
	mux.HandleFunc("GET /api/v1/alerts", a.read(s.listAlerts))
	mux.HandleFunc("GET /api/v1/alerts/{id}", a.read(s.getAlert))
	mux.HandleFunc("GET /api/v1/sensors", a.read(func(w http.ResponseWriter, r *http.Request, _ Caller) {
		writeJSON(w, map[string]any{"sensors": o.Sensors.Sensors()})
	}))
	mux.HandleFunc("GET /api/v1/hosts/{host}", a.read(s.getHost))
	mux.HandleFunc("GET /api/v1/rules", a.read(s.listRules))
	mux.HandleFunc("GET /api/v1/actions", a.read(s.listActions))
	s.registerActions(mux)
}

type server struct{ Options }

// alertView is an alert with its incident's triage state.
type alertView struct {
	alert.Alert
	Triage triage.State `json:"triage"`
}

func (s *server) view(a alert.Alert) alertView {
	v := alertView{Alert: a, Triage: triage.State{Alert: a.ID, Status: triage.StatusOpen}}
	if s.Triage != nil {
		v.Triage = s.Triage.State(a.ID)
	}
	return v
}

func (s *server) listAlerts(w http.ResponseWriter, r *http.Request, _ Caller) {
	q := r.URL.Query()
	limit, ok := intParam(w, q.Get("limit"), "limit", 100, 1, 10000)
	if !ok {
		return
	}
	status, tri := q.Get("status"), q.Get("triage")
	if !oneOf(w, "status", status, alert.StatusFiring, alert.StatusResolved) ||
		!oneOf(w, "triage", tri, triage.StatusOpen, triage.StatusAcknowledged, triage.StatusResolved) ||
		!oneOf(w, "severity", q.Get("severity"), string(alert.SeverityInfo), string(alert.SeverityWarning), string(alert.SeverityCritical)) {
		return
	}
	out := []alertView{}
	for _, a := range s.Alerts.Alerts() {
		if h := q.Get("host"); h != "" && a.Host != h {
			continue
		}
		if sv := q.Get("severity"); sv != "" && string(a.Severity) != sv {
			continue
		}
		if d := q.Get("detector"); d != "" && !slices.Contains(a.Detectors, d) {
			continue
		}
		if status != "" && a.Status != status {
			continue
		}
		v := s.view(a)
		if tri != "" && v.Triage.Status != tri {
			continue
		}
		out = append(out, v)
		if len(out) == limit {
			break
		}
	}
	writeJSON(w, map[string]any{"alerts": out})
}

// find returns the recent alert with id, or answers 404.
func (s *server) find(w http.ResponseWriter, id string) (alert.Alert, bool) {
	for _, a := range s.Alerts.Alerts() {
		if a.ID == id {
			return a, true
		}
	}
	writeError(w, http.StatusNotFound, "no recent alert with id "+id)
	return alert.Alert{}, false
}

func (s *server) getAlert(w http.ResponseWriter, r *http.Request, _ Caller) {
	a, ok := s.find(w, r.PathValue("id"))
	if !ok {
		return
	}
	out := struct {
		alertView
		Actions []triage.Action `json:"actions"`
		Rules   []triage.Rule   `json:"rules"`
	}{alertView: s.view(a), Actions: []triage.Action{}, Rules: []triage.Rule{}}
	if s.Triage != nil {
		out.Actions = s.Triage.Actions(a.ID, 100)
		for _, ru := range s.Triage.Rules() {
			if ru.Host == a.Host {
				out.Rules = append(out.Rules, ru)
			}
		}
	}
	writeJSON(w, out)
}

func (s *server) listRules(w http.ResponseWriter, r *http.Request, _ Caller) {
	rules := []triage.Rule{}
	if s.Triage != nil {
		rules = append(rules, s.Triage.Rules()...)
	}
	writeJSON(w, map[string]any{"rules": rules})
}

func (s *server) listActions(w http.ResponseWriter, r *http.Request, _ Caller) {
	limit, ok := intParam(w, r.URL.Query().Get("limit"), "limit", 100, 1, 10000)
	if !ok {
		return
	}
	actions := []triage.Action{}
	if s.Triage != nil {
		actions = s.Triage.Actions(r.URL.Query().Get("alert"), limit)
	}
	writeJSON(w, map[string]any{"actions": actions})
}

// hostView is a host report with the host's name and its recent alerts.
type hostView struct {
	engine.HostReport
	Name   string   `json:"name,omitempty"`
	Alerts []string `json:"alerts"` // recent alert ids, newest first
}

func (s *server) getHost(w http.ResponseWriter, r *http.Request, _ Caller) {
	q := r.URL.Query()
	addr, err := netip.ParseAddr(r.PathValue("host"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "host: not an IP address: "+strconv.Quote(r.PathValue("host")))
		return
	}
	days, ok := intParam(w, q.Get("days"), "days", 7, 1, 28)
	if !ok {
		return
	}
	remotes, ok := intParam(w, q.Get("remotes"), "remotes", 20, 1, 1000)
	if !ok {
		return
	}
	if s.Hosts == nil {
		writeError(w, http.StatusNotFound, "no host reports here")
		return
	}
	// Windows are in event time (a replay's are in the past): keep the
	// last days before the host's newest window.
	rep, found := s.Hosts.HostReport(addr, time.Time{}, remotes)
	if !found {
		writeError(w, http.StatusNotFound, "the collector does not track host "+addr.String())
		return
	}
	if n := len(rep.Windows); n > 0 {
		cut := rep.Windows[n-1].Start.Add(-time.Duration(days) * 24 * time.Hour)
		i, _ := slices.BinarySearchFunc(rep.Windows, cut, func(w engine.WindowReport, t time.Time) int { return w.Start.Compare(t) })
		rep.Windows = rep.Windows[i:]
	}
	if rep.Windows == nil {
		rep.Windows = []engine.WindowReport{}
	}
	if rep.Remotes == nil {
		rep.Remotes = []engine.RemoteReport{}
	}
	v := hostView{HostReport: rep, Name: s.Hosts.HostName(rep.Host), Alerts: []string{}}
	for _, a := range s.Alerts.Alerts() {
		if a.Host == rep.Host {
			v.Alerts = append(v.Alerts, a.ID)
		}
	}
	writeJSON(w, v)
}

// intParam parses an optional integer query parameter in [lo, hi].
func intParam(w http.ResponseWriter, s, name string, def, lo, hi int) (int, bool) {
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		writeError(w, http.StatusBadRequest, name+": want a number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return 0, false
	}
	return n, true
}

// oneOf accepts "" or one of vals.
func oneOf(w http.ResponseWriter, name, v string, vals ...string) bool {
	if v == "" || slices.Contains(vals, v) {
		return true
	}
	b, _ := json.Marshal(vals)
	writeError(w, http.StatusBadRequest, name+": want one of "+string(b)+", got "+strconv.Quote(v))
	return false
}

func writeJSON(w http.ResponseWriter, v any) {
	setHeaders(w)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // JSON, never sniffed as HTML (nosniff)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	setHeaders(w)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"error": msg})
}

func setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}
