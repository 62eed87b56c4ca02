package bpf

// Rebuilds flow_bpfel.go/.o and flow_bpfeb.go/.o from flow.c. Needs
// Debian's clang and libbpf-dev (apt-get install clang llvm libbpf-dev);
// the include path is where Debian keeps asm/ for linux/bpf.h on amd64.
// -mcpu=v3: 32-bit atomics for the TCP flags (Linux 5.12+).
//go:generate go tool bpf2go -tags linux -target bpfel,bpfeb -type flow_key -type flow_key4 -type flow_value -type clock_pair flow flow.c -- -I/usr/include/x86_64-linux-gnu -O2 -g -Wall -mcpu=v3

// The benchmark build (tests only, _test.go): flow.c with -DFLOWBENCH,
// whose account path varies the IPv4 key on every run, so that one
// BPF_PROG_TEST_RUN repeat loop inserts a new flow per repetition
// (BenchmarkProgram's new-flow). Its maps and programs have the same
// names, so it loads into flowObjects.
//go:generate go tool bpf2go -tags linux -target bpfel,bpfeb -output-suffix _test -no-global-types flowbench flow.c -- -I/usr/include/x86_64-linux-gnu -O2 -g -Wall -mcpu=v3 -DFLOWBENCH
