package flowtable

// Entries live in one slab and are linked by index into two kinds of
// intrusive doubly linked lists: the LRU lists (one per timeout class) and
// the slots of the export wheel. Linking and unlinking never allocate, and
// indexes stay valid when the slab grows.

const none int32 = -1

// Which link of an entry a list uses.
const (
	linkLRU = iota
	linkWheel
)

type links struct{ prev, next int32 }

type dlist struct{ head, tail int32 }

func (l *dlist) init() { l.head, l.tail = none, none }

func (t *Table) pushBack(l *dlist, i int32, which int) {
	e := &t.slab[i]
	e.link[which] = links{prev: l.tail, next: none}
	if l.tail != none {
		t.slab[l.tail].link[which].next = i
	} else {
		l.head = i
	}
	l.tail = i
}

func (t *Table) unlink(l *dlist, i int32, which int) {
	ln := t.slab[i].link[which]
	if ln.prev != none {
		t.slab[ln.prev].link[which].next = ln.next
	} else {
		l.head = ln.next
	}
	if ln.next != none {
		t.slab[ln.next].link[which].prev = ln.prev
	} else {
		l.tail = ln.prev
	}
	t.slab[i].link[which] = links{none, none}
}
