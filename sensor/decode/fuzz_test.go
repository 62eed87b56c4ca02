package decode

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// FuzzDecode feeds arbitrary frames under every supported link type. A
// panic fails (the decoder's recover is off); errors must be of a known kind
// and a decoded packet must be self-consistent.
func FuzzDecode(f *testing.F) {
	for _, file := range captureFiles(f) {
		frames := readCapture(f, file)
		for _, fr := range frames[:min(3, len(frames))] {
			f.Add(fr.Data, uint16(fr.LinkType))
		}
	}
	f.Add(eth(0x8847, label(1, false), label(2, true), ip4TCP(f)), uint16(layers.LinkTypeEthernet))
	f.Add(eth(0x8864, []byte{0x11, 0, 0, 1, 0, 47, 0, 0x21}, ip4TCP(f)), uint16(layers.LinkTypeEthernet))
	f.Add(frag4(f, 1, 0, true, make([]byte, 16)), uint16(layers.LinkTypeRaw))
	f.Add(ip6UDP(f), uint16(layers.LinkTypeLinuxSLL2))
	d := New(Config{FragmentCapacity: 16})
	d.panics = true
	f.Fuzz(func(t *testing.T, data []byte, lt uint16) {
		var p Packet
		err := d.Decode(data, layers.LinkType(lt), 1, &p)
		if err != nil {
			for _, kind := range []error{ErrNotIP, ErrUnsupportedLink, ErrTruncated, ErrMalformed} {
				if errors.Is(err, kind) {
					return
				}
			}
			t.Fatalf("error of no known kind: %v", err)
		}
		if p.IPBytes < 20 {
			t.Fatalf("IP packet with IPBytes %d", p.IPBytes)
		}
		if len(p.Payload) > len(data) {
			t.Fatalf("payload longer than the frame")
		}
	})
}
