package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// Alertmanager's webhook payload, version 4, mirroring
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
type amWebhookWire struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   *int              `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	} `json:"alerts"`
}

// A postable alert of Alertmanager's API v2, mirroring
// https://prometheus.io/docs/alerting/latest/clients/
type amPostableWire struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

var wantLabels = map[string]string{
	"alertname": "OutflowEgressAnomaly", "severity": "critical", "host": "10.1.2.3",
	"detectors": "new_destination,volume_spike",
}

func TestWebhookAlertmanagerPayload(t *testing.T) {
	rcv := newReceiver(t)
	n, err := NewWebhook(WebhookConfig{Name: "siem", URL: rcv.URL})
	if err != nil {
		t.Fatal(err)
	}
	a := testAlertRich()
	p := decodeStrict[amWebhookWire](t, post(t, n, rcv, a).body)
	if p.Version != "4" || p.Status != "firing" || p.Receiver != "siem" || p.TruncatedAlerts == nil || *p.TruncatedAlerts != 0 {
		t.Errorf("version %q status %q receiver %q truncatedAlerts %v", p.Version, p.Status, p.Receiver, p.TruncatedAlerts)
	}
	if want := `{}:{alertname="OutflowEgressAnomaly", host="10.1.2.3"}`; p.GroupKey != want {
		t.Errorf("groupKey %s, want %s", p.GroupKey, want)
	}
	if fmt.Sprint(p.GroupLabels) != fmt.Sprint(map[string]string{"alertname": "OutflowEgressAnomaly", "host": "10.1.2.3"}) ||
		fmt.Sprint(p.CommonLabels) != fmt.Sprint(wantLabels) {
		t.Errorf("groupLabels %v commonLabels %v", p.GroupLabels, p.CommonLabels)
	}
	if p.ExternalURL != "https://outflow.example.com" {
		t.Errorf("externalURL %q, want the web UI's root", p.ExternalURL)
	}
	if len(p.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(p.Alerts))
	}
	x := p.Alerts[0]
	if x.Status != "firing" || fmt.Sprint(x.Labels) != fmt.Sprint(wantLabels) || !x.StartsAt.Equal(a.Opened) || !x.EndsAt.IsZero() ||
		x.GeneratorURL != a.URL || x.Fingerprint != amLabels(wantLabels).fingerprint() {
		t.Errorf("alert %+v", x)
	}
	an := x.Annotations
	for k, want := range map[string]string{
		"title":     "UPDATE 2 [critical] 10.1.2.3 (finance-pc-7) sent 1.2 GB to 203.0.113.9 (files.example.net) and 1 more",
		"summary":   a.Summary,
		"alert_id":  "a1b2c3",
		"host_name": "finance-pc-7",
		"bytes_out": "1234000000",
		"score":     "91",
		"update":    "2",
		"url":       a.URL,
		"remotes":   "203.0.113.9 (files.example.net)\n198.51.100.7",
		"evidence":  "- volume_spike: 40x the host's usual for Tuesday 02:00\n  1.2 GB; baseline 31 MB; threshold 122 MB; 2025-03-04 02:00:00–02:15:00 UTC; score 88",
	} {
		if an[k] != want {
			t.Errorf("annotation %s = %q, want %q", k, an[k], want)
		}
	}
	for _, part := range []string{a.Summary, "Host: 10.1.2.3 (finance-pc-7)", "Remotes:\n203.0.113.9", "Evidence:\n- volume_spike", a.URL} {
		if !strings.Contains(an["description"], part) {
			t.Errorf("description lacks %q:\n%s", part, an["description"])
		}
	}
	if fmt.Sprint(p.CommonAnnotations) != fmt.Sprint(an) {
		t.Error("commonAnnotations differ from the one alert's annotations")
	}
}

func TestWebhookAlertmanagerResolved(t *testing.T) {
	a := testAlertRich()
	a.Status, a.Resolved = alert.StatusResolved, t0.Add(3*time.Hour)
	p := amWebhookFor(a, "r")
	if p.Status != "resolved" || p.Alerts[0].Status != "resolved" || !p.Alerts[0].EndsAt.Equal(a.Resolved) {
		t.Errorf("status %s/%s endsAt %s, want resolved at %s", p.Status, p.Alerts[0].Status, p.Alerts[0].EndsAt, a.Resolved)
	}
	// Same labels as when firing: receivers match the resolution to it.
	if p.Alerts[0].Fingerprint != amWebhookFor(testAlertRich(), "r").Alerts[0].Fingerprint {
		t.Error("resolution has another fingerprint than the firing alert")
	}
}

// The fingerprint is Alertmanager's: Prometheus' model.LabelSet.Fingerprint.
func TestAlertmanagerFingerprint(t *testing.T) {
	for _, tt := range []struct {
		labels amLabels
		want   string
	}{
		{amLabels{}, "cbf29ce484222325"}, // FNV-1a offset basis
		// 5799056148416392346, from prometheus/common model's signature tests.
		{amLabels{"name": "garland, briggs", "fear": "love is not enough"}, "507a62d79ee76c9a"},
	} {
		if got := tt.labels.fingerprint(); got != tt.want {
			t.Errorf("fingerprint(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}

func TestAlertmanagerLimitsAnnotations(t *testing.T) {
	an := amAnnotationsFor(testAlertHuge())
	for _, k := range []string{"remotes", "evidence", "description"} {
		if n := len([]rune(an[k])); n > amMaxAnnotation || n < amMaxAnnotation/4 {
			t.Errorf("annotation %s of %d characters, want at most %d", k, n, amMaxAnnotation)
		}
	}
	if !endsWithMoreLine(an["remotes"]) || !endsWithMoreLine(an["evidence"]) {
		t.Error("lists not cut between entries")
	}
}

func TestAlertmanagerPush(t *testing.T) {
	rcv := newReceiver(t)
	am, err := NewAlertmanager(AlertmanagerConfig{URL: rcv.URL + "/am/", Headers: map[string]string{"Authorization": "Bearer x"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 4, 3, 0, 0, 0, time.UTC)
	am.now = func() time.Time { return now }
	if am.ttl != DefaultAlertmanagerTTL || am.target.url != rcv.URL+"/am/api/v2/alerts" {
		t.Errorf("ttl %s url %s", am.ttl, am.target.url)
	}
	push := func(a *alert.Alert) []amPostableWire {
		t.Helper()
		if err := am.Notify(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		reqs := rcv.requests()
		r := reqs[len(reqs)-1]
		if r.header.Get("Authorization") != "Bearer x" {
			t.Error("header not sent")
		}
		return decodeStrict[[]amPostableWire](t, r.body)
	}

	a := testAlertRich()
	got := push(a)
	if len(got) != 1 || fmt.Sprint(got[0].Labels) != fmt.Sprint(wantLabels) || !got[0].StartsAt.Equal(a.Opened) ||
		!got[0].EndsAt.Equal(now.Add(DefaultAlertmanagerTTL)) || got[0].GeneratorURL != a.URL || got[0].Annotations["alert_id"] != "a1b2c3" {
		t.Fatalf("firing push %+v, want endsAt now+ttl", got)
	}

	// An update changing the severity: the old label set ends now.
	up := testAlertRich()
	up.Severity, up.Update = alert.SeverityWarning, 3
	got = push(up)
	if len(got) != 2 || got[0].Labels["severity"] != "warning" || got[1].Labels["severity"] != "critical" || !got[1].EndsAt.Equal(now) {
		t.Fatalf("update push %+v, want the new alert and the old labels ended now", got)
	}

	res := testAlertRich()
	res.Severity, res.Status, res.Resolved = alert.SeverityWarning, alert.StatusResolved, t0.Add(50*time.Minute)
	got = push(res)
	if len(got) != 1 || !got[0].EndsAt.Equal(res.Resolved) {
		t.Fatalf("resolved push %+v, want endsAt the resolution", got)
	}
	// Resolved in this clock's future (event time ahead): ends now.
	res.Resolved = now.Add(time.Hour)
	if got = push(res); !got[0].EndsAt.Equal(now) {
		t.Errorf("future resolution ends at %s, want now", got[0].EndsAt)
	}
	if len(am.sent) != 0 {
		t.Errorf("%d alerts remembered after resolution", len(am.sent))
	}
}

func TestAlertmanagerURLAndTTL(t *testing.T) {
	for in, want := range map[string]string{
		"http://am:9093":                 "http://am:9093/api/v2/alerts",
		"http://am:9093/":                "http://am:9093/api/v2/alerts",
		"https://x/prefix/api/v2/alerts": "https://x/prefix/api/v2/alerts",
	} {
		am, err := NewAlertmanager(AlertmanagerConfig{URL: in, TTL: time.Hour})
		if err != nil || am.target.url != want || am.ttl != time.Hour || am.Name() != "alertmanager" {
			t.Errorf("%s: url %s ttl %s name %s err %v, want %s", in, am.target.url, am.ttl, am.Name(), err, want)
		}
	}
}

func TestAlertmanagerForgetsOldest(t *testing.T) {
	am, _ := NewAlertmanager(AlertmanagerConfig{URL: "http://am:9093"})
	for i := range amMaxTracked + 10 {
		am.remember(fmt.Sprint(i), amLabels{}, false)
	}
	if len(am.sent) != amMaxTracked {
		t.Errorf("%d remembered, want %d", len(am.sent), amMaxTracked)
	}
	if _, ok := am.sent["0"]; ok {
		t.Error("the oldest is still remembered")
	}
}
