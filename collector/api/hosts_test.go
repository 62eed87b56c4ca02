package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/engine"
)

// hosts reports 10 days of hourly windows for one host.
type hosts struct{ last time.Time }

func (h hosts) HostReport(addr netip.Addr, since time.Time, maxRemotes int) (engine.HostReport, bool) {
	if addr.String() != "10.0.0.1" {
		return engine.HostReport{}, false
	}
	r := engine.HostReport{Host: "10.0.0.1", WindowSeconds: 3600}
	for i := 239; i >= 0; i-- {
		r.Windows = append(r.Windows, engine.WindowReport{Start: h.last.Add(-time.Duration(i) * time.Hour), BytesOut: float64(i)})
	}
	r.Remotes = []engine.RemoteReport{{Remote: "203.0.113.1", Name: "a.example"}, {Remote: "203.0.113.2"}}[:min(2, maxRemotes)]
	return r, true
}

func (hosts) HostName(host string) string { return map[string]string{"10.0.0.1": "build-01"}[host] }

func TestHostReport(t *testing.T) {
	last := time.Date(2025, 3, 6, 23, 0, 0, 0, time.UTC)
	mux := http.NewServeMux()
	Register(mux, Options{Alerts: alerts{{ID: "x", Host: "10.0.0.1"}, {ID: "y", Host: "10.0.0.2"}}, Hosts: hosts{last}})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	code, m := get(t, srv.URL+"/api/v1/hosts/10.0.0.1?days=2&remotes=1")
	var ws []engine.WindowReport
	var rs []engine.RemoteReport
	_ = json.Unmarshal(m["windows"], &ws)
	_ = json.Unmarshal(m["remotes"], &rs)
	if code != 200 || string(m["name"]) != `"build-01"` || string(m["alerts"]) != `[
    "x"
  ]` || len(ws) != 49 || !ws[0].Start.Equal(last.Add(-48*time.Hour)) || len(rs) != 1 {
		t.Errorf("host: %d name %s alerts %s, %d windows from %v, remotes %v", code, m["name"], m["alerts"], len(ws), ws[0].Start, rs)
	}
	for _, c := range []struct {
		path string
		code int
		err  string
	}{
		{"/api/v1/hosts/10.9.9.9", 404, `"the collector does not track host 10.9.9.9"`},
		{"/api/v1/hosts/nope", 400, `"host: not an IP address: \"nope\""`},
		{"/api/v1/hosts/10.0.0.1?days=29", 400, `"days: want a number from 1 to 28"`},
		{"/api/v1/alerts?status=open", 400, `"status: want one of [\"firing\",\"resolved\"], got \"open\""`},
	} {
		if code, m := get(t, srv.URL+c.path); code != c.code || string(m["error"]) != c.err {
			t.Errorf("%s: %d %s, want %d %s", c.path, code, m["error"], c.code, c.err)
		}
	}
	// Without triage every alert is open.
	if code, m := get(t, srv.URL+"/api/v1/alerts?triage=open"); code != 200 || len(ids(t, m["alerts"])) != 2 {
		t.Errorf("triage=open: %d %s", code, m["alerts"])
	}
	var x struct {
		Triage struct{ Status string } `json:"triage"`
	}
	_, m = get(t, srv.URL+"/api/v1/alerts/x")
	if b, _ := json.Marshal(m); json.Unmarshal(b, &x) != nil || x.Triage.Status != "open" {
		t.Errorf("alert x: %s", b)
	}
}
