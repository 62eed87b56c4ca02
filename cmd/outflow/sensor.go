package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/httpserver"
	"github.com/outflowhq/outflow/sensor"
	"github.com/outflowhq/outflow/transport"
)

func runSensor(args []string) error {
	fs := flag.NewFlagSet("sensor", flag.ContinueOnError)
	var c common
	c.register(fs)
	id := fs.String("id", "", "sensor id (default: host name)")
	natsURL := fs.String("nats", "", "NATS URL to publish to (env OUTFLOW_NATS)")
	pcaps := fs.String("pcap", "", "capture files to replay, comma-separated")
	ifaces := fs.String("interface", "", "interfaces to capture on with AF_PACKET, comma-separated")
	fanout := fs.Int("fanout", 1, "AF_PACKET sockets per interface")
	ebpfIfaces := fs.String("ebpf", "", "gateway interfaces to count flows on in the kernel (eBPF, TCX), comma-separated")
	ebpfAttach := fs.String("ebpf-attach", "", "how to attach the eBPF programs: auto, tcx or tc")
	internal := fs.String("internal", "", "internal networks, comma-separated CIDRs")
	flows := fs.String("flows", "", "also write flow records as JSON lines to FILE ('-': stdout)")
	listen := fs.String("listen", "", "HTTP address for /metrics and /healthz ('' in the config disables)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := c.load(fs, func(f *config.File, name string) {
		s := &f.Sensor
		switch name {
		case "id":
			s.ID = *id
		case "nats":
			s.NATS = *natsURL
		case "pcap":
			s.Pcap = splitList(*pcaps)
		case "interface":
			s.Interfaces = splitList(*ifaces)
		case "fanout":
			s.Fanout = *fanout
		case "ebpf":
			s.EBPF.Interfaces = splitList(*ebpfIfaces)
		case "ebpf-attach":
			s.EBPF.Attach = *ebpfAttach
		case "internal":
			s.Internal = splitList(*internal)
		case "flows":
			s.Flows = *flows
		case "listen":
			s.Listen = *listen
		}
	})
	if err != nil {
		return err
	}
	if env := os.Getenv("OUTFLOW_NATS"); env != "" && *natsURL == "" {
		f.Sensor.NATS = env
	}
	if f.Sensor.ID == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("sensor id: not configured and no host name: %w", err)
		}
		f.Sensor.ID = h
		if err := transport.ValidToken(h); err != nil {
			return fmt.Errorf("sensor id: host name %q is not a valid id (%v): set sensor.id or -id", h, err)
		}
	}
	log, err := c.logger()
	if err != nil {
		return err
	}
	log = log.With("sensor", f.Sensor.ID)
	ctx, stop := signalContext()
	defer stop()

	set := metrics.NewSet()
	nc, err := transport.Dial(f.Sensor.NATS, "outflow-sensor-"+f.Sensor.ID, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	if f.Sensor.Listen != "" {
		health := func() error {
			if !nc.IsConnected() {
				return fmt.Errorf("nats %s: %s", f.Sensor.NATS, nc.Status())
			}
			return nil
		}
		srv, err := httpserver.Start(f.Sensor.Listen, set, health, nil, log)
		if err != nil {
			return err
		}
		log.Info("serving metrics", "url", "http://"+srv.Addr()+"/metrics")
		defer shutdownHTTP(srv)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	var out io.Writer
	if f.Sensor.Flows != "" {
		w, closeFn, err := openOutput(f.Sensor.Flows)
		if err != nil {
			return err
		}
		defer closeFn()
		out = w
	}
	log.Info("sensor starting", "pcap", f.Sensor.Pcap, "interfaces", f.Sensor.Interfaces, "ebpf", f.Sensor.EBPF.Interfaces, "nats", f.Sensor.NATS)
	start := time.Now()
	err = sensor.Run(ctx, &f.Sensor, sensor.Options{Publisher: transport.NewPublisher(js, set), Flows: out, Metrics: set, Log: log})
	log.Info("sensor stopped", "elapsed", time.Since(start).Round(time.Millisecond),
		"packets", set.GetOrCreateCounter("outflow_sensor_packets_total").Get(),
		"records", set.GetOrCreateCounter("outflow_sensor_records_exported_total").Get(),
		"batches", set.GetOrCreateCounter("outflow_sensor_batches_published_total").Get())
	return err
}

// openOutput opens path for writing ("-" is stdout).
func openOutput(path string) (io.Writer, func() error, error) {
	if path == "-" {
		return os.Stdout, func() error { return nil }, nil
	}
	fh, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return fh, fh.Close, nil
}

func shutdownHTTP(srv *httpserver.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
