package notify

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
)

// Alertmanager's vocabulary, shared by the webhook payload (version 4,
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config)
// and the push to an Alertmanager's API
// (https://prometheus.io/docs/alerting/latest/clients/).
//
// Labels identify an alert and are what Alertmanager routes, groups and
// silences on, so they hold only bounded values: alertname, severity, the
// internal host (one per host) and the sorted detector list (at most 2^8
// combinations). Everything else (names, remotes, evidence, numbers, the
// link) is in annotations.
const amAlertName = "OutflowEgressAnomaly"

// amMaxAnnotation bounds each list annotation (remotes, evidence,
// description) in characters: Alertmanager has no limit of its own, but
// templates, e-mails and pagers downstream do.
const amMaxAnnotation = 8000

type amLabels map[string]string

func amLabelsFor(a *alert.Alert) amLabels {
	l := amLabels{
		"alertname": amAlertName,
		"severity":  string(a.Severity),
		"host":      a.Host,
	}
	if len(a.Detectors) > 0 {
		d := slices.Clone(a.Detectors)
		slices.Sort(d)
		l["detectors"] = strings.Join(d, ",")
	}
	return l
}

func amAnnotationsFor(a *alert.Alert) map[string]string {
	m := messageFor(a)
	an := map[string]string{
		"title":       m.title,
		"summary":     m.summary,
		"description": truncate(m.plainText(amMaxAnnotation/4), amMaxAnnotation),
		"alert_id":    a.ID,
		"bytes_out":   strconv.FormatUint(a.BytesOut, 10),
		"score":       strconv.FormatFloat(a.Score, 'f', 0, 64),
	}
	if an["summary"] == "" {
		an["summary"] = m.title
	}
	set := func(k, v string) {
		if v != "" {
			an[k] = v
		}
	}
	set("host_name", a.HostName)
	set("remotes", truncateLines(m.remotes, amMaxAnnotation))
	set("evidence", truncateLines(m.evidence, amMaxAnnotation))
	set("url", a.URL)
	if a.Update > 0 {
		an["update"] = strconv.Itoa(a.Update)
	}
	return an
}

// String renders labels as Alertmanager does: {a="x", b="y"}, sorted.
func (l amLabels) String() string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// fingerprint is Alertmanager's (Prometheus common/model
// LabelSet.Fingerprint): FNV-1a 64 over the sorted names and values, each
// followed by the 0xff separator, printed as 16 hex digits.
func (l amLabels) fingerprint() string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(l[k]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// startsAt is when the incident began: its first evidence.
func startsAt(a *alert.Alert) time.Time {
	if !a.Opened.IsZero() {
		return a.Opened
	}
	return a.Start
}

// resolvedAt is when a resolved alert ended.
func resolvedAt(a *alert.Alert) time.Time {
	if !a.Resolved.IsZero() {
		return a.Resolved
	}
	return a.End
}

// externalURL is the web UI's root, taken back from the alert's link
// (collector.external_url + "/ui/alerts/" + ID); "" without one.
func externalURL(a *alert.Alert) string {
	base, ok := strings.CutSuffix(a.URL, "/ui/alerts/"+a.ID)
	if !ok {
		return ""
	}
	return base
}

// amWebhookPayload is Alertmanager's webhook body, version 4.
type amWebhookPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       amLabels          `json:"groupLabels"`
	CommonLabels      amLabels          `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amWebhookAlert  `json:"alerts"`
}

type amWebhookAlert struct {
	Status       string            `json:"status"`
	Labels       amLabels          `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"` // zero (0001-01-01T00:00:00Z) while firing, as Alertmanager sends it
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// amWebhookFor renders one alert as one notification: a group of one,
// grouped by alertname and host as the engine groups evidence per host.
func amWebhookFor(a *alert.Alert, receiver string) amWebhookPayload {
	labels := amLabelsFor(a)
	annotations := amAnnotationsFor(a)
	status, ends := alert.StatusFiring, time.Time{}
	if a.Status == alert.StatusResolved {
		status, ends = alert.StatusResolved, resolvedAt(a)
	}
	group := amLabels{"alertname": labels["alertname"], "host": labels["host"]}
	return amWebhookPayload{
		Version:           "4",
		GroupKey:          "{}:" + group.String(),
		Status:            status,
		Receiver:          receiver,
		GroupLabels:       group,
		CommonLabels:      labels,
		CommonAnnotations: annotations,
		ExternalURL:       externalURL(a),
		Alerts: []amWebhookAlert{{
			Status:       status,
			Labels:       labels,
			Annotations:  annotations,
			StartsAt:     startsAt(a),
			EndsAt:       ends,
			GeneratorURL: a.URL,
			Fingerprint:  labels.fingerprint(),
		}},
	}
}
