package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/triage"
)

// Request bodies of the actions (JSON; unknown fields are refused).
type (
	noteBody struct {
		Note string `json:"note"`
	}
	suppressBody struct {
		Remote   string `json:"remote"`
		Detector string `json:"detector"`
		Duration string `json:"duration"` // Go syntax: 30m, 4h, 168h
		Note     string `json:"note"`
	}
	allowlistBody struct {
		Remote string `json:"remote"`
		Domain string `json:"domain"`
		Note   string `json:"note"`
	}
)

func (s *server) registerActions(mux *http.ServeMux) {
	a := s.Auth
	status := func(st string) handler {
		return s.onAlert(func(w http.ResponseWriter, r *http.Request, c Caller, al alert.Alert) {
			var b noteBody
			if !decode(w, r, &b) {
				return
			}
			res, err := s.Triage.SetStatus(c.Name, al.ID, st, b.Note)
			answer(w, map[string]any{"state": res}, err)
		})
	}
	mux.HandleFunc("POST /api/v1/alerts/{id}/acknowledge", a.admin(status(triage.StatusAcknowledged)))
	mux.HandleFunc("POST /api/v1/alerts/{id}/resolve", a.admin(status(triage.StatusResolved)))
	mux.HandleFunc("POST /api/v1/alerts/{id}/reopen", a.admin(status(triage.StatusOpen)))
	mux.HandleFunc("POST /api/v1/alerts/{id}/suppress", a.admin(s.onAlert(func(w http.ResponseWriter, r *http.Request, c Caller, al alert.Alert) {
		var b suppressBody
		if !decode(w, r, &b) {
			return
		}
		d, err := time.ParseDuration(b.Duration)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("duration: want a duration such as 30m, 4h or 168h, got %q", b.Duration))
			return
		}
		rule, err := s.Triage.Suppress(c.Name, al, triage.Suppression{Remote: b.Remote, Detector: b.Detector, For: d, Note: b.Note})
		answer(w, map[string]any{"rule": rule}, err)
	})))
	mux.HandleFunc("POST /api/v1/alerts/{id}/allowlist", a.admin(s.onAlert(func(w http.ResponseWriter, r *http.Request, c Caller, al alert.Alert) {
		var b allowlistBody
		if !decode(w, r, &b) {
			return
		}
		rule, err := s.Triage.Allowlist(c.Name, al, triage.Destination{Remote: b.Remote, Domain: b.Domain, Note: b.Note})
		answer(w, map[string]any{"rule": rule}, err)
	})))
	mux.HandleFunc("DELETE /api/v1/rules/{id}", a.admin(func(w http.ResponseWriter, r *http.Request, c Caller) {
		if s.Triage == nil {
			writeError(w, http.StatusNotFound, "no rule "+r.PathValue("id"))
			return
		}
		err := s.Triage.RemoveRule(c.Name, r.PathValue("id"))
		if errors.Is(err, triage.ErrNoRule) {
			writeError(w, http.StatusNotFound, "no rule "+r.PathValue("id"))
			return
		}
		answer(w, map[string]any{"removed": r.PathValue("id")}, err)
	}))
}

// onAlert finds the path's alert (404 when it is not a recent one).
func (s *server) onAlert(h func(http.ResponseWriter, *http.Request, Caller, alert.Alert)) handler {
	return func(w http.ResponseWriter, r *http.Request, c Caller) {
		if s.Triage == nil {
			writeError(w, http.StatusForbidden, "triage is not enabled on this collector")
			return
		}
		if a, ok := s.find(w, r.PathValue("id")); ok {
			h(w, r, c, a)
		}
	}
}

// decode reads a JSON body (empty means {}) into v, answering 400 with the
// bad field's name.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		msg := "body: not a JSON object: " + err.Error()
		switch {
		case errors.As(err, &te):
			msg = fmt.Sprintf("%s: want a %s", te.Field, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			msg = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`) + ": unknown field"
		}
		writeError(w, http.StatusBadRequest, msg)
		return false
	}
	return true
}

// answer writes v, or the error: 400 for the caller's mistakes, 500 for
// ours.
func answer(w http.ResponseWriter, v any, err error) {
	var in *triage.InputError
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, in.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, v)
	}
}
