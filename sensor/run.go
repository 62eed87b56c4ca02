package sensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/flow"
	"github.com/outflowhq/outflow/sensor/export"
	"github.com/outflowhq/outflow/sensor/flowtable"
	"github.com/outflowhq/outflow/sensor/source"
)

// Options are what Run needs besides the configuration.
type Options struct {
	Publisher export.Publisher // nil: records only go to Flows
	Flows     io.Writer        // nil: no JSON lines; flushed before Run returns
	Metrics   *metrics.Set
	Log       *slog.Logger
}

// Run runs the sensor described by cfg until its files end or ctx is
// cancelled, then flushes every flow and waits (up to 30 s) for the batches
// to be published.
func Run(ctx context.Context, cfg *config.Sensor, o Options) error {
	internal, err := flow.ParseNetworks(cfg.Internal)
	if err != nil {
		return fmt.Errorf("sensor.internal: %w", err)
	}
	switch n := btoi(len(cfg.Pcap) > 0) + btoi(len(cfg.Interfaces) > 0) + btoi(len(cfg.EBPF.Interfaces) > 0); {
	case n == 0:
		return errors.New("sensor: nothing to capture: give capture files (pcap), interfaces (AF_PACKET) or ebpf interfaces")
	case n > 1:
		return errors.New("sensor: give one source: capture files (pcap), interfaces (AF_PACKET) or ebpf interfaces")
	}
	pcfg := PipelineConfig{
		Internal: internal,
		FlowTable: flowtable.Config{
			MaxFlows: cfg.FlowTable.MaxFlows, TCPIdle: cfg.FlowTable.TCPIdle, OtherIdle: cfg.FlowTable.OtherIdle,
			ClosedIdle: cfg.FlowTable.ClosedIdle, ActiveInterval: cfg.FlowTable.ActiveInterval,
		},
		ExportInterval: cfg.Export.Interval,
	}
	if len(cfg.Pcap) > 0 {
		// One replay is one source: decode it on every core. AF_PACKET
		// scales with fanout instead, one sequential pipeline per socket.
		pcfg.DecodeWorkers = runtime.GOMAXPROCS(0)
	}
	var lines *export.JSONLines
	if o.Flows != nil {
		lines = export.NewJSONLines(o.Flows)
	}
	runID := time.Now().UnixNano()
	newExporter := func(worker int, live bool) *export.Exporter {
		return export.New(export.Config{
			SensorID: cfg.ID, RunID: runID + int64(worker), Partitions: cfg.Export.Partitions,
			BatchSize: cfg.Export.BatchSize, QueueLen: cfg.Export.Queue, DropWhenFull: live,
		}, o.Publisher, lines, o.Metrics, o.Log)
	}

	if len(cfg.EBPF.Interfaces) > 0 {
		exp := newExporter(0, true)
		err := runEBPF(ctx, cfg, o, pcfg, exp)
		drain, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		errs := []error{err, exp.Close(drain)}
		if lines != nil {
			errs = append(errs, lines.Flush())
		}
		return errors.Join(errs...)
	}

	var srcs []source.Source
	live := len(cfg.Interfaces) > 0
	if live {
		group := uint16(os.Getpid() & 0xffff)
		for i, ifname := range cfg.Interfaces {
			for w := 0; w < cfg.Fanout; w++ {
				s, err := source.OpenAFPacket(source.AFPacketConfig{Interface: ifname, FanoutGroup: group + uint16(i), Fanout: cfg.Fanout > 1})
				if err != nil {
					closeAll(srcs)
					return err
				}
				srcs = append(srcs, s)
			}
		}
	} else {
		srcs = []source.Source{&chain{paths: cfg.Pcap, ended: func(path string, st source.Stats) {
			if st.Truncated > 0 && o.Log != nil {
				o.Log.Warn("capture file ended inside a record; the frames before it were counted", "file", path, "frames", st.Packets)
			}
		}}}
	}

	var wg sync.WaitGroup
	errs := make([]error, len(srcs))
	exps := make([]*export.Exporter, len(srcs))
	for i, s := range srcs {
		exps[i] = newExporter(i, live)
		p := NewPipeline(pcfg, s, exps[i], o.Metrics)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Run(ctx)
		}()
	}
	wg.Wait()
	closeAll(srcs)
	drain, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, e := range exps {
		errs = append(errs, e.Close(drain))
	}
	if lines != nil {
		errs = append(errs, lines.Flush())
	}
	return errors.Join(errs...)
}

func closeAll(srcs []source.Source) {
	for _, s := range srcs {
		_ = s.Close()
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
