//go:build !linux

package source

import "errors"

// OpenAFPacket is only available on Linux.
func OpenAFPacket(cfg AFPacketConfig) (Source, error) {
	return nil, errors.New("open afpacket: AF_PACKET needs Linux")
}
