package flow

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	n := MustParseNetworks(DefaultInternal)
	cases := []struct {
		src, dst string
		want     Direction
	}{
		{"10.1.2.3", "8.8.8.8", Outbound},
		{"8.8.8.8", "192.168.1.1", Inbound},
		{"172.16.0.1", "100.64.0.9", Internal},
		{"1.1.1.1", "8.8.8.8", External},
		{"fd00::1", "2001:db8::1", Outbound},
		{"::ffff:10.0.0.1", "8.8.4.4", Outbound},
		{"172.32.0.1", "8.8.8.8", External},
	}
	for _, c := range cases {
		got := n.Classify(netip.MustParseAddr(c.src), netip.MustParseAddr(c.dst))
		if got != c.want {
			t.Errorf("Classify(%s,%s) = %v, want %v", c.src, c.dst, got, c.want)
		}
	}
}

func TestParseNetworksError(t *testing.T) {
	_, err := ParseNetworks([]string{"10.0.0.0/8", "10.0.0/33x"})
	if err == nil || err.Error() != `internal network "10.0.0/33x": not a CIDR prefix or address` {
		t.Fatalf("err = %v", err)
	}
}

func TestRecordJSONRoundTrip(t *testing.T) {
	var back0 Record
	ts := time.Date(2026, 11, 21, 2, 0, 0, 123, time.UTC)
	r := Record{Proto: 6, SrcAddr: netip.MustParseAddr("10.0.0.5"), DstAddr: netip.MustParseAddr("203.0.113.7"),
		SrcPort: 50000, DstPort: 443, SrcBytes: 1200, DstBytes: 80, SrcPackets: 3, DstPackets: 2,
		Start: ts, End: ts.Add(time.Second), FlowStart: ts, Direction: Outbound, InitiatorFromSYN: true,
		DstName: "files.example.net", SrcFlags: 0x1a}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"query"`) {
		t.Errorf("a record without a query writes one: %s", b)
	}
	dns := r
	dns.Query = "a1b2.tunnel.example.com"
	if b, err := json.Marshal(dns); err != nil || !strings.Contains(string(b), `"query":"a1b2.tunnel.example.com"`) {
		t.Errorf("query not written: %s %v", b, err)
	} else if err := json.Unmarshal(b, &back0); err != nil || back0 != dns {
		t.Errorf("query round trip: %+v %v", back0, err)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != r {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, r)
	}
	host, remote, out, in, name, ok := r.Local()
	if !ok || host != r.SrcAddr || remote != r.DstAddr || out != 1200 || in != 80 || name != "files.example.net" {
		t.Fatalf("Local() = %v %v %d %d %q %v", host, remote, out, in, name, ok)
	}
}
