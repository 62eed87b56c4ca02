#!/usr/bin/env bash
# compare-softflowd.sh PCAP [SOFTFLOWD-ARGS...]
#
# Times softflowd turning a capture into NetFlow v9 sent to an nfcapd
# listening on 127.0.0.1 (a free port; loopback only), and prints its rate
# in packets per second, for comparison with the Outflow sensor on the same
# file. Needs softflowd, nfcapd and nfdump (Debian: softflowd, nfdump) and
# tcpdump. The control socket is disabled (-c none): softflowd 1.1.0 reading
# a file polls it with uninitialised state and can block forever in accept().
# Extra arguments go to softflowd, e.g. -m 65536 for a larger
# flow table. Example:
#
#   SCENARIO_OUT=/tmp/bench.pcap go test ./scenario -run TestWriteCapture -count=1   # or any pcap
#   scenario/compare-softflowd.sh /tmp/bench.pcap
set -euo pipefail

pcap=${1:?usage: $0 PCAP [SOFTFLOWD-ARGS...]}
shift
[[ -r $pcap ]] || { echo "cannot read $pcap" >&2; exit 1; }
for tool in softflowd nfcapd nfdump tcpdump; do
	command -v "$tool" >/dev/null || { echo "$tool not installed" >&2; exit 1; }
done

tmp=$(mktemp -d)
nfpid=
cleanup() {
	[[ -n $nfpid ]] && kill "$nfpid" 2>/dev/null && wait "$nfpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# A UDP port nobody listens on.
port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if [[ -z $(ss -Hlun "sport = :$p") ]]; then port=$p; break; fi
done
[[ -n $port ]] || { echo "no free UDP port found" >&2; exit 1; }

mkdir "$tmp/flows"
nfcapd -B 16777216 -b 127.0.0.1 -p "$port" -w "$tmp/flows" -P "$tmp/nfcapd.pid" >"$tmp/nfcapd.log" 2>&1 &
nfpid=$!
for _ in $(seq 50); do
	[[ -n $(ss -Hlun "sport = :$port") ]] && break
	sleep 0.1
done

echo "counting packets in $pcap ..." >&2
packets=$(tcpdump -r "$pcap" -nn -q 2>/dev/null | wc -l)

echo "softflowd -r $pcap -n 127.0.0.1:$port -v 9 $* ..." >&2
timeout "${SOFTFLOWD_TIMEOUT:-900}" /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" \
	softflowd -r "$pcap" -n "127.0.0.1:$port" -v 9 -d \
	-p "$tmp/softflowd.pid" -c none "$@" >"$tmp/softflowd.log" 2>&1 ||
	{ echo "softflowd failed or timed out (SOFTFLOWD_TIMEOUT=${SOFTFLOWD_TIMEOUT:-900}s):" >&2; tail "$tmp/softflowd.log" >&2; exit 1; }
read -r wall user sys maxrss <"$tmp/time"

sleep 1 # let nfcapd take the last datagrams, then make it write its file
kill "$nfpid"
wait "$nfpid" 2>/dev/null || true
nfpid=
flows=$(nfdump -R "$tmp/flows" -I 2>/dev/null | awk '$1 == "Flows:" { print $2; exit }')

awk -v p="$packets" -v w="$wall" -v u="$user" -v s="$sys" -v m="$maxrss" -v f="$flows" 'BEGIN {
	printf "packets         %d\n", p
	printf "softflowd wall  %.2f s (user %.2f s, sys %.2f s, max RSS %d KiB)\n", w, u, s, m
	printf "softflowd rate  %.0f packets/s (wall), %.0f packets/s (user+sys CPU)\n", (w > 0 ? p / w : 0), (u + s > 0 ? p / (u + s) : 0)
	printf "flows received  %d (nfcapd on 127.0.0.1)\n", f
}'
