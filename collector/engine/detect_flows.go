package engine

// Detectors that look at the connections, not only the bytes: inbound_pull,
// long_lived and p2p. Each fires on the record that meets its condition,
// once per window (p2p) or per remote and window (the others), and each
// has absolute minimums so small hosts stay quiet. docs/detectors.md
// explains why each condition is what it is.

// checkFlows runs the connection detectors for record r of h, counted in
// window w, whose entry for r's remote is wr (written back by the caller).
func (e *Engine) checkFlows(h *host, w *window, r *held, wr *winRemote) {
	e.checkInboundPull(h, w, r, wr)
	e.checkLongLived(h, w, r, wr)
	e.checkP2P(h, w, r, wr)
}

// inbound_pull: an external client opened a connection to the host and the
// host sent it more than InboundMinBytes in one window, and the host is not
// a server (it did that in fewer than InboundServerWindows past windows).
func (e *Engine) checkInboundPull(h *host, w *window, r *held, wr *winRemote) {
	if !r.inbound {
		return
	}
	wr.inbound = addSat(wr.inbound, r.bytes)
	w.inboundBytes = addSat(w.inboundBytes, r.bytes)
	if wr.inFired || wr.inbound < e.cfg.InboundMinBytes || int(h.served) >= e.cfg.InboundServerWindows {
		return
	}
	wr.inFired = true
	e.raise(h, w, evidence{
		detector:   detInboundPull,
		window:     w.start,
		at:         r.end,
		remote:     r.remote,
		limit:      float64(e.cfg.InboundMinBytes),
		prevalence: int(h.served),
	})
}

// long_lived: more than LongLivedMinBytes sent in one window over TCP
// connections older than LongLivedAge to a remote rare in the fleet.
func (e *Engine) checkLongLived(h *host, w *window, r *held, wr *winRemote) {
	if r.proto != 6 || r.end-r.flowStart < int64(e.cfg.LongLivedAge) {
		return
	}
	wr.longBytes = addSat(wr.longBytes, r.bytes)
	if wr.longFired || wr.longBytes < e.cfg.LongLivedMinBytes {
		return
	}
	n := e.prevalence(r.remote)
	if n > e.cfg.MaxPrevalence {
		return
	}
	wr.longFired = true
	e.raise(h, w, evidence{
		detector:   detLongLived,
		window:     w.start,
		at:         r.end,
		remote:     r.remote,
		firstSeen:  r.flowStart,
		prevalence: n,
		limit:      float64(e.cfg.LongLivedMinBytes),
		up:         wr.longBytes,
	})
}

// p2p: in one window, the host spoke with at least P2PMinPeers external
// peers with both ports unprivileged (≥ 1024): a peer-to-peer client, and
// the first evidence (a warning: the client itself is the risk). When also
// at least P2PMinInbound of them connected in and it sent them more than
// it received, at least P2PMinBytes, it is a node serving others,
// Winny-style: second evidence, scored higher.
func (e *Engine) checkP2P(h *host, w *window, r *held, wr *winRemote) {
	if r.hostPort < 1024 || r.remotePort < 1024 || (r.proto != 6 && r.proto != 17) {
		return
	}
	if !wr.p2p {
		wr.p2p = true
		w.p2pPeers++
	}
	if r.inbound && !wr.p2pIn {
		wr.p2pIn = true
		w.p2pInPeers++
	}
	w.p2pUp = addSat(w.p2pUp, r.bytes)
	w.p2pDown = addSat(w.p2pDown, r.in)
	if w.p2pPeers < e.cfg.P2PMinPeers {
		return
	}
	serving := w.p2pInPeers >= e.cfg.P2PMinInbound && w.p2pUp > w.p2pDown && w.p2pUp >= e.cfg.P2PMinBytes
	switch {
	case serving && !w.p2pServing:
		w.p2pServing, w.p2pFired = true, true
	case !w.p2pFired:
		w.p2pFired = true
	default:
		return
	}
	e.raise(h, w, evidence{
		serving:  serving,
		detector: detP2P,
		window:   w.start,
		at:       r.end,
		remote:   r.remote,
		limit:    float64(e.cfg.P2PMinPeers),
		peers:    w.p2pPeers,
		inPeers:  w.p2pInPeers,
		up:       w.p2pUp,
		down:     w.p2pDown,
	})
}
