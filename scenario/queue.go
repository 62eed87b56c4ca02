package scenario

import "iter"

// stream is one session in the queue: not started (pkt nil, run set) or
// suspended with its next packet ready.
type stream struct {
	t    int64  // time of the next packet (or of the start)
	seq  uint64 // tie-break: order of arrival, for determinism
	run  iter.Seq[*packet]
	next func() (*packet, bool)
	stop func()
	pkt  *packet
}

// queue is a min-heap of streams by (t, seq): the merge that puts every
// session's packets into one time-ordered capture.
type queue struct {
	h   []*stream
	seq uint64
}

func (q *queue) len() int     { return len(q.h) }
func (q *queue) min() *stream { return q.h[0] }
func (q *queue) less(i, j int) bool {
	a, b := q.h[i], q.h[j]
	return a.t < b.t || a.t == b.t && a.seq < b.seq
}

func (q *queue) add(t int64, run iter.Seq[*packet]) {
	q.h = append(q.h, &stream{t: t, seq: q.seq, run: run})
	q.seq++
	q.up(len(q.h) - 1)
}

// advance moves the minimum stream to its next packet (starting it if
// needed) and restores the heap; a finished stream leaves the queue.
func (q *queue) advance() {
	s := q.h[0]
	if s.next == nil {
		s.next, s.stop = iter.Pull(s.run)
		s.run = nil
	}
	p, ok := s.next()
	if !ok {
		s.stop()
		last := len(q.h) - 1
		q.h[0] = q.h[last]
		q.h[last] = nil
		q.h = q.h[:last]
	} else {
		s.pkt, s.t = p, p.ts
	}
	if len(q.h) > 0 {
		q.down(0)
	}
}

// stopAll ends every suspended session, so none leaks.
func (q *queue) stopAll() {
	for _, s := range q.h {
		if s.stop != nil {
			s.stop()
		}
	}
	q.h = nil
}

func (q *queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *queue) down(i int) {
	n := len(q.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			return
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
}
