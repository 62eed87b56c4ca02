/* Types shared by flow.c and, through bpf2go, by the Go loader. */
#ifndef OUTFLOW_FLOW_H
#define OUTFLOW_FLOW_H

#include <linux/types.h>

/* One bidirectional flow. The side with the smaller (address, port) pair,
 * compared as big-endian bytes, is "lo"; the other is "hi". Both
 * directions of a conversation therefore land on the same key. */
struct flow_key {
	__u8 addr_lo[16]; /* IPv4: first 4 bytes, rest zero */
	__u8 addr_hi[16];
	__u16 port_lo;    /* host byte order; ICMP: Zeek pseudo-ports */
	__u16 port_hi;
	__u16 vlan;       /* outermost 802.1Q id, 0 when untagged */
	__u8 proto;       /* IANA protocol after IPv6 extension headers */
	__u8 family;      /* 4 or 6 */
};

enum flow_side {
	SIDE_UNKNOWN = 0,
	SIDE_LO = 1,
	SIDE_HI = 2,
};

/* Counters of one flow. Packets and bytes are per sending side; bytes are
 * IP-layer bytes (IPv4 total length, IPv6 payload length + 40). Times are
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC); user space converts them to wall
 * time. */
struct flow_value {
	__u64 packets_lo; /* sent by the lo side */
	__u64 packets_hi;
	__u64 bytes_lo;
	__u64 bytes_hi;
	__u64 first_ns;
	__u64 last_ns;
	__u32 flags_lo;   /* TCP flags OR'd over the lo side's packets */
	__u32 flags_hi;
	__u32 initiator;  /* enum flow_side, from a SYN or SYN-ACK */
	__u32 _pad;
};

/* Indexes of the per-CPU counters array. */
enum counter {
	COUNTER_PACKETS = 0,        /* every packet the program saw */
	COUNTER_NOT_IP,             /* not IPv4/IPv6 (ARP, LLDP, ...): not counted in a flow */
	COUNTER_TRUNCATED,          /* link or IP header cut or invalid: not counted in a flow */
	COUNTER_TRANSPORT_TRUNCATED,/* TCP/UDP/ICMP header cut: counted with ports 0 */
	COUNTER_FRAGMENTS,          /* non-first IP fragments: counted with ports 0 */
	COUNTER_INSERTS,            /* flows created */
	COUNTER_INSERT_FAILED,      /* flows lost because the map was full */
	COUNTER_MAX,
};

#endif
