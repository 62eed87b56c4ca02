// Package wire is the sensor→collector format: protobuf batches of flow
// records (schema in pb/outflow.proto, generated code committed), their
// encoding from and decoding to flow.Record, and the validation that turns
// a bad or unknown message into a named error instead of a crash.
//
// Encode and Decode read and write the protobuf wire format directly
// (encoding/protowire), not through the generated types: decoding is the
// collector's hot path. The generated code is the reference the tests and
// fuzz targets hold them to: same bytes out, same batches and errors in. A
// consumer that decodes batch after batch uses DecodeInto on one Batch and
// allocates only for new names.
//
// It does no I/O; transport (NATS) is elsewhere.
package wire

//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=. --go_opt=paths=source_relative pb/outflow.proto"
