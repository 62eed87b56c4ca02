// Package wire is the sensor→collector format: protobuf batches of flow
// records (schema in pb/outflow.proto, generated code committed), the
// conversion to and from flow.Record, and the validation that turns a bad
// or unknown message into a named error instead of a crash.
//
// It does no I/O; transport (NATS) is elsewhere.
package wire

//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=. --go_opt=paths=source_relative pb/outflow.proto"
