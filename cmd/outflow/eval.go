package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/scenario"
)

const evalUsage = `Usage: outflow eval [flags]

Measures detection on labelled traffic. Generates the evaluation capture
(60 hosts, 14 days, benign heavy uploaders, incidents of every kind; see
scenario/README.md) into a temporary directory, or takes -capture and
-truth, runs the same analysis as 'outflow analyze', and prints, per
incident, whether the detector expected for it fired, and the false
alerts per 100 host-days.

An alert matches an incident when it is for the incident's host and its
[start, end] overlaps [incident start, incident end + grace]; the incident
is detected when a matching alert names one of its expected detectors.
Updates of an alert (same id) are matched like alerts; resolutions are
not. An alert none of whose updates matches an incident is one false
alert. Exit status 0 however it
went, unless -strict.

`

func runEval(args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), evalUsage); fs.PrintDefaults() }
	var c common
	c.register(fs)
	c.logLevel, fs.Lookup("log-level").DefValue = "warn", "warn"
	capture := fs.String("capture", "", "evaluate this capture instead of generating one (needs -truth)")
	truthPath := fs.String("truth", "", "ground truth of -capture: JSON as written by -keep (truth.json)")
	keep := fs.String("keep", "", "generate into DIR and keep eval.pcap, truth.json and alerts.jsonl there")
	grace := fs.Duration("grace", 10*time.Minute, "how long after an incident's last packet an alert still matches it")
	strict := fs.Bool("strict", false, "exit 1 when an incident is missed or there is more than 1 false alert per 100 host-days")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errors.New("no arguments expected")
	}
	if (*capture == "") != (*truthPath == "") {
		return errors.New("-capture and -truth go together")
	}
	if *capture != "" && *keep != "" {
		return errors.New("-keep generates a capture; it does not go with -capture")
	}
	f, err := c.load(fs, func(*config.File, string) {})
	if err != nil {
		return err
	}
	log, err := c.logger()
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()

	dir := *keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "outflow-eval-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	var truth scenario.Truth
	var genTime time.Duration
	if *capture == "" {
		*capture, *truthPath = filepath.Join(dir, "eval.pcap"), filepath.Join(dir, "truth.json")
		start := time.Now()
		if truth, err = writeCapture(scenario.EvalConfig(), *capture, false); err != nil {
			return err
		}
		genTime = time.Since(start)
		if err := writeTruth(*truthPath, truth); err != nil {
			return err
		}
	} else if truth, err = readTruth(*truthPath); err != nil {
		return err
	}

	alertsPath := filepath.Join(dir, "alerts.jsonl")
	start := time.Now()
	if err := analyze(ctx, f, []string{*capture}, alertsPath, nil, log); err != nil {
		return err
	}
	anaTime := time.Since(start)
	alerts, err := readAlerts(alertsPath)
	if err != nil {
		return err
	}
	rep := evaluate(truth, alerts, *grace, f.Collector.Detect.NewDestMinBytes)
	generated := ""
	if genTime > 0 {
		generated = fmt.Sprintf("generated in %s, ", genTime.Round(100*time.Millisecond))
	}
	fmt.Printf("eval: %s, %d packets, %d hosts × %.0f days = %.0f host-days; %sanalysed in %s\n",
		*capture, truth.Packets, len(truth.Hosts), rep.hostDays/float64(max(1, len(truth.Hosts))), rep.hostDays,
		generated, anaTime.Round(100*time.Millisecond))
	rep.print(os.Stdout, *grace)
	if *strict && (rep.missed > 0 || rep.falsePer100 > 1) {
		return fmt.Errorf("strict: %d incidents missed, %.2f false alerts per 100 host-days", rep.missed, rep.falsePer100)
	}
	return nil
}

func writeTruth(path string, t scenario.Truth) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

func readTruth(path string) (scenario.Truth, error) {
	var t scenario.Truth
	b, err := os.ReadFile(path)
	if err != nil {
		return t, fmt.Errorf("truth: %w", err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("truth %s: %w", path, err)
	}
	if len(t.Hosts) == 0 || !t.End.After(t.Start) {
		return t, fmt.Errorf("truth %s: no hosts or no time range", path)
	}
	return t, nil
}

func readAlerts(path string) ([]alert.Alert, error) {
	fh, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // no alert was ever written
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []alert.Alert
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var a alert.Alert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("alerts %s line %d: %w", path, n, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// incidentResult is how one incident fared.
type incidentResult struct {
	inc      scenario.IncidentTruth
	detected bool
	fired    []string // detectors of every matching alert
	delay    time.Duration
	from     string // what delay is measured from: "start" or a threshold
}

type report struct {
	incidents   []incidentResult
	missed      int
	falseAlerts []alert.Alert
	hostDays    float64
	falsePer100 float64
	roles       map[string][]string // host → benign roles
}

// evaluate matches alerts to incidents (see evalUsage). An incident's
// delay runs from its evidence to the alert's event time, its End (the
// newest event time it reports; the engine emits it at most group_wait plus
// the allowed lateness later). The evidence is the incident's start, or,
// when the alert's new_destination evidence is what caught it, the moment
// the incident's bytes reached newDestMin.
func evaluate(truth scenario.Truth, alerts []alert.Alert, grace time.Duration, newDestMin uint64) report {
	rep := report{roles: map[string][]string{}}
	rep.hostDays = float64(len(truth.Hosts)) * truth.End.Sub(truth.Start).Hours() / 24
	for role, hosts := range truth.Benign {
		for _, h := range hosts {
			rep.roles[h.String()] = append(rep.roles[h.String()], role)
		}
	}
	// An incident's alerts share its id: its first alert and updates are
	// matched one by one, its resolution is not evidence of anything.
	alerts = slices.DeleteFunc(slices.Clone(alerts), func(a alert.Alert) bool { return a.Status == alert.StatusResolved })
	matches := func(a alert.Alert, inc scenario.IncidentTruth) bool {
		return a.Host == inc.Host.String() && !a.Start.After(inc.End.Add(grace)) && !a.End.Before(inc.Start)
	}
	explained := make([]bool, len(alerts))
	for _, inc := range truth.Incidents {
		r := incidentResult{inc: inc}
		var hit *alert.Alert
		for i, a := range alerts {
			if !matches(a, inc) {
				continue
			}
			explained[i] = true
			for _, d := range a.Detectors {
				if !slices.Contains(r.fired, d) {
					r.fired = append(r.fired, d)
				}
			}
			expected := slices.ContainsFunc(a.Detectors, func(d string) bool { return slices.Contains(inc.Detectors, d) })
			if expected && (hit == nil || a.End.Before(hit.End)) {
				hit = &alerts[i]
			}
		}
		slices.Sort(r.fired)
		if hit != nil {
			r.detected = true
			evidence, from := inc.Start, "start"
			k := int((newDestMin + 999_999) / 1_000_000)
			if slices.Contains(hit.Detectors, "new_destination") && slices.Contains(inc.Detectors, "new_destination") && k >= 1 && k <= len(inc.OutMB) {
				evidence, from = inc.OutMB[k-1], alert.HumanBytes(newDestMin)+" sent"
			}
			r.delay, r.from = hit.End.Sub(evidence), from
		} else {
			rep.missed++
		}
		rep.incidents = append(rep.incidents, r)
	}
	// A false alert is an incident (id) none of whose alerts matched.
	key := func(i int) string {
		if alerts[i].ID == "" {
			return fmt.Sprint("#", i) // no id: an alert of its own
		}
		return alerts[i].ID
	}
	explainedID := map[string]bool{}
	for i := range alerts {
		if explained[i] {
			explainedID[key(i)] = true
		}
	}
	counted := map[string]bool{}
	for i, a := range alerts {
		if k := key(i); !explainedID[k] && !counted[k] {
			counted[k] = true
			rep.falseAlerts = append(rep.falseAlerts, a)
		}
	}
	if rep.hostDays > 0 {
		rep.falsePer100 = float64(len(rep.falseAlerts)) * 100 / rep.hostDays
	}
	return rep
}

func (rep report) print(w io.Writer, grace time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\n#\tkind\thost\tstart (UTC)\tlasts\texpected\tresult\tfired\tdelay\tfrom\n")
	for i, r := range rep.incidents {
		result, delay, from := "missed", "-", "-"
		if r.detected {
			result, delay, from = "detected", fmtDelay(r.delay), r.from
		}
		fired := strings.Join(r.fired, ",")
		if fired == "" {
			fired = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, r.inc.Kind, r.inc.Host, r.inc.Start.Format("Mon 01-02 15:04"),
			fmtDelay(r.inc.End.Sub(r.inc.Start)), strings.Join(r.inc.Detectors, "|"), result, fired, delay, from)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nby kind:")
	for _, kind := range scenario.Kinds() {
		n, d := 0, 0
		for _, r := range rep.incidents {
			if r.inc.Kind == kind {
				n++
				if r.detected {
					d++
				}
			}
		}
		if n > 0 {
			fmt.Fprintf(w, " %s %d/%d", kind, d, n)
		}
	}
	fmt.Fprintf(w, "\ndetected %d of %d incidents (matching grace %s)\n", len(rep.incidents)-rep.missed, len(rep.incidents), grace)
	fmt.Fprintf(w, "false alerts: %d in %.0f host-days = %.2f per 100 host-days\n", len(rep.falseAlerts), rep.hostDays, rep.falsePer100)
	if len(rep.falseAlerts) == 0 {
		return
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nstart (UTC)\thost\trole\tdetectors\tbytes out\tremote\n")
	for _, a := range rep.falseAlerts {
		remote := "-"
		if len(a.Remotes) > 0 {
			remote = a.Remotes[0]
			if len(a.RemoteNames) > 0 && a.RemoteNames[0] != "" {
				remote = a.RemoteNames[0] + " (" + remote + ")"
			}
		}
		role := strings.Join(rep.roles[a.Host], ",")
		if role == "" {
			role = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Start.Format("Mon 01-02 15:04"), a.Host, role, strings.Join(a.Detectors, ","), alert.HumanBytes(a.BytesOut), remote)
	}
	tw.Flush()
}

// fmtDelay prints a duration to the second, or to the minute past an hour.
func fmtDelay(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDelay(-d)
	}
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return time.Duration(math.Round(d.Seconds()) * float64(time.Second)).String()
}
