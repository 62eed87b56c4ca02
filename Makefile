# Outflow's front door. Every target is a line or two of Go's own tools.
GO      ?= go
BIN     ?= bin/outflow
PKGS    := ./...

.PHONY: all build demo eval test test-short bench bench-ebpf bench-softflowd fuzz generate lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/outflow

# A generated multi-day capture with a leak, replayed through a sensor
# process into a collector with embedded NATS; prints the alert and shows
# it arriving at a local webhook receiver.
demo: build
	$(BIN) demo

# Detection measured on labelled traffic: generates 60 hosts × 14 days with
# benign heavy uploaders and incidents of every kind, analyses it, prints
# detected/missed per incident and false alerts per 100 host-days
# (scenario/README.md).
eval: build
	$(BIN) eval

# All tests. Root is needed for the AF_PACKET and network-namespace tests
# (they fail rather than skip when CI=true).
test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 $(PKGS) | tee bench.txt

# The eBPF programs' cost: per packet (BPF_PROG_TEST_RUN) and on a TCP
# transfer over a veth pair, detached vs attached in alternating rounds.
# Needs root; benchstat if installed.
bench-ebpf:
	bench/ebpf.sh

# The sensor against softflowd on the same 3.4 M-packet capture (on tmpfs).
# Needs: apt-get install softflowd nfdump tcpdump
bench-softflowd: build
	$(BIN) generate -scenario bench /dev/shm/outflow-bench.pcap
	bench/compare-softflowd.sh /dev/shm/outflow-bench.pcap

# Each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./wire/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMatchesProto$$' -fuzztime $(FUZZTIME) ./wire/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./sensor/decode/
	$(GO) test -run '^$$' -fuzz '^FuzzLayersMatchGopacket$$' -fuzztime $(FUZZTIME) ./sensor/decode/
	$(GO) test -run '^$$' -fuzz '^FuzzDNS$$' -fuzztime $(FUZZTIME) ./sensor/names/
	$(GO) test -run '^$$' -fuzz '^FuzzSNI$$' -fuzztime $(FUZZTIME) ./sensor/names/
	$(GO) test -run '^$$' -fuzz '^FuzzQuestionName$$' -fuzztime $(FUZZTIME) ./sensor/names/
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./sensor/source/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEvent$$' -fuzztime $(FUZZTIME) ./bpf/
	$(GO) test -run '^$$' -fuzz '^FuzzDomain$$' -fuzztime $(FUZZTIME) ./collector/allow/

# Regenerates the protobuf code and the eBPF objects (needs
# apt-get install protobuf-compiler clang llvm libbpf-dev).
generate:
	$(GO) generate ./wire/...
	$(GO) generate ./bpf/...

lint:
	$(GO) vet $(PKGS)
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"

clean:
	rm -rf bin outflow-data bench.txt bench-ebpf
