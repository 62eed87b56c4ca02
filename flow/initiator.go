package flow

// FirstSenderIsResponder decides the initiator of a flow whose handshake
// was not seen (UDP, or TCP joined mid-stream): it is the sender of the
// first packet, unless that packet went from a well-known server port to
// a client port, in which case its receiver is the client. ICMP
// pseudo-ports are message types, not services, so only TCP and UDP are
// turned around. Zeek's likely_server_ports does the same, reduced here
// to the well-known range. Every sensor source uses it, so the packet
// path and the eBPF sweeper orient flows alike.
func FirstSenderIsResponder(proto uint8, srcPort, dstPort uint16) bool {
	if proto != 6 && proto != 17 {
		return false
	}
	return likelyServer(srcPort) && !likelyServer(dstPort)
}

func likelyServer(port uint16) bool { return port != 0 && port < 1024 }
