package alert

import "time"

// Severity orders alerts for routing and display.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Status of an alert's incident.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Alert is what the collector tells people: one internal host, what it sent
// where, which detectors fired and why. It is written as one JSON object
// (JSON-lines file, webhook body) and rendered for chat.
type Alert struct {
	// ID is stable for the same host, detectors and first evidence (its
	// event time), so a replay of the same data yields the same ids; two
	// alerts never share one.
	ID          string     `json:"id"`
	Host        string     `json:"host"`                // internal IP
	HostName    string     `json:"host_name,omitempty"` // from collector.host_names, "" when not configured
	Remotes     []string   `json:"remotes"`             // external IPs, most bytes first
	RemoteNames []string   `json:"remote_names"`        // names learned for those remotes (DNS, SNI, Host), same order, "" when unknown
	Detectors   []string   `json:"detectors"`           // names of the detectors that fired, sorted
	Start       time.Time  `json:"start"`               // event time of the first evidence
	End         time.Time  `json:"end"`                 // event time of the last evidence
	BytesOut    uint64     `json:"bytes_out"`           // bytes the host sent in the evidence window
	Score       float64    `json:"score"`               // 0..100, higher is more unusual
	Severity    Severity   `json:"severity"`
	Summary     string     `json:"summary"` // one sentence with the numbers and the baseline they broke
	Evidence    []Evidence `json:"evidence"`
	// Sensors that reported the flows behind the evidence.
	Sensors []string `json:"sensors,omitempty"`

	// Status is "firing" until the behaviour stops, then one last
	// "resolved". Update counts the alerts sent about the same incident
	// (same ID) after the first: new detectors, remotes or a higher
	// severity, a reminder, the resolution. Opened is the incident's first
	// evidence (on updates), Resolved when it was resolved (event time).
	Status   string    `json:"status"`
	Update   int       `json:"update,omitempty"`
	Opened   time.Time `json:"opened,omitzero"`
	Resolved time.Time `json:"resolved,omitzero"`

	// URL is the alert's page in the web UI (collector.external_url +
	// "/ui/alerts/" + ID), empty when no external URL is configured.
	URL string `json:"url,omitempty"`
}

// Evidence is one detector's reason, with its numbers.
type Evidence struct {
	Detector string    `json:"detector"`
	Remote   string    `json:"remote,omitempty"`
	Name     string    `json:"remote_name,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	BytesOut uint64    `json:"bytes_out"`
	// Baseline is what the value was compared with (bytes), 0 when the
	// detector has no baseline (absolute thresholds).
	Baseline   float64   `json:"baseline"`
	Threshold  float64   `json:"threshold"`
	Score      float64   `json:"score"`
	FirstSeen  time.Time `json:"first_seen,omitzero"`  // when the host first talked to Remote
	Prevalence int       `json:"prevalence,omitempty"` // internal hosts that talked to Remote
	BytesIn    uint64    `json:"bytes_in,omitempty"`   // p2p: bytes received from the peers; volume: received on the same connections (not counted)
	Peers      int       `json:"peers,omitempty"`      // p2p: external peers on high ports
	PeersIn    int       `json:"peers_in,omitempty"`   // p2p: of which connected in
	// Connections and Interval: beaconing's connections to Remote and
	// their median interval in seconds.
	Connections int     `json:"connections,omitempty"`
	Interval    float64 `json:"interval_seconds,omitempty"`
	Reason      string  `json:"reason"` // one clause a human reads
	// Domain, Queries and UniqueNames: dns_tunnel's registered domain
	// (empty for names under no domain, sent straight to Remote), the
	// queries the host asked under it and how many unique subdomains (the
	// count stops at the detector's minimum); BytesOut is then the bytes
	// of those query names.
	Domain      string `json:"domain,omitempty"`
	Queries     int    `json:"queries,omitempty"`
	UniqueNames int    `json:"unique_names,omitempty"`
}
