package names

import "net/netip"

// Cache maps remote addresses to the names they were learned under. It is
// bounded: when full, a CLOCK sweep evicts an entry not looked up since the
// hand last passed it (second chance), so names that flows actually use
// outlive the many DNS answers nobody connects to. A Cache is used by one
// goroutine, like the decoder that feeds it.
type Cache struct {
	index map[netip.Addr]int32 // address -> slot
	slots []slot
	used  int // slots filled so far
	hand  int // CLOCK hand
	stats Stats
	dns   dnsScratch
	name  [maxName]byte // scratch for lower-casing a name before it becomes a string
}

type slot struct {
	addr netip.Addr
	name string
	ref  bool // looked up since the hand last passed
}

// Stats are the cache's cumulative counters (Entries is a gauge).
type Stats struct {
	Entries  int    // addresses held now
	Learned  uint64 // addresses stored or renamed (Learn calls that changed the cache)
	Evicted  uint64 // entries dropped to make room
	Lookups  uint64
	Hits     uint64
	DNS      uint64 // DNS responses parsed
	DNSAddrs uint64 // A/AAAA answers learned from them
	DNSBad   uint64 // DNS responses cut or malformed (answers before the fault are kept)
	SNI      uint64 // TLS ClientHellos with a server name
	HTTPHost uint64 // HTTP requests with a Host header
}

// New returns an empty cache holding at most capacity addresses (at least 1).
func New(capacity int) *Cache {
	capacity = max(capacity, 1)
	return &Cache{
		index: make(map[netip.Addr]int32, capacity),
		slots: make([]slot, capacity),
	}
}

// Learn records that addr is known as name (DNS answer, SNI, Host). The
// latest name wins.
func (c *Cache) Learn(addr netip.Addr, name string) {
	addr = addr.Unmap()
	if !addr.IsValid() || name == "" {
		return
	}
	if i, ok := c.index[addr]; ok {
		if s := &c.slots[i]; s.name != name {
			s.name = name
			c.stats.Learned++
		}
		return
	}
	c.stats.Learned++
	var i int
	if c.used < len(c.slots) {
		i = c.used
		c.used++
	} else {
		i = c.victim()
		delete(c.index, c.slots[i].addr)
		c.stats.Evicted++
	}
	// A new entry starts without a reference bit: it has a full turn of the
	// hand to be used before it may go.
	c.slots[i] = slot{addr: addr, name: name}
	c.index[addr] = int32(i)
}

// victim advances the CLOCK hand to an entry not referenced since the last
// pass, clearing reference bits on the way.
func (c *Cache) victim() int {
	for {
		s := &c.slots[c.hand]
		i := c.hand
		c.hand = (c.hand + 1) % len(c.slots)
		if !s.ref {
			return i
		}
		s.ref = false
	}
}

// Lookup returns the name learned for addr, or "".
func (c *Cache) Lookup(addr netip.Addr) string {
	c.stats.Lookups++
	i, ok := c.index[addr.Unmap()]
	if !ok {
		return ""
	}
	c.stats.Hits++
	s := &c.slots[i]
	s.ref = true
	return s.name
}

// Stats returns a copy of the counters.
func (c *Cache) Stats() Stats {
	s := c.stats
	s.Entries = len(c.index)
	return s
}
