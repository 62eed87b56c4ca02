// Package names learns names for remote addresses from traffic the sensor
// already sees: DNS responses (A, AAAA, following CNAME chains), the TLS
// ClientHello SNI and the HTTP Host header. It owns a bounded address→name
// cache; what it evicts is counted.
//
// It parses payload prefixes only, never keeps payloads, and never panics
// on malformed input.
package names
