package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"unicode/utf8"

	"github.com/outflowhq/outflow/flow"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawFlow is a Flow message as read off the wire, before validation.
// Varint fields are kept by field number as the wire carries them (uint64),
// so validation sees what proto3 would have stored; the byte slices point
// into the batch.
type rawFlow struct {
	v                                  [32]uint64 // by field number; 32 so that num&31 needs no bounds check
	srcAddr, dstAddr, srcName, dstName []byte
	query                              []byte
}

// flowTags classifies every tag of a known Flow field (tags above are those
// of unknown fields), so the hot loop checks a field with one load.
var flowTags = func() (t [flowLastField<<3 | 7 + 1]uint8) {
	for tag := range t {
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		switch {
		case num == 0:
			t[tag] = tagOther // an invalid field number, reported as such
		case typ != wantType(flowBytesFields, num):
			t[tag] = tagMistyped
		case typ == protowire.VarintType:
			t[tag] = tagVarint
		default:
			t[tag] = tagBytes
		}
	}
	return t
}()

const (
	tagOther    = iota // unknown field, or field number 0
	tagVarint          // known varint field
	tagBytes           // known length-delimited field
	tagMistyped        // known field, wrong wire type
)

// decode reads one Flow message into f, which the caller has zeroed. This
// is the collector's hot loop: tags, varints and short lengths are read
// inline with an index (cheaper than reslicing), and a varint field is
// stored by number, without a switch. (Predicting the next tag from the
// schema order, with the varint read in a function, measured slower.)
func (f *rawFlow) decode(d []byte) error {
	for i := 0; i < len(d); {
		tag := uint64(d[i])
		if tag < 0x80 {
			i++
		} else if i+1 < len(d) && d[i+1] < 0x80 {
			tag = tag&0x7f | uint64(d[i+1])<<7
			i += 2
		} else {
			var n int
			if tag, n = protowire.ConsumeVarint(d[i:]); n < 0 {
				return tagError(d[i:])
			}
			i += n
		}
		class := uint8(tagOther)
		if tag < uint64(len(flowTags)) {
			class = flowTags[tag]
		}
		num := protowire.Number(tag>>3) & 31 // < 21 unless class is tagOther
		switch class {
		case tagOther:
			if n := tag >> 3; n == 0 || n > uint64(protowire.MaxValidNumber) {
				return errFieldNumber
			}
			n := protowire.ConsumeFieldValue(protowire.Number(tag>>3), protowire.Type(tag&7), d[i:])
			if n < 0 {
				return fmt.Errorf("field %d: %w", tag>>3, protowire.ParseError(n))
			}
			i += n
			continue
		case tagMistyped:
			return wireTypeError(flowFieldNames[num], protowire.Type(tag&7), wantType(flowBytesFields, num))
		case tagVarint:
			var v uint64
			switch {
			case i < len(d) && d[i] < 0x80:
				v = uint64(d[i])
				i++
			case i+1 < len(d) && d[i+1] < 0x80:
				v = uint64(d[i]&0x7f) | uint64(d[i+1])<<7
				i += 2
			case i+9 <= len(d):
				// 3 to 9 bytes (timestamps take 9): one load and no loop.
				u := binary.LittleEndian.Uint64(d[i:])
				if stop := ^u & 0x8080808080808080; stop != 0 {
					n8 := bits.TrailingZeros64(stop) + 1
					v = compactVarint(u & (1<<n8 - 1))
					i += n8 / 8
					break
				}
				if d[i+8] < 0x80 {
					v = compactVarint(u) | uint64(d[i+8])<<56
					i += 9
					break
				}
				fallthrough
			default:
				var n int
				if v, n = consumeVarint(d[i:]); n < 0 {
					return fmt.Errorf("%s: %w", flowFieldNames[num], protowire.ParseError(n))
				}
				i += n
			}
			f.v[num] = v
			continue
		}

		// tagBytes
		var v []byte
		if i < len(d) && int(d[i]) < len(d)-i && d[i] < 0x80 {
			v = d[i+1 : i+1+int(d[i])]
			i += 1 + int(d[i])
		} else {
			var n int
			if v, n = protowire.ConsumeBytes(d[i:]); n < 0 {
				return fmt.Errorf("%s: %w", flowFieldNames[num], protowire.ParseError(n))
			}
			i += n
		}
		switch num {
		case flowSrcAddr:
			f.srcAddr = v
		case flowDstAddr:
			f.dstAddr = v
		case flowSrcName, flowDstName, flowQuery:
			if !utf8.Valid(v) {
				return fmt.Errorf("%s is not valid UTF-8", flowFieldNames[num])
			}
			switch num {
			case flowSrcName:
				f.srcName = v
			case flowDstName:
				f.dstName = v
			default:
				f.query = v
			}
		}
	}
	return nil
}

// record validates f and writes it to r. The checks, their order and their
// messages are those of the protobuf-generated path this replaced; the
// narrowing conversions are proto3's (a uint32 field keeps the low 32 bits
// of the varint, an enum the low 32 bits as a signed number).
func (f *rawFlow) record(r *flow.Record, names *nameCache) error {
	proto, vlan := uint32(f.v[flowProto]), uint32(f.v[flowVLAN])
	srcPort, dstPort := uint32(f.v[flowSrcPort]), uint32(f.v[flowDstPort])
	srcFlags, dstFlags := uint32(f.v[flowSrcTCPFlags]), uint32(f.v[flowDstTCPFlags])
	direction := int32(f.v[flowDirection])
	start, end := int64(f.v[flowStart]), int64(f.v[flowEnd])
	if proto > 255 {
		return fmt.Errorf("proto %d out of range", proto)
	}
	if vlan > 4095 {
		return fmt.Errorf("vlan %d out of range", vlan)
	}
	if srcPort > 65535 || dstPort > 65535 {
		return fmt.Errorf("port out of range (src %d, dst %d)", srcPort, dstPort)
	}
	if srcFlags > 255 || dstFlags > 255 {
		return errors.New("tcp flags out of range")
	}
	src, ok := netip.AddrFromSlice(f.srcAddr)
	if !ok {
		return fmt.Errorf("src_addr has %d bytes, want 4 or 16", len(f.srcAddr))
	}
	dst, ok := netip.AddrFromSlice(f.dstAddr)
	if !ok {
		return fmt.Errorf("dst_addr has %d bytes, want 4 or 16", len(f.dstAddr))
	}
	if direction < int32(flow.Outbound) || direction > int32(flow.External) {
		return fmt.Errorf("direction %d unknown", direction)
	}
	if end < start {
		return fmt.Errorf("end %d before start %d", end, start)
	}
	// Field by field rather than one composite literal: the slice is on the
	// heap, and a literal is copied with a bulk write barrier that costs
	// more than the per-pointer ones while the GC runs.
	r.Proto, r.VLAN, r.SrcAddr, r.DstAddr = uint8(proto), uint16(vlan), src, dst
	r.SrcPort, r.DstPort = uint16(srcPort), uint16(dstPort)
	r.SrcBytes, r.DstBytes = f.v[flowSrcBytes], f.v[flowDstBytes]
	r.SrcPackets, r.DstPackets = f.v[flowSrcPackets], f.v[flowDstPackets]
	r.Start, r.End, r.FlowStart = fromNano(start), fromNano(end), fromNano(int64(f.v[flowFlowStart]))
	r.SrcFlags, r.DstFlags, r.Direction = uint8(srcFlags), uint8(dstFlags), flow.Direction(direction)
	r.InitiatorFromSYN, r.Final = f.v[flowInitiatorFromSYN] != 0, f.v[flowFinal] != 0
	r.SrcName, r.DstName = names.intern(f.srcName), names.intern(f.dstName)
	r.Query = names.intern(f.query)
	return nil
}
