// Package source holds the packet sources of the sensor behind one small
// interface, Source: pcap and pcapng files (several interfaces and link
// types per file), read by our own readers, and live interfaces through
// AF_PACKET TPACKET_V3 with fanout, on gopacket's afpacket. A source only
// delivers frames and counts its own drops; decoding and counting happen
// downstream.
package source
