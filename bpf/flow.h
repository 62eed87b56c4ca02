/* Types shared by flow.c and, through bpf2go, by the Go loader. */
#ifndef OUTFLOW_FLOW_H
#define OUTFLOW_FLOW_H

#include <linux/types.h>

/* One bidirectional flow. The side with the smaller (address, port) pair,
 * compared as big-endian bytes, is "lo"; the other is "hi". Both
 * directions of a conversation therefore land on the same key. */
struct flow_key {
	__u8 addr_lo[16]; /* IPv4 flows use struct flow_key4 (below) */
	__u8 addr_hi[16];
	__u16 port_lo;    /* host byte order; ICMP: Zeek pseudo-ports */
	__u16 port_hi;
	__u16 vlan;       /* outermost 802.1Q id, 0 when untagged */
	__u8 proto;       /* IANA protocol after IPv6 extension headers */
	__u8 family;      /* 4 or 6 */
};

/* An IPv4 flow's key: the same fields as flow_key with 4-byte addresses,
 * 16 bytes (the hash is over the whole key). Its layout is flow_key's last
 * 16 bytes (addr_hi[8..15], ports, vlan, proto, family), so the program
 * parses either family into one struct flow_key and hands the IPv4 map a
 * pointer 24 bytes into it. */
struct flow_key4 {
	__u8 addr_lo[4];
	__u8 addr_hi[4];
	__u16 port_lo;
	__u16 port_hi;
	__u16 vlan;
	__u8 proto;
	__u8 family;      /* 4 */
};

#define FLOW_KEY4_AT 24 /* offset of a struct flow_key4 in a struct flow_key */

enum flow_side {
	SIDE_UNKNOWN = 0,
	SIDE_LO = 1,
	SIDE_HI = 2,
};

/* Counters of one flow. Packets and bytes are per sending side; bytes are
 * IP-layer bytes (IPv4 total length, IPv6 payload length + 40). Times are
 * bpf_jiffies64() at the first and the latest packet: the verifier inlines
 * it as one load, where bpf_ktime_get_ns() is a helper call that cost a
 * quarter of an established flow's time. User space converts them to
 * CLOCK_MONOTONIC (a clock_pair ties the two clocks), precise to one tick
 * (4 ms at HZ=250). */
struct flow_value {
	__u64 packets_lo; /* sent by the lo side */
	__u64 packets_hi;
	__u64 bytes_lo;
	__u64 bytes_hi;
	__u64 first_jiffies;
	__u64 last_jiffies;
	__u32 flags_lo;   /* TCP flags OR'd over the lo side's packets */
	__u32 flags_hi;
	__u32 initiator;  /* enum flow_side, from a SYN or SYN-ACK */
	__u32 first_side; /* enum flow_side that sent the first packet seen */
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
	COUNTER_NAME_EVENTS,        /* name events written to the ring buffer */
	COUNTER_NAME_EVENTS_RATE_LIMITED, /* name events dropped by the token bucket */
	COUNTER_NAME_EVENTS_LOST,   /* name events dropped because the ring buffer was full */
	COUNTER_MAX,
};

/* The per-CPU counters: one array entry, so one lookup per packet. */
struct counters {
	__u64 n[COUNTER_MAX];
};

/* Bytes of the frame a name event carries at most: a full 1500-byte-MTU
 * Ethernet frame with one in-band VLAN tag (14 + 4 + 1500), so a DNS
 * answer, a ClientHello segment or an HTTP request head that fits one
 * standard frame is never cut. Longer (GRO/GSO, jumbo) frames are cut. */
#define NAME_EVENT_MAX 1518

/* One name event in the ring buffer: the header, then cap_len bytes of
 * the frame from the Ethernet header. Records are header + cap_len bytes
 * long (the ring buffer pads them to 8). */
struct name_event {
	__u64 time_ns;    /* bpf_ktime_get_ns(), as the flow times */
	__u32 ifindex;
	__u32 len;        /* skb->len: the whole frame */
	__u16 vlan;       /* offloaded tag's id (skb->vlan_tci), 0 when none */
	__u16 cap_len;    /* bytes of data that follow */
	__u32 _pad;
	__u8 data[NAME_EVENT_MAX];
};

/* One reading of both clocks, written by clock_sync (run by user space
 * with BPF_PROG_TEST_RUN) to convert last_jiffies. */
struct clock_pair {
	__u64 jiffies;
	__u64 ns;
};

/* Per-CPU token bucket of the name events, in nanoseconds of budget. */
struct event_bucket {
	__u64 budget_ns;
	__u64 last_ns;
};

#endif
