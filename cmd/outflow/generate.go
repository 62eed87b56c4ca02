package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/outflowhq/outflow/collector/alert"
	"github.com/outflowhq/outflow/scenario"
)

const generateUsage = `Usage: outflow generate [flags] FILE

Writes a synthetic gateway capture (pcap) of internal hosts over days, with
office-hours rhythm and labelled incidents, and prints its ground truth.
Nothing is sent on any network.

`

func runGenerate(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), generateUsage); fs.PrintDefaults() }
	preset := fs.String("scenario", "demo", "demo (12 hosts, 4 days, one 1.2 GB night upload) or bench (120 hosts, 8 days, ~3.4 M packets, snaplen 128)")
	hosts := fs.Int("hosts", 0, "override the number of hosts")
	days := fs.Int("days", 0, "override the number of days")
	seed := fs.Int64("seed", 0, "override the random seed")
	snaplen := fs.Int("snaplen", 0, "override the snaplen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("want exactly one output FILE")
	}
	var cfg scenario.Config
	switch *preset {
	case "demo":
		cfg = scenario.DemoConfig()
	case "bench":
		cfg = scenario.BenchConfig()
	default:
		return fmt.Errorf("-scenario %q: want demo or bench", *preset)
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "hosts":
			cfg.Hosts = *hosts
		case "days":
			cfg.Days = *days
		case "seed":
			cfg.Seed = *seed
		case "snaplen":
			cfg.Snaplen = *snaplen
		}
	})
	truth, err := writeCapture(cfg, fs.Arg(0), false)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d packets, %d hosts, %s – %s\n", fs.Arg(0), truth.Packets, len(truth.Hosts),
		truth.Start.Format("2006-01-02 15:04"), truth.End.Format("2006-01-02 15:04 MST"))
	for _, inc := range truth.Incidents {
		fmt.Printf("incident %s: %s → %s (%s) %s in %d packets, %s – %s\n", inc.Kind, inc.Host, inc.Remote, inc.RemoteName,
			alert.HumanBytes(inc.OutIPBytes), inc.OutPackets, inc.First.Format("2006-01-02 15:04:05"), inc.Last.Format("15:04:05 MST"))
	}
	return nil
}
