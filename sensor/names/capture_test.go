package names

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/outflowhq/outflow/sensor/decode"
	"github.com/outflowhq/outflow/sensor/decode/decodetest"
)

const testdata = "../../../shared/testdata"

// observeCapture decodes a shared capture and observes every packet; it
// returns the names Observe reported, in order.
func observeCapture(t testing.TB, c *Cache, name string) []string {
	t.Helper()
	frames, err := decodetest.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Skipf("shared capture: %v", err)
	}
	d := decode.New(decode.Config{})
	var p decode.Packet
	var got []string
	for _, fr := range frames {
		if d.Decode(fr.Data, fr.LinkType, fr.TS, &p) != nil {
			continue
		}
		if n := c.Observe(&p); n != "" {
			got = append(got, n)
		}
	}
	return got
}

func TestWikipediaCapture(t *testing.T) {
	c := New(64)
	got := observeCapture(t, c, "zeek-conn/wikipedia.pcap")
	// tcpdump -A: 15 GET requests; Host is upload.wikimedia.org 12 times.
	count := map[string]int{}
	for _, n := range got {
		count[n]++
	}
	want := map[string]int{"upload.wikimedia.org": 12, "bits.wikimedia.org": 1, "meta.wikimedia.org": 1, "www.wikipedia.org": 1}
	if len(count) != len(want) {
		t.Errorf("hosts %v, want %v", count, want)
	}
	for h, n := range want {
		if count[h] != n {
			t.Errorf("host %s seen %d times, want %d", h, count[h], n)
		}
	}
	// tcpdump port 53: A answers behind CNAME chains.
	for addr, name := range map[string]string{
		"208.80.152.3": "upload.wikimedia.org", // upload.wikimedia.org CNAME upload.pmtpa.wikimedia.org A 208.80.152.3
		"208.80.152.2": "meta.wikimedia.org",   // meta -> text -> text.pmtpa A 208.80.152.2
	} {
		if n := c.Lookup(netip.MustParseAddr(addr)); n != name {
			t.Errorf("Lookup(%s) = %q, want %q", addr, n, name)
		}
	}
	// 14 responses on port 53: 4 NXDOMAIN (skipped) and 10 NOERROR, of which
	// 5 carry an A record (4 for upload, 1 for meta).
	s := c.Stats()
	want2 := Stats{Entries: 2, Learned: 2, Lookups: 2, Hits: 2, DNS: 10, DNSAddrs: 5, HTTPHost: 15}
	if s != want2 {
		t.Errorf("stats %+v, want %+v", s, want2)
	}
}

func TestMultiInterfaceCapture(t *testing.T) {
	c := New(64)
	observeCapture(t, c, "zeek-conn/pcapng-multi-interface.pcapng")
	for addr, name := range map[string]string{
		"23.194.101.24":           "www.apple.com", // www.apple.com CNAME x3, then A
		"142.251.181.138":         "google.com",
		"142.251.181.102":         "google.com",
		"2607:f8b0:4023:2007::66": "google.com",
	} {
		if n := c.Lookup(netip.MustParseAddr(addr)); n != name {
			t.Errorf("Lookup(%s) = %q, want %q", addr, n, name)
		}
	}
	if s := c.Stats(); s.Entries != 11 || s.DNS != 3 || s.DNSAddrs != 11 || s.DNSBad != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestSNICaptures(t *testing.T) {
	for _, tc := range []struct {
		file string
		sni  string
		n    int
	}{
		{"real/youtubeupload.pcap", "upload.youtube.com", 1},
		{"real/test-cc-capture-1.pcap", "testing.com", 299}, // the beacon opens a TLS session every ~2.2 s
	} {
		c := New(16)
		got := observeCapture(t, c, tc.file)
		if len(got) != tc.n {
			t.Errorf("%s: %d names, want %d", tc.file, len(got), tc.n)
		}
		for _, n := range got {
			if n != tc.sni {
				t.Errorf("%s: name %q, want %q", tc.file, n, tc.sni)
				break
			}
		}
		if s := c.Stats(); s.SNI != uint64(tc.n) {
			t.Errorf("%s: stats %+v", tc.file, s)
		}
	}
}
