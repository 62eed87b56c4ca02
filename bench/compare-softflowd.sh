#!/usr/bin/env bash
# compare-softflowd.sh PCAP
#
# Reads one capture with softflowd and with the Outflow sensor, in the same
# run, and prints each one's rate in packets per second and the ratio.
#
#   softflowd -r PCAP -n 127.0.0.1:PORT   → nfcapd on loopback (NetFlow v9)
#   outflow sensor -pcap PCAP -nats ...   → outflow collector (embedded NATS on loopback)
#
# Each tool runs three times; the best wall time counts. "1 core" pins the
# reader to CPU 0 (taskset), "2 cores" lets it use both. Put the capture on
# tmpfs (/dev/shm) so the disk is not what is measured. Loopback only.
# Needs softflowd, nfcapd, nfdump (Debian: softflowd, nfdump), taskset.
# softflowd 1.1.0 reading a file can block for ever in accept() on its
# control socket: -c none disables it.
set -euo pipefail

pcap=${1:?usage: $0 PCAP}
[[ -r $pcap ]] || { echo "cannot read $pcap" >&2; exit 1; }
for tool in softflowd nfcapd taskset; do
	command -v "$tool" >/dev/null || { echo "$tool not installed" >&2; exit 1; }
done
root=$(cd "$(dirname "$0")/.." && pwd)
outflow=$root/bin/outflow
CGO_ENABLED=0 go build -C "$root" -o "$outflow" ./cmd/outflow

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { # proto (u|t)
	for _ in $(seq 100); do
		local p=$((20000 + RANDOM % 40000))
		[[ -z $(ss -Hl"$1"n "sport = :$p") ]] && { echo "$p"; return; }
	done
	echo "no free port" >&2; exit 1
}

# The packet count, from the Outflow sensor's own counter on a dry run would
# be circular; count records with tcpdump.
packets=$(tcpdump -r "$pcap" -nn -q 2>/dev/null | wc -l)

nfport=$(free_port u)
mkdir "$tmp/nf"
nfcapd -B 16777216 -b 127.0.0.1 -p "$nfport" -w "$tmp/nf" >"$tmp/nfcapd.log" 2>&1 &
pids+=($!)

natsport=$(free_port t)
"$outflow" collector -data-dir "$tmp/col" -listen 127.0.0.1:0 -nats-listen "127.0.0.1:$natsport" -log-level warn >"$tmp/col.log" 2>&1 &
pids+=($!)
sleep 1

best() { # label cmd...: best wall time and the CPU time of that run, of three
	local label=$1; shift
	local bw=999999 bc=0
	for _ in 1 2 3; do
		/usr/bin/time -f '%e %U %S' -o "$tmp/t" "$@" >"$tmp/out.log" 2>&1 || { echo "$label failed:" >&2; tail "$tmp/out.log" >&2; exit 1; }
		read -r w u s <"$tmp/t"
		if awk -v w="$w" -v b="$bw" 'BEGIN{exit !(w < b)}'; then bw=$w; bc=$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}'); fi
	done
	echo "$label $bw $bc"
}

{
	best "softflowd(1-core)" taskset -c 0 softflowd -r "$pcap" -n "127.0.0.1:$nfport" -v 9 -d -c none
	best "outflow(1-core)" taskset -c 0 "$outflow" sensor -id bench1 -pcap "$pcap" -nats "nats://127.0.0.1:$natsport" -listen "" -log-level warn
	best "outflow(2-cores)" "$outflow" sensor -id bench2 -pcap "$pcap" -nats "nats://127.0.0.1:$natsport" -listen "" -log-level warn
} >"$tmp/results"

awk -v p="$packets" '
	{ wall[$1] = $2; cpu[$1] = $3; order[NR] = $1 }
	END {
		printf "capture: %d packets\n", p
		for (i = 1; i <= NR; i++) { n = order[i]; printf "%-18s %6.2f s wall  %6.2f s CPU  %5.2f M packets/s\n", n, wall[n], cpu[n], p / wall[n] / 1e6 }
		s = wall["softflowd(1-core)"]
		printf "ratio outflow/softflowd: 1 core %.2f, 2 cores %.2f\n", s / wall["outflow(1-core)"], s / wall["outflow(2-cores)"]
	}' "$tmp/results"
