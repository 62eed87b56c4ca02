package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"google.golang.org/protobuf/encoding/protowire"
)

// Reading the protobuf wire format: what protowire offers, with
// proto.Unmarshal's limits and faster on this schema's long varints.

// errWireType is wrapped when a known field arrives with another wire type
// than the schema's. proto.Unmarshal keeps such a field as unknown and
// carries on; no schema change we would make produces one, so here it is
// a malformed batch.
var errWireType = errors.New("wrong wire type")

var errFieldNumber = errors.New("field tag: invalid field number")

// consumeTag is protowire.ConsumeTag with proto.Unmarshal's limits (field
// numbers 1 to MaxValidNumber); on failure see tagError.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	v, n := consumeVarint(b)
	if n < 0 || v>>3 < uint64(protowire.MinValidNumber) || v>>3 > uint64(protowire.MaxValidNumber) {
		return 0, 0, -1
	}
	return protowire.Number(v >> 3), protowire.Type(v & 7), n
}

// tagError says why the tag at the start of b is invalid.
func tagError(b []byte) error {
	if _, n := protowire.ConsumeVarint(b); n < 0 {
		return fmt.Errorf("field tag: %w", protowire.ParseError(n))
	}
	return errFieldNumber
}

// consumeVarint is protowire.ConsumeVarint, faster on the long varints
// (timestamps take 9 bytes) that fit in one 8-byte load.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	if len(b) >= 9 {
		u := binary.LittleEndian.Uint64(b)
		if stop := ^u & 0x8080808080808080; stop != 0 {
			n8 := bits.TrailingZeros64(stop) + 1 // 8 * the varint's length
			return compactVarint(u & (1<<n8 - 1)), n8 / 8
		}
		if b[8] < 0x80 {
			return compactVarint(u) | uint64(b[8])<<56, 9
		}
	}
	return protowire.ConsumeVarint(b)
}

// compactVarint drops the continuation bits of up to 8 varint bytes,
// joining their 7-bit groups.
func compactVarint(u uint64) uint64 {
	u &= 0x7f7f7f7f7f7f7f7f
	u = u&0x007f007f007f007f | (u&0x7f007f007f007f00)>>1
	u = u&0x00003fff00003fff | (u&0x3fff00003fff0000)>>2
	return u&0x000000000fffffff | (u&0x0fffffff00000000)>>4
}

func wireTypeError(field string, got, want protowire.Type) error {
	return fmt.Errorf("%s: %w %s, want %s", field, errWireType, wireTypeNames[got&7], wireTypeNames[want])
}
