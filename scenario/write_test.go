package scenario

import (
	"os"
	"testing"
	"time"
)

// TestWriteCapture writes a capture to disk for hand use until the outflow
// CLI grows a generate subcommand:
//
//	SCENARIO_OUT=/tmp/bench.pcap go test ./scenario -run TestWriteCapture -count=1 -v
//	SCENARIO_OUT=/tmp/demo.pcap SCENARIO_CONFIG=demo go test ./scenario -run TestWriteCapture -count=1 -v
func TestWriteCapture(t *testing.T) {
	path := os.Getenv("SCENARIO_OUT")
	if path == "" {
		t.Skip("set SCENARIO_OUT to a file path")
	}
	cfg := BenchConfig()
	if os.Getenv("SCENARIO_CONFIG") == "demo" {
		cfg = DemoConfig()
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	truth, err := Generate(cfg, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d packets, %d wire bytes, in %s", path, truth.Packets, truth.WireBytes, time.Since(t0).Round(time.Millisecond))
}
