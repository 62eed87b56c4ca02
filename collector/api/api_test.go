package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/collector/ingest"
)

type alerts []alert.Alert

func (a alerts) Alerts() []alert.Alert { return a }

type sensors []ingest.SensorHealth

func (s sensors) Sensors() []ingest.SensorHealth { return s }

func get(t *testing.T, url string) (int, map[string]json.RawMessage) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v: %s", url, err, body)
	}
	return resp.StatusCode, m
}

func ids(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var as []alert.Alert
	if err := json.Unmarshal(raw, &as); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func TestAPI(t *testing.T) {
	now := time.Date(2026, 3, 5, 2, 10, 0, 0, time.UTC)
	data := alerts{ // newest first, as the collector keeps them
		{ID: "c", Host: "10.0.0.2", Severity: alert.SeverityWarning, Detectors: []string{"new_destination"}, Start: now},
		{ID: "b", Host: "10.0.0.1", Severity: alert.SeverityCritical, Detectors: []string{"new_destination", "volume"}, Start: now},
		{ID: "a", Host: "10.0.0.1", Severity: alert.SeverityWarning, Detectors: []string{"volume"}, Start: now},
	}
	mux := http.NewServeMux()
	Register(mux, Options{Alerts: data, Sensors: sensors{{ID: "gw1", Source: "afpacket", Batches: 7}}})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"c", "b", "a"}},
		{"?host=10.0.0.1", []string{"b", "a"}},
		{"?severity=critical", []string{"b"}},
		{"?detector=volume", []string{"b", "a"}},
		{"?detector=volume&severity=warning", []string{"a"}},
		{"?limit=1", []string{"c"}},
		{"?host=10.9.9.9", []string{}},
	}
	for _, c := range cases {
		code, m := get(t, srv.URL+"/api/v1/alerts"+c.query)
		if code != 200 {
			t.Fatalf("%s: status %d", c.query, code)
		}
		if got := ids(t, m["alerts"]); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %v, want %v", c.query, got, c.want)
		}
	}
	if code, m := get(t, srv.URL+"/api/v1/alerts?limit=0"); code != 400 || string(m["error"]) != `"limit: want a number from 1 to 10000"` {
		t.Errorf("limit=0: %d %s", code, m["error"])
	}
	if code, m := get(t, srv.URL+"/api/v1/alerts/b"); code != 200 || string(m["host"]) != `"10.0.0.1"` {
		t.Errorf("alert b: %d %v", code, m)
	}
	if code, m := get(t, srv.URL+"/api/v1/alerts/zzz"); code != 404 || string(m["error"]) != `"no recent alert with id zzz"` {
		t.Errorf("alert zzz: %d %s", code, m["error"])
	}
	code, m := get(t, srv.URL+"/api/v1/sensors")
	var ss []ingest.SensorHealth
	if err := json.Unmarshal(m["sensors"], &ss); code != 200 || err != nil || len(ss) != 1 || ss[0].ID != "gw1" || ss[0].Batches != 7 {
		t.Errorf("sensors: %d %s", code, m["sensors"])
	}
}
