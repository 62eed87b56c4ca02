package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary act as the outflow binary when re-executed
// with OUTFLOW_TEST_MAIN=1, so end-to-end tests run real separate processes
// (a sensor publishing to a collector over TCP) without a build step.
func TestMain(m *testing.M) {
	if os.Getenv("OUTFLOW_TEST_MAIN") == "1" {
		os.Args = append([]string{"outflow"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
