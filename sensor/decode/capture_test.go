package decode

import (
	"errors"
	"github.com/outflowhq/outflow/internal/zeekconn"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outflowhq/outflow/sensor/decode/decodetest"
)

// testdata is shared with the other packages and not copied into the repo.
const testdata = "../../../shared/testdata"

// readCapture loads every frame of a pcap or pcapng file.
func readCapture(tb testing.TB, path string) []decodetest.Frame {
	tb.Helper()
	frames, err := decodetest.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return frames
}

func captureFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	for _, pattern := range []string{"zeek-conn/*.pcap*", "real/*.pcap"} {
		m, err := filepath.Glob(filepath.Join(testdata, pattern))
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		tb.Skip("shared test captures not found at " + testdata)
	}
	return files
}

// captureCounts are what decoding each shared capture gives; checked
// against tcpdump (`tcpdump -nn -r F | wc -l`, and -v for IP lengths) and,
// for zeek-conn, equal to the sums of Zeek's conn.log (packets, IP bytes).
var captureCounts = map[string]struct {
	frames, ip, notIP uint64
	ipBytes           uint64
}{
	"zeek-conn/dhcp_dhcp.pcap":                          {9, 9, 0, 2846},
	"zeek-conn/ftp_ipv4.pcap":                           {95, 95, 0, 9204},
	"zeek-conn/ftp_ipv6.pcap":                           {136, 136, 0, 14575},
	"zeek-conn/http_concurrent-range-requests.pcap":     {57, 57, 0, 34233},
	"zeek-conn/irc-dcc-send.pcapng":                     {1184, 1184, 0, 1392540},
	"zeek-conn/mixed-vlan-mpls.pcap":                    {47, 47, 0, 15327},
	"zeek-conn/mpls-in-vlan.pcap":                       {3, 3, 0, 2467},
	"zeek-conn/pcapng-multi-interface.pcapng":           {6, 6, 0, 714},
	"zeek-conn/pop3_pop3.pcap":                          {125, 125, 0, 26043},
	"zeek-conn/pppoe.pcap":                              {65, 25, 40, 2282}, // discovery, LCP, PAP, IPCP
	"zeek-conn/q-in-q.pcap":                             {5, 4, 1, 700},     // one ARP
	"zeek-conn/ssh_ssh.pcap":                            {1797, 1797, 0, 1266271},
	"zeek-conn/tcp-http-with-padding.pcap":              {25, 25, 0, 1527},
	"zeek-conn/tcp_http-on-irc-port-missing-syn.pcapng": {13, 13, 0, 5827},
	"zeek-conn/tcp_missing-syn.pcap":                    {21, 21, 0, 10615},
	"zeek-conn/wikipedia.pcap":                          {136, 126, 10, 22896}, // ARP, STP
	"real/bittorrent.pcap":                              {299, 299, 0, 301542},
	"real/dns_exfiltration.pcap":                        {300, 300, 0, 69345},
	"real/ftp-uploadfailed.pcap":                        {1645, 1645, 0, 1495148},
	"real/test-cc-capture-1.pcap":                       {7931, 7931, 0, 1834892},
	"real/youtubeupload.pcap":                           {137, 137, 0, 125102},
}

func TestDecodeCaptures(t *testing.T) {
	files := captureFiles(t)
	if len(files) != len(captureCounts) {
		t.Errorf("found %d captures, expected %d", len(files), len(captureCounts))
	}
	for _, f := range files {
		name, _ := filepath.Rel(testdata, f)
		want, ok := captureCounts[name]
		if !ok {
			t.Errorf("%s: no expected counts", name)
			continue
		}
		d := New(Config{})
		var p Packet
		var ipBytes uint64
		for _, fr := range readCapture(t, f) {
			if err := d.Decode(fr.Data, fr.LinkType, fr.TS, &p); err == nil {
				ipBytes += uint64(p.IPBytes)
			} else if !errors.Is(err, ErrNotIP) {
				t.Errorf("%s: %v", name, err)
			}
		}
		wantStats := Stats{Frames: want.frames, IP: want.ip, NotIP: want.notIP}
		if got := d.Stats(); got != wantStats || ipBytes != want.ipBytes {
			t.Errorf("%s: stats %+v ipBytes %d, want %+v ipBytes %d", name, got, ipBytes, wantStats, want.ipBytes)
		}
	}
}

// TestDecodeMatchesZeek compares, per 5-tuple, the packets and IP bytes
// each endpoint sent with Zeek's conn.log for the same trace (Zeek's
// connections of one tuple summed: there is no flow table here). This
// checks addresses, ports (ICMP pseudo-ports included), protocol and
// lengths through every encapsulation the traces use.
func TestDecodeMatchesZeek(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(testdata, "zeek-conn/*.conn.log"))
	if len(logs) != 16 {
		t.Fatalf("want the 16 shared Zeek traces, found %d", len(logs))
	}
	for _, log := range logs {
		base := strings.TrimSuffix(log, ".conn.log")
		pcaps, _ := filepath.Glob(base + ".pcap*")
		if len(pcaps) != 1 {
			t.Fatalf("%s: %d captures", log, len(pcaps))
		}
		zeek, err := zeekconn.ReadLog(log)
		if err != nil {
			t.Fatal(err)
		}
		var ours []zeekconn.Conn
		d := New(Config{})
		var p Packet
		for _, fr := range readCapture(t, pcaps[0]) {
			if d.Decode(fr.Data, fr.LinkType, fr.TS, &p) != nil {
				continue
			}
			ours = append(ours, zeekconn.New(zeekconn.ProtoName(p.Proto),
				zeekconn.Endpoint{Addr: addr(p.Src, p.IsV6), Port: p.SrcPort, Packets: 1, IPBytes: uint64(p.IPBytes)},
				zeekconn.Endpoint{Addr: addr(p.Dst, p.IsV6), Port: p.DstPort}))
		}
		want := zeekconn.SumByTuple(zeek)
		matched, bad := zeekconn.Compare(want, zeekconn.SumByTuple(ours), nil)
		for _, b := range bad {
			t.Errorf("%s: %s", filepath.Base(log), b)
		}
		if matched != len(want) || matched == 0 {
			t.Errorf("%s: %d of %d tuples match", filepath.Base(log), matched, len(want))
		}
	}
}

func addr(a [16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(a)
	}
	return netip.AddrFrom4([4]byte(a[:4]))
}
