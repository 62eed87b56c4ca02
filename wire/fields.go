package wire

import "google.golang.org/protobuf/encoding/protowire"

// Field numbers of pb/outflow.proto, for the hand-written encoder and
// decoder. TestSchemaFields checks them, and their wire types, against the
// generated descriptor, so a schema edit cannot silently diverge from them.
const (
	batchSchemaVersion protowire.Number = 1
	batchSensorID      protowire.Number = 2
	batchSequence      protowire.Number = 3
	batchRunID         protowire.Number = 4
	batchClock         protowire.Number = 5
	batchHealth        protowire.Number = 6
	batchFlows         protowire.Number = 7
	batchPartition     protowire.Number = 8
	batchPartitions    protowire.Number = 9
	batchLastField                      = batchPartitions
)

const (
	healthPackets       protowire.Number = 1
	healthBytes         protowire.Number = 2
	healthDrops         protowire.Number = 3
	healthDecodeErrors  protowire.Number = 4
	healthTableEntries  protowire.Number = 5
	healthTableCapacity protowire.Number = 6
	healthEvictions     protowire.Number = 7
	healthNonIP         protowire.Number = 8
	healthSource        protowire.Number = 9
	healthLastField                      = healthSource
)

const (
	flowProto            protowire.Number = 1
	flowVLAN             protowire.Number = 2
	flowSrcAddr          protowire.Number = 3
	flowDstAddr          protowire.Number = 4
	flowSrcPort          protowire.Number = 5
	flowDstPort          protowire.Number = 6
	flowSrcBytes         protowire.Number = 7
	flowDstBytes         protowire.Number = 8
	flowSrcPackets       protowire.Number = 9
	flowDstPackets       protowire.Number = 10
	flowStart            protowire.Number = 11
	flowEnd              protowire.Number = 12
	flowFlowStart        protowire.Number = 13
	flowSrcTCPFlags      protowire.Number = 14
	flowDstTCPFlags      protowire.Number = 15
	flowDirection        protowire.Number = 16
	flowInitiatorFromSYN protowire.Number = 17
	flowFinal            protowire.Number = 18
	flowSrcName          protowire.Number = 19
	flowDstName          protowire.Number = 20
	flowQuery            protowire.Number = 21
	flowLastField                         = flowQuery
)

// Field names as in the schema, for error messages. Indexed by number.
var (
	batchFieldNames = [...]string{"", "schema_version", "sensor_id", "sequence", "run_id",
		"clock_unix_nano", "health", "flows", "partition", "partitions"}
	healthFieldNames = [...]string{"", "packets", "bytes", "drops", "decode_errors",
		"table_entries", "table_capacity", "evictions", "non_ip", "source"}
	flowFieldNames = [...]string{"", "proto", "vlan", "src_addr", "dst_addr", "src_port",
		"dst_port", "src_bytes", "dst_bytes", "src_packets", "dst_packets", "start_unix_nano",
		"end_unix_nano", "flow_start_unix_nano", "src_tcp_flags", "dst_tcp_flags", "direction",
		"initiator_from_syn", "final", "src_name", "dst_name", "query"}
)

// Known fields are 1..last in each message, with no gaps; those in these
// masks (bit = field number) are length-delimited, the others varints.
const (
	batchBytesFields  = 1<<batchSensorID | 1<<batchHealth | 1<<batchFlows
	healthBytesFields = 1 << healthSource
	flowBytesFields   = 1<<flowSrcAddr | 1<<flowDstAddr | 1<<flowSrcName | 1<<flowDstName | 1<<flowQuery
)

func wantType(bytesFields uint64, num protowire.Number) protowire.Type {
	if bytesFields&(1<<num) != 0 {
		return protowire.BytesType
	}
	return protowire.VarintType
}

var wireTypeNames = [8]string{"varint", "fixed64", "bytes", "start group", "end group", "fixed32", "reserved 6", "reserved 7"}
