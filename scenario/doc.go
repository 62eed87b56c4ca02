// Package scenario writes synthetic multi-day gateway captures (pcap,
// Ethernet) of an office network with labelled incidents injected, and
// returns the ground truth: what `outflow demo` replays, what tests assert
// alerts against, and what benchmarks feed the sensor.
//
// It owns the traffic model (hosts with an office rhythm talking DNS, HTTPS
// with a real TLS ClientHello, QUIC-like UDP and NTP to a catalogue of named
// external servers) and the incident kinds. The same Config always gives the
// same bytes. It only writes to the io.Writer it is given: nothing is sent on
// any network, and every external address is in a documentation or
// benchmarking range.
package scenario
