package wire

import "encoding/binary"

// nameCache interns the src_name/dst_name strings of one batch. A sensor's
// batch repeats a handful of names (the remotes its hosts talk to) across
// many records, and most records carry none, so sharing one string per
// distinct name makes names almost free.
//
// It is direct-mapped and lives on the stack of one DecodeInto call: bounded
// (64 strings), nothing carried from batch to batch, no eviction policy. A
// collision or a batch of many distinct names only costs what not interning
// costs: one allocation per name.
type nameCache [64]string

func (c *nameCache) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	slot := &c[nameSlot(b)]
	if *slot == string(b) { // compares without converting
		return *slot
	}
	*slot = string(b)
	return *slot
}

// nameSlot hashes the length and the first and last 8 bytes: enough to tell
// apart the names of one batch, cheaper than hashing every byte.
func nameSlot(b []byte) int {
	h := uint64(len(b))
	if len(b) >= 8 {
		h ^= binary.LittleEndian.Uint64(b) ^ binary.LittleEndian.Uint64(b[len(b)-8:])*0xff51afd7ed558ccd
	} else {
		for _, c := range b {
			h = h<<8 | uint64(c)
		}
	}
	h *= 0x9e3779b97f4a7c15
	return int(h >> (64 - 6))
}
