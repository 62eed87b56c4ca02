package flowtable

// wheel schedules active-interval exports without scanning idle flows: a
// flow enters it when it gets its first packet since its previous export,
// in the slot of the granule its export falls due (rounded up), and leaves
// it when exported or removed. Tick visits only the slots whose granule has
// passed. Slots cover ActiveInterval plus two granules, so a due time never
// wraps past the current slot; entries are checked against their due time
// anyway, so a late Tick or an out-of-range time only costs a revisit.
type wheel struct {
	slots   []dlist
	cur     int64 // last processed granule
	started bool
}

func (w *wheel) init(n int) {
	w.slots = make([]dlist, n)
	for s := range w.slots {
		w.slots[s].init()
	}
}

// schedule puts entry i in the wheel with the given due time.
func (t *Table) schedule(i int32, due int64) {
	w := &t.wheel
	if !w.started {
		w.started = true
		w.cur = floorDiv(t.slab[i].last, t.gran) - 1
	}
	t.unschedule(i)
	g := ceilDiv(due, t.gran)
	n := int64(len(w.slots))
	g = min(max(g, w.cur+1), w.cur+n-1)
	s := int32(g % n)
	if s < 0 {
		s += int32(n)
	}
	e := &t.slab[i]
	e.due, e.slot, e.inWheel = due, s, true
	t.pushBack(&w.slots[s], i, linkWheel)
}

func (t *Table) unschedule(i int32) {
	e := &t.slab[i]
	if e.inWheel {
		t.unlink(&t.wheel.slots[e.slot], i, linkWheel)
		e.inWheel = false
	}
}

// runWheel exports the pending deltas that are due at now.
func (t *Table) runWheel(now int64) {
	w := &t.wheel
	if !w.started {
		return
	}
	n := int64(len(w.slots))
	target := floorDiv(now, t.gran)
	for g := max(w.cur+1, target-n+1); g <= target; g++ {
		w.cur = g // entries rescheduled below land after g
		s := g % n
		if s < 0 {
			s += n
		}
		for i := w.slots[s].head; i != none; {
			next := t.slab[i].link[linkWheel].next
			if t.slab[i].due <= now {
				t.activeExport(i, now)
			}
			i = next
		}
	}
	w.cur = max(w.cur, target)
}

// activeExport emits the pending delta of a flow that is still alive. A
// closed flow waits until ClosedIdle after its close: it usually expires
// then, and its final record carries the closing packets instead of an
// empty one never being sent.
func (t *Table) activeExport(i int32, now int64) {
	e := &t.slab[i]
	if e.class == classClosed {
		if hold := e.closedAt + int64(t.cfg.ClosedIdle); now < hold {
			t.schedule(i, hold)
			return
		}
	}
	t.unschedule(i)
	e.splits = 0
	t.export(i, now, false)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
