#!/usr/bin/env bash
# The eBPF programs' cost, measured so that machine drift cannot pass for
# it: the test binary is built once, then ROUNDS rounds each run every
# BenchmarkVethTCP case once, detached and attached in alternating order,
# followed by BenchmarkProgram. Results go to bench-ebpf/ and through
# benchstat when it is installed (go install golang.org/x/perf/cmd/benchstat@latest).
# Needs root (namespaces, veth, eBPF).
set -euo pipefail
ROUNDS=${ROUNDS:-10}
out=bench-ebpf
mkdir -p "$out"
go test -c -o "$out/bpf.test" ./bpf/
rm -f "$out"/detached.txt "$out"/attached.txt "$out"/program.txt
run() { # case file
	(cd bpf && "../$out/bpf.test" -test.run '^$' -test.bench "^BenchmarkVethTCP\$/^$1\$" -test.count 1) |
		grep '^Benchmark' | sed -E 's#/(detached|attached)-#-#' >>"$out/$2.txt"
}
for i in $(seq "$ROUNDS"); do
	for mode in gso mtu; do
		if ((i % 2)); then
			run "$mode/detached" detached
			run "$mode/attached" attached
		else
			run "$mode/attached" attached
			run "$mode/detached" detached
		fi
	done
	echo "round $i/$ROUNDS done" >&2
done
(cd bpf && "../$out/bpf.test" -test.run '^$' -test.bench '^BenchmarkProgram$' -test.count 6) | tee "$out/program.txt"
bs=$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")
if [ -x "$bs" ]; then
	"$bs" "$out/detached.txt" "$out/attached.txt"
else
	echo "benchstat not installed; raw results in $out/" >&2
	cat "$out/detached.txt" "$out/attached.txt"
fi
