package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/scenario"
)

// chromium finds the browser: skipped without one, failed when CI=true.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium); the browser tests must run in CI")
	}
	t.Skip("chromium is not installed")
	return ""
}

// screenshotDir is $OUTFLOW_SCREENSHOTS, or the test's temp dir.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("OUTFLOW_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// The web UI in headless Chromium against a collector that saw the demo
// leak: sign in, the alert list, the alert with its evidence, acknowledge
// it, the host chart, the sensors page. Screenshots of each step are saved.
func TestWebUI(t *testing.T) {
	browser := chromium(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	capture := filepath.Join(dir, "demo.pcap")
	truth, err := writeCapture(scenario.DemoConfig(), capture, true)
	if err != nil {
		t.Fatal(err)
	}
	inc := truth.Incidents[0]

	tc := startTriageCollector(t, filepath.Join(dir, "data"), 0, func(c *config.Collector) {
		c.NATS.Listen = "127.0.0.1:0" // the sensor process connects over TCP
		c.HostNames = map[string]string{inc.Host.String(): "ws-17.office"}
	})
	defer tc.stop()
	col, srv := tc.col, tc.srv
	cmd := exec.Command(os.Args[0], "sensor", "-id", "gw-tap", "-pcap", capture, "-nats", col.NATSURL(), "-listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "OUTFLOW_TEST_MAIN=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sensor process: %v\n%s", err, out)
	}
	var leak alert.Alert
	for deadline := time.Now().Add(30 * time.Second); leak.ID == ""; time.Sleep(50 * time.Millisecond) {
		for _, a := range col.Alerts() {
			if a.Host == inc.Host.String() {
				leak = a
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no alert for the leak within 30s")
		}
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 60*time.Second)
	defer cancelTimeout()

	base := "http://" + srv.Addr()
	type css = chromedp.CSS
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				return err
			}
			p := filepath.Join(shots, name+".png")
			fmt.Printf("screenshot: %s\n", p)
			return os.WriteFile(p, buf, 0o644)
		})
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
		if err != nil {
			t.Fatalf("count %s: %v", sel, err)
		}
		return n
	}
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	// The alert's own link opens its page once signed in; start at the list.
	run("sign in",
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css("#token")),
		shot("01-sign-in"),
		chromedp.SendKeys(css("#token"), adminToken),
		chromedp.Click(css(`#login button`)),
		chromedp.WaitVisible(css(`#alerts tr[data-id="`+leak.ID+`"]`)),
		shot("02-alerts"),
	)
	row := text(`#alerts tr[data-id="` + leak.ID + `"]`)
	for _, want := range []string{"critical", inc.Host.String(), "ws-17.office", "new_destination", "volume", "open"} {
		if !strings.Contains(row, want) {
			t.Errorf("alert row %q lacks %q", row, want)
		}
	}
	if who := text("#who"); !strings.Contains(who, "alice (admin)") {
		t.Errorf("header says %q", who)
	}

	run("open the alert",
		chromedp.Click(css(`#alerts tr[data-id="`+leak.ID+`"] td:nth-child(5) a`)),
		chromedp.WaitVisible(css("#evidence")),
		shot("03-alert"),
	)
	if ev := text("#evidence"); !strings.Contains(ev, inc.RemoteName) || !strings.Contains(ev, inc.Remote.String()) {
		t.Errorf("evidence %q does not name %s (%s)", ev, inc.Remote, inc.RemoteName)
	}
	path, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if want := base + "/ui/alerts/" + leak.ID; path != want {
		t.Errorf("alert page at %s, want %s", path, want)
	}

	run("acknowledge",
		chromedp.SendKeys(css("#note"), "asked the user"),
		chromedp.Click(css("#ack")),
		chromedp.WaitVisible(css("#actions")),
		shot("04-acknowledged"),
	)
	if st := text("#triage-status"); !strings.Contains(st, "acknowledged by alice") || !strings.Contains(st, "asked the user") {
		t.Errorf("triage status after acknowledging: %q", st)
	}
	if s := col.Alerts(); len(s) == 0 {
		t.Fatal("alerts gone")
	}
	_, m := tc.call("GET", "/api/v1/alerts/"+leak.ID, readToken, "")
	if st := m["triage"].(map[string]any); st["status"] != "acknowledged" || st["by"] != "alice" {
		t.Errorf("API triage state after the UI acknowledged: %v", st)
	}

	// Allowlist the destination for this host from the alert page.
	run("allowlist",
		chromedp.SetValue(css("#allow-dest"), "remote:"+inc.Remote.String()),
		chromedp.Click(css("#allowlist")),
		chromedp.WaitVisible(css("#rules")),
	)
	if r := text("#rules"); !strings.Contains(r, "allowlist") || !strings.Contains(r, inc.Remote.String()) || !strings.Contains(r, "permanent") {
		t.Errorf("rules table after allowlisting: %q", r)
	}
	_, m = tc.call("GET", "/api/v1/rules", readToken, "")
	if rules := m["rules"].([]any); len(rules) != 1 || rules[0].(map[string]any)["kind"] != "allowlist" ||
		rules[0].(map[string]any)["remote"] != inc.Remote.String() || rules[0].(map[string]any)["host"] != inc.Host.String() ||
		rules[0].(map[string]any)["by"] != "alice" {
		t.Errorf("rules after the UI allowlisted: %v", m)
	}

	run("host page",
		chromedp.Click(css(`.facts a[href^="/ui/hosts/"]`)),
		chromedp.WaitVisible(css("#chart svg rect.bar")),
		chromedp.WaitVisible(css("#remotes")),
		shot("05-host"),
	)
	bars, over, bands := count("#chart rect.bar"), count("#chart rect.bar.over"), count("#chart path.band")
	// Four days of hourly windows (the replay's), the leak's hour over its limit.
	if bars < 72 || bars > 97 || over < 1 || bands != 1 {
		t.Errorf("chart has %d bars, %d over the limit, %d bands", bars, over, bands)
	}
	if rem := text("#remotes"); !strings.Contains(rem, inc.RemoteName) {
		t.Errorf("top remotes lack %s: %q", inc.RemoteName, rem)
	}

	run("sensors page",
		chromedp.Click(css(`header a[href="/ui/sensors"]`)),
		chromedp.WaitVisible(css("#sensors")),
		shot("06-sensors"),
	)
	if s := text("#sensors"); !strings.Contains(s, "gw-tap") || !strings.Contains(s, "pcap") {
		t.Errorf("sensors page: %q", s)
	}

	run("filter unacknowledged",
		chromedp.Navigate(base+"/ui/?triage=open"),
		chromedp.WaitVisible(css("#list p")),
	)
	if s := text("#list"); s != "No alerts match." {
		t.Errorf("unacknowledged filter shows %q", s)
	}
	// The list refreshes by itself: reopened elsewhere, the alert appears.
	if code, m := tc.call("POST", "/api/v1/alerts/"+leak.ID+"/reopen", adminToken, `{"note": "not the user"}`); code != 200 {
		t.Fatalf("reopen: %d %v", code, m)
	}
	run("live refresh", chromedp.WaitVisible(css(`#alerts tr[data-id="`+leak.ID+`"]`)), shot("07-reopened-live"))

	run("action log",
		chromedp.Click(css(`header a[href="/ui/actions"]`)),
		chromedp.WaitVisible(css("#actions")),
		shot("08-actions"),
	)
	var log []string
	for i := 1; i <= count("#actions tbody tr"); i++ {
		row := fmt.Sprintf("#actions tbody tr:nth-child(%d) td:nth-child", i)
		log = append(log, text(row+"(2)")+" "+text(row+"(3)"))
	}
	if want := []string{"alice reopen", "alice allowlist", "alice acknowledge"}; !slices.Equal(log, want) {
		t.Errorf("action log page: %q, want %q", log, want)
	}
}
