// Command outflow is the one Outflow binary: sensor, collector, analyze,
// demo. Each subcommand follows the same order: parse flags and config →
// start logging → start HTTP → run until done or SIGTERM → stop components
// in reverse order.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	_ "time/tzdata" // maintenance windows name time zones; the binary must not depend on the host's zoneinfo

	"github.com/outflowhq/outflow/config"
)

const usage = `outflow finds data leaving your network where it should not.

Usage:
  outflow sensor    [flags]               capture flows and publish them to NATS
  outflow collector [flags]               learn baselines, detect, alert
  outflow analyze   [flags] CAPTURE...    sensor + collector over capture files, in event time
  outflow demo      [flags]               a generated multi-day capture with a leak, end to end
  outflow generate  [flags] FILE          write a synthetic multi-day capture with labelled incidents
  outflow eval      [flags]               measure detection on labelled generated traffic (make eval)
  outflow config                          print the default configuration
  outflow version

Run 'outflow COMMAND -h' for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"sensor": runSensor, "collector": runCollector, "analyze": runAnalyze, "demo": runDemo, "generate": runGenerate, "eval": runEval,
		"config":  func([]string) error { _, err := os.Stdout.Write(config.Defaults); return err },
		"version": func([]string) error { fmt.Println("outflow", version()); return nil },
	}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		if a := os.Args[1]; a == "-h" || a == "--help" || a == "help" {
			fmt.Print(usage)
			return
		}
		fmt.Fprintf(os.Stderr, "outflow: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "outflow %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
		return v + " " + bi.GoVersion
	}
	return "unknown"
}

// common flags every subcommand has.
type common struct {
	configPath string
	logLevel   string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", os.Getenv("OUTFLOW_CONFIG"), "YAML configuration file (env OUTFLOW_CONFIG); defaults: 'outflow config'")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
}

func (c *common) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// load reads the config file, then lets apply (the flags that were set)
// override it, then validates.
func (c *common) load(fs *flag.FlagSet, apply func(f *config.File, name string)) (*config.File, error) {
	f, err := config.Load(c.configPath)
	if err != nil {
		return nil, err
	}
	fs.Visit(func(fl *flag.Flag) { apply(f, fl.Name) })
	name := c.configPath
	if name == "" {
		name = "(defaults)"
	}
	if err := f.Validate(name); err != nil {
		return nil, err
	}
	return f, nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
