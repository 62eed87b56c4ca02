package wire

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// Rewriting an encoded batch the ways another encoder could write it:
// fields reordered, repeated, split, unknown or mistyped. For fuzz seeds
// and decoder tests.

// wireField is one field of an encoded message, for rewriting seeds; sub
// holds the fields of an embedded health or flow message.
type wireField struct {
	num protowire.Number
	typ protowire.Type
	val []byte // the value's encoding; for BytesType, the content
	sub []wireField
}

// parseFields splits an encoding of ours; it panics on malformed input.
func parseFields(b []byte) []wireField {
	var fs []wireField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			panic(protowire.ParseError(n))
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		f := wireField{num: num, typ: typ, val: b[:n]}
		if typ == protowire.BytesType {
			f.val, _ = protowire.ConsumeBytes(b)
		}
		b = b[n:]
		fs = append(fs, f)
	}
	return fs
}

func marshalFields(fs []wireField) []byte {
	var out []byte
	for _, f := range fs {
		out = protowire.AppendTag(out, f.num, f.typ)
		switch {
		case f.sub != nil:
			out = protowire.AppendBytes(out, marshalFields(f.sub))
		case f.typ == protowire.BytesType:
			out = protowire.AppendBytes(out, f.val)
		default:
			out = append(out, f.val...)
		}
	}
	return out
}

// rewrite applies fn to the batch's fields and to those of its health and
// flow messages.
func rewrite(fs []wireField, fn func([]wireField) []wireField) []wireField {
	fs = append([]wireField(nil), fs...)
	for i, f := range fs {
		if f.typ == protowire.BytesType && (f.num == batchHealth || f.num == batchFlows) {
			sub := f.sub
			if sub == nil {
				sub = parseFields(f.val)
			}
			fs[i].sub = fn(sub)
		}
	}
	return fn(fs)
}

// setVarint replaces the value of varint field num.
func setVarint(num protowire.Number, v uint64) func([]wireField) []wireField {
	return func(fs []wireField) []wireField {
		out := append([]wireField(nil), fs...)
		for i := range out {
			if out[i].num == num && out[i].typ == protowire.VarintType {
				out[i].val = protowire.AppendVarint(nil, v)
			}
		}
		return out
	}
}

// inSub applies fn to the embedded messages of field num only.
func inSub(num protowire.Number, fs []wireField, fn func([]wireField) []wireField) []wireField {
	fs = append([]wireField(nil), fs...)
	for i, f := range fs {
		if f.num == num && f.typ == protowire.BytesType {
			fs[i].sub = fn(parseFields(f.val))
		}
	}
	return fs
}

func reverse(fs []wireField) []wireField {
	out := make([]wireField, len(fs))
	for i, f := range fs {
		out[len(fs)-1-i] = f
	}
	return out
}

// withUnknown adds a field of every wire type with numbers no schema uses.
func withUnknown(fs []wireField) []wireField {
	group := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 5)
	group = protowire.AppendTag(group, 1004, protowire.EndGroupType)
	return append([]wireField{
		{num: 1000, typ: protowire.VarintType, val: protowire.AppendVarint(nil, 1<<40)},
		{num: 1001, typ: protowire.Fixed32Type, val: protowire.AppendFixed32(nil, 7)},
	}, append(fs,
		wireField{num: 1002, typ: protowire.Fixed64Type, val: protowire.AppendFixed64(nil, 7)},
		wireField{num: 1003, typ: protowire.BytesType, val: []byte("future")},
		wireField{num: 1004, typ: protowire.StartGroupType, val: group},
	)...)
}

// duplicated sends every scalar twice, a different value first: the last
// one must win.
func duplicated(fs []wireField) []wireField {
	var out []wireField
	for _, f := range fs {
		if f.sub == nil && f.num != batchFlows && f.num != batchHealth {
			first := f
			if f.typ == protowire.VarintType {
				first.val = protowire.AppendVarint(nil, 12345)
			} else {
				first.val = []byte("decoy")
			}
			out = append(out, first)
		}
		out = append(out, f)
	}
	return out
}

// splitHealth sends the health message as two occurrences, which merge.
func splitHealth(fs []wireField) []wireField {
	var out []wireField
	for _, f := range fs {
		if f.num != batchHealth {
			out = append(out, f)
			continue
		}
		sub := parseFields(f.val)
		half := len(sub) / 2
		out = append(out, wireField{num: f.num, typ: f.typ, sub: sub[:half]})
		out = append(out, wireField{num: 100, typ: protowire.VarintType, val: []byte{1}})
		out = append(out, wireField{num: f.num, typ: f.typ, sub: sub[half:]})
	}
	return out
}

// mistype sends field num as fixed32 instead of its type, wherever it
// occurs (fields of a different message that share the number included).
func mistype(num protowire.Number) func([]wireField) []wireField {
	return func(fs []wireField) []wireField {
		out := append([]wireField(nil), fs...)
		for i := range out {
			if out[i].num == num {
				out[i] = wireField{num: num, typ: protowire.Fixed32Type, val: protowire.AppendFixed32(nil, 1)}
			}
		}
		return out
	}
}
