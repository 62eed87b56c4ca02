package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/collector"
	"github.com/outflowhq/outflow/collector/notify"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/httpserver"
	"github.com/outflowhq/outflow/sensor"
	"github.com/outflowhq/outflow/transport"
	promql "github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// capture has an internal host uploading, so the collector also exports
// its per-host series once the windows close.
const capture = "../../shared/testdata/real/youtubeupload.pcap"

// ebpfSource registers the eBPF source's metrics; they need root, a kernel
// program and an interface, so they are read from the code (ebpfMetrics).
const ebpfSource = "../sensor/ebpf_linux.go"

// exported maps each metric name to the label names its series carry.
type exported map[string]map[string]bool

func (x exported) add(name string, labels ...string) {
	if x[name] == nil {
		x[name] = map[string]bool{"instance": true, "job": true} // added by the scrape
	}
	for _, l := range labels {
		x[name][l] = true
	}
}

func TestDashboards(t *testing.T) {
	names := scrapePipeline(t)
	names.addFromSource(t, ebpfSource)
	files, err := fs.Glob(FS, "*.json")
	if err != nil || len(files) != 3 {
		t.Fatalf("dashboards %v, %v", files, err)
	}
	uids := map[string]string{}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := FS.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), "${DS_") || strings.Contains(string(data), "__inputs") {
				t.Error("uses ${DS_...} inputs: use the ${datasource} variable")
			}
			var d dashboard
			if err := json.Unmarshal(data, &d); err != nil {
				t.Fatal(err)
			}
			if d.UID == "" || d.Title == "" || uids[d.UID] != "" {
				t.Errorf("uid %q (also in %q), title %q", d.UID, uids[d.UID], d.Title)
			}
			uids[d.UID] = f
			vars := checkVariables(t, d.Templating.List, names)
			checkPanels(t, d.Panels, vars, names)
		})
	}
}

type dashboard struct {
	UID, Title string
	Templating struct{ List []variable }
	Panels     []panel
}

type datasource struct{ Type, UID string }

type variable struct {
	Name, Type string
	Datasource *datasource
	Query      json.RawMessage // a string, or {"query": ...} for query variables
}

type panel struct {
	ID          json.Number
	Type, Title string
	Datasource  *datasource
	FieldConfig struct {
		Defaults struct{ Unit string }
	}
	Targets []struct {
		RefID        string
		Datasource   *datasource
		Expr         string
		LegendFormat string
	}
	Panels []panel // a row's
}

func usesDatasourceVar(d *datasource) bool {
	return d != nil && d.Type == "prometheus" && d.UID == "${datasource}"
}

// checkVariables checks the template variables and returns their names.
func checkVariables(t *testing.T, list []variable, names exported) map[string]bool {
	vars := map[string]bool{}
	for _, v := range list {
		if vars[v.Name] || v.Name == "" {
			t.Errorf("variable %q: empty or defined twice", v.Name)
		}
		vars[v.Name] = true
		switch v.Type {
		case "datasource":
			var q string
			if err := json.Unmarshal(v.Query, &q); err != nil || q != "prometheus" || v.Name != "datasource" {
				t.Errorf("variable %q: want the datasource variable of type prometheus, got query %s", v.Name, v.Query)
			}
		case "query":
			var q struct{ Query string }
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Errorf("variable %q: query %s: %v", v.Name, v.Query, err)
			}
			if !usesDatasourceVar(v.Datasource) {
				t.Errorf("variable %q: datasource %+v, want ${datasource}", v.Name, v.Datasource)
			}
			m := labelValues.FindStringSubmatch(q.Query)
			if m == nil {
				t.Errorf("variable %q: want label_values(selector, label), got %q", v.Name, q.Query)
				continue
			}
			checkExpr(t, "variable "+v.Name, m[1], []string{m[2]}, vars, names)
		default:
			t.Errorf("variable %q: type %q", v.Name, v.Type)
		}
	}
	if !vars["datasource"] {
		t.Error("no datasource variable")
	}
	return vars
}

var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

func checkPanels(t *testing.T, panels []panel, vars map[string]bool, names exported) {
	ids := map[json.Number]bool{}
	var walk func([]panel)
	walk = func(panels []panel) {
		for _, p := range panels {
			if ids[p.ID] {
				t.Errorf("panel id %s twice", p.ID)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			where := fmt.Sprintf("panel %q", p.Title)
			if !usesDatasourceVar(p.Datasource) {
				t.Errorf("%s: datasource %+v, want ${datasource}", where, p.Datasource)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit (fieldConfig.defaults.unit)", where)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				if !usesDatasourceVar(tg.Datasource) {
					t.Errorf("%s target %s: datasource %+v, want ${datasource}", where, tg.RefID, tg.Datasource)
				}
				checkExpr(t, where+" target "+tg.RefID, tg.Expr, legendLabels(tg.LegendFormat), vars, names)
				for _, v := range varRef.FindAllStringSubmatch(tg.LegendFormat, -1) {
					checkVar(t, where, v[1], vars)
				}
			}
		}
	}
	walk(panels)
}

var (
	// varRef finds Grafana variable references: $name, ${name}, ${name:format}.
	varRef = regexp.MustCompile(`\$\{?(\w+)(?::\w+)?\}?`)
	legend = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)
)

func legendLabels(format string) []string {
	var out []string
	for _, m := range legend.FindAllStringSubmatch(format, -1) {
		out = append(out, m[1])
	}
	return out
}

func checkVar(t *testing.T, where, name string, vars map[string]bool) {
	t.Helper()
	if !vars[name] && !strings.HasPrefix(name, "__") {
		t.Errorf("%s: undefined variable $%s", where, name)
	}
}

// checkExpr parses expr as PromQL once Grafana's variables are replaced
// (ranges by a duration, others by a label value), and checks that every
// metric it names is exported, with the labels it matches, groups by or
// shows in the legend.
func checkExpr(t *testing.T, where, expr string, shown []string, vars map[string]bool, names exported) {
	t.Helper()
	if expr == "" {
		t.Errorf("%s: empty query", where)
		return
	}
	sub := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		checkVar(t, where, name, vars)
		if strings.HasPrefix(name, "__") { // $__rate_interval, $__interval, $__range
			return "5m"
		}
		return "value"
	})
	e, err := promql.NewParser(promql.Options{}).ParseExpr(sub)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return
	}
	labels := map[string]bool{}
	var grouping []string
	promql.Inspect(e, func(n promql.Node, _ []promql.Node) error {
		switch n := n.(type) {
		case *promql.VectorSelector:
			l, ok := names[n.Name]
			if !ok {
				t.Errorf("%s: metric %s is not exported", where, n.Name)
				return nil
			}
			for _, m := range n.LabelMatchers {
				if m.Name != "__name__" && !l[m.Name] {
					t.Errorf("%s: %s has no label %q", where, n.Name, m.Name)
				}
			}
			for k := range l {
				labels[k] = true
			}
		case *promql.AggregateExpr:
			grouping = append(grouping, n.Grouping...)
		}
		return nil
	})
	for _, l := range append(grouping, shown...) {
		if !labels[l] {
			t.Errorf("%s: label %q is on none of its metrics", where, l)
		}
	}
}

// scrapePipeline runs a collector and a sensor in this process, as
// `outflow analyze` does but each with its own metrics set and /metrics
// endpoint like the two processes, replays capture, closes the windows, and
// returns what the two endpoints export.
func scrapePipeline(t *testing.T) exported {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	cc := f.Collector
	cc.DataDir, cc.NATS.URL, cc.NATS.Listen = dir, "", ""
	cc.Notify.JSONL = append(cc.Notify.JSONL, notify.JSONLConfig{Name: "alerts", Path: filepath.Join(dir, "alerts.jsonl")})
	colSet, senSet := metrics.NewSet(), metrics.NewSet()
	col, err := collector.New(ctx, cc, colSet, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := col.Close(ctx); err != nil {
			t.Error(err)
		}
	}()
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- col.Run(runCtx) }()

	sc := f.Sensor
	sc.ID, sc.Pcap = "test", []string{capture}
	pub := transport.NewPublisher(col.JetStream(), senSet)
	if err := sensor.Run(ctx, &sc, sensor.Options{Publisher: pub, Metrics: senSet, Log: log}); err != nil {
		t.Fatal(err)
	}
	for done := false; !done; time.Sleep(20 * time.Millisecond) {
		if done, err = col.Drained(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stopRun()
	if err := <-runDone; err != nil && ctx.Err() == nil && runCtx.Err() == nil {
		t.Fatal(err)
	}
	col.Finish() // closes the windows: the per-host series appear

	names := exported{}
	for _, set := range []*metrics.Set{colSet, senSet} {
		names.addFromScrape(t, set)
	}
	if len(names) < 50 {
		t.Fatalf("only %d metrics exported", len(names))
	}
	return names
}

// addFromScrape serves set on /metrics as the binaries do and reads it.
func (x exported) addFromScrape(t *testing.T, set *metrics.Set) {
	t.Helper()
	srv, err := httpserver.Start("127.0.0.1:0", set, nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(strings.Fields(line)[0], "{")
		x.add(name, labelNames(rest)...)
	}
}

var labelName = regexp.MustCompile(`(\w+)=`)

func labelNames(s string) []string {
	var out []string
	for _, m := range labelName.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// addFromSource adds the metrics the Go file at path registers on a
// metrics.Set: the first argument of every GetOrCreate*/New* call on it, a
// string literal or a fmt.Sprintf format ("name{label=%q}").
func (x exported) addFromSource(t *testing.T, path string) {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		kind, ok := strings.CutPrefix(sel.Sel.Name, "GetOrCreate")
		if !ok {
			if kind, ok = strings.CutPrefix(sel.Sel.Name, "New"); !ok {
				return true
			}
		}
		if !slices.Contains([]string{"Counter", "FloatCounter", "Gauge", "Histogram", "Summary"}, kind) {
			return true
		}
		arg := call.Args[0]
		if c, ok := arg.(*ast.CallExpr); ok && len(c.Args) > 0 { // fmt.Sprintf(format, ...)
			arg = c.Args[0]
		}
		lit, ok := arg.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Errorf("%s: %s: metric name is not a literal", path, sel.Sel.Name)
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		name, rest, _ := strings.Cut(s, "{")
		labels := labelNames(rest)
		switch kind {
		case "Histogram": // VictoriaMetrics histograms: vmrange buckets, _sum and _count
			x.add(name+"_bucket", append(labels, "vmrange")...)
			x.add(name+"_sum", labels...)
			x.add(name+"_count", labels...)
		case "Summary":
			x.add(name, append(labels, "quantile")...)
			x.add(name+"_sum", labels...)
			x.add(name+"_count", labels...)
		default:
			x.add(name, labels...)
		}
		found++
		return true
	})
	if found < 10 {
		t.Fatalf("%s: only %d metrics found: has the registration moved?", path, found)
	}
}

// The provisioning examples are valid YAML of the shape Grafana reads.
func TestProvisioning(t *testing.T) {
	var dash struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct{ Name, Type, URL string }
	}
	for path, v := range map[string]any{"provisioning/dashboards/outflow.yaml": &dash, "provisioning/datasources/prometheus.yaml": &ds} {
		data, err := FS.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	if dash.APIVersion != 1 || len(dash.Providers) != 1 || dash.Providers[0].Type != "file" || dash.Providers[0].Options.Path == "" {
		t.Errorf("dashboard provider %+v", dash)
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL == "" {
		t.Errorf("datasource %+v", ds)
	}
}

// TestCardinality keeps every series bounded: labels name detectors,
// severities, notifiers, reasons, stages, interfaces and sensors — sets the
// code or the config defines — and only the capped per-host series carry an
// address (collector.detect.max_host_series). No remote address or port is
// ever a label.
func TestCardinality(t *testing.T) {
	names := scrapePipeline(t)
	names.addFromSource(t, ebpfSource)
	bounded := map[string]bool{
		"instance": true, "job": true, // added by the scrape
		"detector": true, "severity": true, "notifier": true, "reason": true, "basis": true,
		"result": true, "stage": true, "interface": true, "mode": true, "kind": true,
		"vmrange": true, "quantile": true, "direction": true, "level": true, "state": true,
		"sensor": true, // at most 256 tracked (outflow_collector_sensors_untracked_total)
	}
	for name, labels := range names {
		if !strings.HasPrefix(name, "outflow_") {
			continue
		}
		for l := range labels {
			switch {
			case l == "host" && strings.HasPrefix(name, "outflow_collector_host_"):
			case l == "host":
				t.Errorf("%s: only the capped outflow_collector_host_* series may carry a host", name)
			case !bounded[l]:
				t.Errorf("%s: label %q is not one of the bounded label names (an address or port must never be a label)", name, l)
			}
		}
	}
}
