//go:build !linux

package sensor

import (
	"context"
	"errors"

	"github.com/outflowhq/outflow/config"
	"github.com/outflowhq/outflow/sensor/export"
)

func runEBPF(context.Context, *config.Sensor, Options, PipelineConfig, *export.Exporter) error {
	return errors.New("sensor: the eBPF source needs Linux")
}
