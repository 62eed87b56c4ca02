// Package dashboards holds Outflow's Grafana dashboards (overview, host
// drill-down, sensor health) as JSON, with provisioning examples; FS embeds
// them. Its test checks every query against the metrics the collector and
// sensors really export. It must not depend on a Grafana instance.
package dashboards

import "embed"

// FS holds the dashboards (*.json) and the provisioning examples.
//
//go:embed *.json provisioning
var FS embed.FS
