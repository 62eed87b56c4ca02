package wire

import (
	"fmt"
	"unicode/utf8"

	"github.com/outflowhq/outflow/flow"
	"google.golang.org/protobuf/encoding/protowire"
)

// Encode marshals b. buf is reused when it has capacity.
//
// The bytes are those proto.Marshal writes for the same pb.Batch (fields in
// number order, zero scalars and empty strings omitted, health always
// present), without building one: no allocation beyond growing buf.
func Encode(b *Batch, buf []byte) ([]byte, error) {
	if !utf8.ValidString(b.SensorID) {
		return nil, fmt.Errorf("encode batch: sensor_id is not valid UTF-8")
	}
	if !utf8.ValidString(b.Health.Source) {
		return nil, fmt.Errorf("encode batch: health: source is not valid UTF-8")
	}
	out := buf[:0]
	out = appendVarint(out, batchSchemaVersion, SchemaVersion)
	out = appendString(out, batchSensorID, b.SensorID)
	out = appendVarint(out, batchSequence, b.Sequence)
	out = appendVarint(out, batchRunID, uint64(b.RunID))
	out = appendVarint(out, batchClock, uint64(unixNano(b.Clock)))

	out = protowire.AppendTag(out, batchHealth, protowire.BytesType)
	out, at := openMessage(out)
	h := &b.Health
	out = appendVarint(out, healthPackets, h.Packets)
	out = appendVarint(out, healthBytes, h.Bytes)
	out = appendVarint(out, healthDrops, h.Drops)
	out = appendVarint(out, healthDecodeErrors, h.DecodeErrors)
	out = appendVarint(out, healthTableEntries, h.TableEntries)
	out = appendVarint(out, healthTableCapacity, h.TableCapacity)
	out = appendVarint(out, healthEvictions, h.Evictions)
	out = appendVarint(out, healthNonIP, h.NonIP)
	out = appendString(out, healthSource, h.Source)
	out = closeMessage(out, at)

	for i := range b.Flows {
		r := &b.Flows[i]
		if !utf8.ValidString(r.SrcName) || !utf8.ValidString(r.DstName) || !utf8.ValidString(r.Query) {
			return nil, fmt.Errorf("encode batch: flow %d: src_name, dst_name or query is not valid UTF-8", i)
		}
		out = protowire.AppendTag(out, batchFlows, protowire.BytesType)
		out, at = openMessage(out)
		out = appendFlow(out, r)
		out = closeMessage(out, at)
	}
	out = appendVarint(out, batchPartition, uint64(b.Partition))
	out = appendVarint(out, batchPartitions, uint64(b.Partitions))
	return out, nil
}

func appendFlow(out []byte, r *flow.Record) []byte {
	var addr [16]byte
	out = appendVarint(out, flowProto, uint64(r.Proto))
	out = appendVarint(out, flowVLAN, uint64(r.VLAN))
	out = appendBytes(out, flowSrcAddr, addrBytes(r.SrcAddr, &addr))
	out = appendBytes(out, flowDstAddr, addrBytes(r.DstAddr, &addr))
	out = appendVarint(out, flowSrcPort, uint64(r.SrcPort))
	out = appendVarint(out, flowDstPort, uint64(r.DstPort))
	out = appendVarint(out, flowSrcBytes, r.SrcBytes)
	out = appendVarint(out, flowDstBytes, r.DstBytes)
	out = appendVarint(out, flowSrcPackets, r.SrcPackets)
	out = appendVarint(out, flowDstPackets, r.DstPackets)
	out = appendVarint(out, flowStart, uint64(unixNano(r.Start)))
	out = appendVarint(out, flowEnd, uint64(unixNano(r.End)))
	out = appendVarint(out, flowFlowStart, uint64(unixNano(r.FlowStart)))
	out = appendVarint(out, flowSrcTCPFlags, uint64(r.SrcFlags))
	out = appendVarint(out, flowDstTCPFlags, uint64(r.DstFlags))
	out = appendVarint(out, flowDirection, uint64(r.Direction))
	out = appendBool(out, flowInitiatorFromSYN, r.InitiatorFromSYN)
	out = appendBool(out, flowFinal, r.Final)
	out = appendString(out, flowSrcName, r.SrcName)
	out = appendString(out, flowDstName, r.DstName)
	out = appendString(out, flowQuery, r.Query)
	return out
}

// appendVarint appends a varint field unless it is zero, as proto3 does.
func appendVarint(out []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return out
	}
	return appendUvarint(appendUvarint(out, uint64(num)<<3|uint64(protowire.VarintType)), v)
}

// appendUvarint is protowire.AppendVarint, which is slower on long values
// (timestamps take 9 bytes).
func appendUvarint(out []byte, v uint64) []byte {
	for v >= 0x80 {
		out = append(out, byte(v)|0x80)
		v >>= 7
	}
	return append(out, byte(v))
}

func appendBool(out []byte, num protowire.Number, v bool) []byte {
	if !v {
		return out
	}
	return append(protowire.AppendTag(out, num, protowire.VarintType), 1)
}

func appendString(out []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return out
	}
	return protowire.AppendString(protowire.AppendTag(out, num, protowire.BytesType), s)
}

func appendBytes(out []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return out
	}
	return protowire.AppendBytes(protowire.AppendTag(out, num, protowire.BytesType), v)
}

// openMessage reserves one byte for an embedded message's length, which
// closeMessage fills in; most messages here are shorter than 128 bytes.
func openMessage(out []byte) ([]byte, int) {
	return append(out, 0), len(out) + 1
}

func closeMessage(out []byte, start int) []byte {
	n := len(out) - start
	if n < 0x80 {
		out[start-1] = byte(n)
		return out
	}
	k := protowire.SizeVarint(uint64(n))
	out = append(out, make([]byte, k-1)...)
	copy(out[start-1+k:], out[start:start+n])
	protowire.AppendVarint(out[:start-1], uint64(n))
	return out
}
