package decode

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestEtherTypeLayer: the shortcut names the same layer as gopacket's
// table for every EtherType.
func TestEtherTypeLayer(t *testing.T) {
	for v := range 1 << 16 {
		et := layers.EthernetType(v)
		if got, want := etherTypeLayer(et), et.LayerType(); got != want {
			t.Errorf("EtherType %#04x: %v, gopacket %v", v, got, want)
		}
	}
}

// TestLayersMatchGopacket runs this package's Ethernet, VLAN tag and TCP
// layers and gopacket's on the same bytes: the first frames of every shared
// capture from every offset, and cut at every length through the headers;
// then the fields that decide the outcome (TCP data offset, type/length)
// at their edge values.
func TestLayersMatchGopacket(t *testing.T) {
	inputs := [][]byte{nil, {0}, make([]byte, 3), make([]byte, 13), make([]byte, 19)}
	for _, f := range captureFiles(t) {
		frames := readCapture(t, f)
		for _, fr := range frames[:min(20, len(frames))] {
			for off := range min(len(fr.Data), 80) {
				inputs = append(inputs, fr.Data[off:])
			}
			for n := range min(len(fr.Data), 120) { // the headers lie within
				inputs = append(inputs, fr.Data[:n])
			}
		}
	}
	tcp := serialize(t, tcpSYNACK(), gopacket.Payload("hello"))
	for _, off := range []byte{0x00, 0x40, 0x50, 0x60, 0x70, 0xf0, 0xff} {
		for _, n := range []int{20, 24, 25, 28, 60, 64} {
			b := cat(tcp, make([]byte, 64))[:n]
			b[12] = off
			inputs = append(inputs, b)
		}
	}
	for _, typ := range []uint16{0, 1, 0x05dc, 0x05ff, 0x0600, 0x0800, 0x8100, 0x88a8, 0x8847, 0xffff} {
		e := eth(typ, make([]byte, 46))
		inputs = append(inputs, e, e[:14+1], e[:14+0x05dc%47], e[12:]) // e[12:] reads as a tag
	}
	for _, b := range inputs {
		checkLayersMatch(t, b)
	}
}

// FuzzLayersMatchGopacket: the same comparison on arbitrary bytes.
func FuzzLayersMatchGopacket(f *testing.F) {
	for _, file := range captureFiles(f) {
		frames := readCapture(f, file)
		for _, fr := range frames[:min(3, len(frames))] {
			f.Add(fr.Data)
			if len(fr.Data) > 34 {
				f.Add(fr.Data[34:]) // TCP/UDP after Ethernet and a 20-byte IPv4 header
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkLayersMatch(t, b) })
}

// checkLayersMatch decodes b with each layer pair and compares what the
// decoder reads: the error, the truncation flag, the fields, the next
// layer and the payload (the same bytes of b, not only equal ones).
func checkLayersMatch(t *testing.T, b []byte) {
	t.Helper()
	var ours, theirs feedback
	samePayload := func(a, b []byte) bool {
		return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
	}

	// gopacket's Ethernet does not flag a frame under 14 bytes as
	// truncated; the decoder checks that length before either layer runs.
	if len(b) >= 14 {
		var e ethernet
		var ge layers.Ethernet
		err, gerr := e.DecodeFromBytes(b, &ours), ge.DecodeFromBytes(b, &theirs)
		if (err == nil) != (gerr == nil) || ours != theirs ||
			e.NextLayerType() != ge.NextLayerType() || !samePayload(e.LayerPayload(), ge.LayerPayload()) {
			t.Errorf("ethernet % x: err %v/%v truncated %v/%v next %v/%v payload %d/%d bytes", b[:14], err, gerr,
				ours.truncated, theirs.truncated, e.NextLayerType(), ge.NextLayerType(), len(e.Payload), len(ge.Payload))
		}
	}

	ours, theirs = feedback{}, feedback{}
	var v vlanTag
	var gv layers.Dot1Q
	err, gerr := v.DecodeFromBytes(b, &ours), gv.DecodeFromBytes(b, &theirs)
	switch {
	case (err == nil) != (gerr == nil) || ours != theirs:
		t.Errorf("vlan tag % x: err %v/%v truncated %v/%v", b[:min(4, len(b))], err, gerr, ours.truncated, theirs.truncated)
	case err == nil && (v.VLANIdentifier != gv.VLANIdentifier || v.NextLayerType() != gv.NextLayerType() ||
		!samePayload(v.LayerPayload(), gv.LayerPayload())):
		t.Errorf("vlan tag % x: id %d/%d next %v/%v payload %d/%d bytes", b[:4], v.VLANIdentifier, gv.VLANIdentifier,
			v.NextLayerType(), gv.NextLayerType(), len(v.Payload), len(gv.Payload))
	}

	ours, theirs = feedback{}, feedback{}
	var c tcpHeader
	var gc layers.TCP
	err, gerr = c.DecodeFromBytes(b, &ours), gc.DecodeFromBytes(b, &theirs)
	switch {
	case (err == nil) != (gerr == nil) || ours != theirs:
		t.Errorf("tcp % x: err %v/%v truncated %v/%v", b[:min(20, len(b))], err, gerr, ours.truncated, theirs.truncated)
	case len(b) >= 20 && (c.SrcPort != uint16(gc.SrcPort) || c.DstPort != uint16(gc.DstPort) ||
		c.DataOffset != gc.DataOffset || c.Flags != tcpFlags(&gc)):
		t.Errorf("tcp % x: ports %d>%d / %d>%d offset %d/%d flags %#x/%#x", b[:20], c.SrcPort, c.DstPort,
			gc.SrcPort, gc.DstPort, c.DataOffset, gc.DataOffset, c.Flags, tcpFlags(&gc))
	case err == nil && !samePayload(c.LayerPayload(), gc.LayerPayload()):
		t.Errorf("tcp % x: payload %d/%d bytes", b[:20], len(c.Payload), len(gc.Payload))
	}
}

// tcpFlags packs gopacket's flag fields back into byte 13.
func tcpFlags(c *layers.TCP) uint8 {
	var f uint8
	for i, set := range []bool{c.FIN, c.SYN, c.RST, c.PSH, c.ACK, c.URG, c.ECE, c.CWR} {
		if set {
			f |= 1 << i
		}
	}
	return f
}
