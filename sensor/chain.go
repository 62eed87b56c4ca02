package sensor

import (
	"errors"
	"io"

	"github.com/outflowhq/outflow/sensor/source"
)

// chain replays capture files one after another as one source, so rotated
// capture files keep their flows in one table.
type chain struct {
	paths []string
	// ended is told about each file when it has been read to the end.
	ended func(path string, st source.Stats)
	cur   source.Source
	next  int
	done  source.Stats // stats of files already finished
}

func (c *chain) Next() ([]byte, source.Info, error) {
	for {
		if c.cur == nil {
			if c.next == len(c.paths) {
				return nil, source.Info{}, io.EOF
			}
			s, err := source.OpenFile(c.paths[c.next])
			if err != nil {
				return nil, source.Info{}, err
			}
			c.cur = s
			c.next++
		}
		data, info, err := c.cur.Next()
		if errors.Is(err, io.EOF) {
			st := c.cur.Stats()
			c.done.Packets += st.Packets
			c.done.Drops += st.Drops
			c.done.Truncated += st.Truncated
			if c.ended != nil {
				c.ended(c.paths[c.next-1], st)
			}
			_ = c.cur.Close()
			c.cur = nil
			continue
		}
		return data, info, err
	}
}

// files is how many files the chain has opened. Its stats change other
// than by one packet per frame only when a file ends, that is when files
// moves or Next returns an error: the stages ask for Stats only then.
func (c *chain) files() int { return c.next }

func (c *chain) Stats() source.Stats {
	s := c.done
	if c.cur != nil {
		st := c.cur.Stats()
		s.Packets += st.Packets
		s.Drops += st.Drops
		s.Truncated += st.Truncated
	}
	return s
}

func (c *chain) Kind() string { return "pcap" }

func (c *chain) Close() error {
	if c.cur != nil {
		return c.cur.Close()
	}
	return nil
}
