//go:build ignore

/* Outflow's gateway sensor, kernel side: counts every packet crossing an
 * interface into one map entry per bidirectional flow.
 *
 * Needs Linux 6.6 or newer (TCX links; BPF atomics need 5.12, already
 * implied) and CAP_BPF + CAP_NET_ADMIN to load and attach.
 *
 * The same code runs on ingress and egress: the key is canonical, so the
 * direction of a packet only decides which side's counters it adds to.
 * It never drops or changes a packet and always returns TCX_NEXT.
 *
 * What it parses: Ethernet, the offloaded VLAN tag (skb->vlan_tci) and up to
 * two in-band 802.1Q/802.1ad tags (the key holds the outermost id), IPv4
 * (options skipped via IHL), IPv6 with up to four extension headers
 * (hop-by-hop, routing, destination, fragment, AH), TCP/UDP/UDP-Lite ports,
 * TCP flags, and ICMP/ICMPv6 type and code as Zeek-style pseudo-ports.
 *
 * Limits, by design:
 *  - Non-first IP fragments carry no ports: they are counted under ports 0
 *    (a separate flow). The packet path reassembles ports with a fragment
 *    table; doing that here would need per-fragment state.
 *  - A flow's times are bpf_jiffies64() (inlined: no helper call per
 *    packet), precise to one tick (4 ms at HZ=250); user space converts
 *    them, tying jiffies to CLOCK_MONOTONIC by running clock_sync.
 *  - last_jiffies is a plain store: with two CPUs on one flow it may step
 *    back by a tick. Counters use atomic adds and are exact.
 *  - The flow maps (flows4, flows6: one per family, the IPv4 key short)
 *    are plain HASHes of fixed size, not LRUs: an LRU would
 *    evict flows silently. A full map counts COUNTER_INSERT_FAILED instead;
 *    user space deletes finished flows (the sweeper).
 */

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "flow.h"

char __license[] SEC("license") = "Dual MIT/GPL";

#ifndef TCX_NEXT
#define TCX_NEXT -1
#endif

#ifndef E2BIG
#define E2BIG 7
#endif
#ifndef EEXIST
#define EEXIST 17
#endif

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8

/* IANA protocol numbers (linux/in.h would pull libc headers). */
#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60
#define PROTO_UDPLITE 136
#define MAX_VLAN_TAGS 2

#define MAX_IPV6_EXT 4

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

/* PTR_AT derives a pointer by a constant inside an asm statement: clang
 * would otherwise merge branches of different constants (one or no tag,
 * IPv4 or IPv6, TCP data offset 5 or 8, one counter or another) into one
 * add of a register, which the verifier refuses on a packet pointer and,
 * on a map value, when the register's value differs by path. */
#define PTR_AT(ptr, k) ({                                             \
	__u8 *__q = (__u8 *)(ptr);                                    \
	asm("%0 += %1" : "+r"(__q) : "i"(k));                         \
	__q;                                                          \
})

/* COUNT adds one to a per-CPU counter (see PTR_AT). */
#define COUNT(c, i) ((*(__u64 *)PTR_AT((c), (i) * sizeof(__u64)))++)

/* Name events: rate and burst of the per-CPU token bucket, set from Go
 * before loading (CollectionSpec.Variables). */
volatile const __u32 event_rate = 1000;  /* events per second per CPU */
volatile const __u32 event_burst = 1000; /* bucket depth in events */

/* The key of the one-entry arrays, in .rodata rather than on the stack
 * (see struct scratch). */
static volatile const __u32 zero_key = 0;

/* The flows, one map per family: IPv4 keys are 16 bytes, IPv6 keys 40,
 * and the hash (jhash over the whole key) and the compare cost by the
 * byte. Both sized by Options.MaxFlows (flows.go). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key4);
	__type(value, struct flow_value);
} flows4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows6 SEC(".maps");

_Static_assert(sizeof(struct flow_key4) == 16, "flow_key4 is 16 bytes");
_Static_assert(FLOW_KEY4_AT + sizeof(struct flow_key4) == sizeof(struct flow_key),
	       "flow_key4 is flow_key's tail");
_Static_assert(__builtin_offsetof(struct flow_key, port_lo) ==
		       FLOW_KEY4_AT + __builtin_offsetof(struct flow_key4, port_lo),
	       "flow_key4 shares flow_key's ports, vlan, proto, family");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} name_events SEC(".maps");

/* Where an event is assembled before bpf_ringbuf_output copies header +
 * cap_len bytes: a reserved record would have to be NAME_EVENT_MAX long. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct name_event);
} event_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_bucket);
} event_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clock_pair);
} clock SEC(".maps");

static __always_inline __u16 icmp_counterpart(__u8 family, __u8 type, __u8 code) {
	if (family == 4) {
		switch (type) {
		case 0: return 8;
		case 8: return 0;
		case 9: return 10;
		case 10: return 9;
		case 13: case 15: case 17: return type + 1;
		case 14: case 16: case 18: return type - 1;
		}
	} else {
		switch (type) {
		case 128: case 130: case 133: case 135: case 139: return type + 1;
		case 129: case 131: case 134: case 136: case 140: return type - 1;
		}
	}
	return code;
}

/* The first four bytes of HTTP/1 request methods, as sensor/names knows
 * them, in network order. */
static __always_inline int http_method(__u32 w) {
	return w == bpf_htonl(0x47455420) || /* "GET " */
	       w == bpf_htonl(0x504f5354) || /* "POST" */
	       w == bpf_htonl(0x50555420) || /* "PUT " */
	       w == bpf_htonl(0x48454144) || /* "HEAD" */
	       w == bpf_htonl(0x44454c45) || /* "DELE"TE */
	       w == bpf_htonl(0x4f505449) || /* "OPTI"ONS */
	       w == bpf_htonl(0x50415443) || /* "PATC"H */
	       w == bpf_htonl(0x434f4e4e) || /* "CONN"ECT */
	       w == bpf_htonl(0x54524143);   /* "TRAC"E */
}

/* tls_client_hello: a TLS handshake record (0x16 0x03 x len len) whose
 * first message is a ClientHello (0x01). */
static __always_inline int tls_client_hello(const __u8 *b) {
	return b[0] == 0x16 && b[1] == 0x03 && b[5] == 0x01;
}

/* name_payload_slow: name_payload with the payload's first bytes copied
 * by bpf_skb_load_bytes (not linear, or TCP options other than none or
 * timestamps). A subprogram: rare, and its stack buffer stays off the hot
 * path (see struct scratch). */
static __attribute__((noinline)) int name_payload_slow(struct __sk_buff *skb, __u32 off, __u32 avail) {
	__u8 b[8];
	__u32 w;

	if (avail < 4)
		return 0;
	if (avail >= 6) {
		if (bpf_skb_load_bytes(skb, off, b, 6) < 0)
			return 0;
	} else {
		if (bpf_skb_load_bytes(skb, off, b, 4) < 0)
			return 0;
		b[5] = 0;
	}
	__builtin_memcpy(&w, b, 4);
	return http_method(w) || (avail >= 6 && tls_client_hello(b));
}

/* name_payload says whether a TCP payload starting at off (in the packet,
 * avail bytes long) is a ClientHello or an HTTP request. q points at it
 * in the packet (a constant offset from skb->data): the bytes are read
 * there when linear, else by name_payload_slow. */
static __always_inline int name_payload(struct __sk_buff *skb, const __u8 *q, void *end,
					__u32 off, __u32 avail) {
	if (avail < 4)
		return 0;
	if ((void *)(q + 6) <= end)
		return http_method(*(__u32 *)q) || (avail >= 6 && tls_client_hello(q));
	if (avail < 6 && (void *)(q + 4) <= end)
		return http_method(*(__u32 *)q);
	return name_payload_slow(skb, off, avail);
}

/* name_event copies the frame's first bytes into the ring buffer, within
 * the per-CPU token bucket. A subprogram: rare, kept off the hot path. */
static __attribute__((noinline)) int name_event(struct __sk_buff *skb, struct counters *c, __u64 now) {
	struct event_bucket *b = bpf_map_lookup_elem(&event_buckets, (const void *)&zero_key);
	struct name_event *e = bpf_map_lookup_elem(&event_scratch, (const void *)&zero_key);
	if (!b || !e)
		return 0;

	/* Budget in nanoseconds: refilled by the time passed, capped at
	 * burst events, one event costs 1e9/rate. */
	__u64 cost = 1000000000ULL / (event_rate ? event_rate : 1);
	__u64 depth = cost * event_burst;
	__u64 budget = b->budget_ns + (now - b->last_ns);
	if (now < b->last_ns || budget > depth)
		budget = depth;
	b->last_ns = now;
	if (budget < cost) {
		b->budget_ns = budget;
		COUNT(c, COUNTER_NAME_EVENTS_RATE_LIMITED);
		return 0;
	}
	b->budget_ns = budget - cost;

	__u32 cap = skb->len;
	if (cap > NAME_EVENT_MAX)
		cap = NAME_EVENT_MAX;
	if (cap == 0)
		return 0;
	e->time_ns = now;
	e->ifindex = skb->ifindex;
	e->len = skb->len;
	e->vlan = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	e->cap_len = cap;
	e->_pad = 0;
	if (bpf_skb_load_bytes(skb, 0, e->data, cap) < 0)
		return 0;
	if (bpf_ringbuf_output(&name_events, e, __builtin_offsetof(struct name_event, data) + cap, 0) < 0) {
		COUNT(c, COUNTER_NAME_EVENTS_LOST);
		return 0;
	}
	COUNT(c, COUNTER_NAME_EVENTS);
	return 0;
}

/* What parse found: the canonical key, and what this packet adds. */
struct pkt {
	struct flow_key key;
	__u32 bytes;
	__u32 initiator; /* enum flow_side, from a SYN or SYN-ACK */
	__u8 flags;
	__u8 lo;         /* the sender is the lo side */
	__u8 name;       /* a name event candidate */
	/* parse_l3 to parse_l4 (see parse) */
	__s8 cmp;        /* source address against destination */
	__u8 l4_at;      /* enum l4_at */
	__u32 ip_end;    /* end of the IP packet from skb->data */
};

/* READ_ONCE: a load clang must do where it stands, so it keeps no copy of
 * the value in a register until then (see below). */
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/* PORTS packs port_lo and port_hi for one 32-bit store. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PORTS(lo, hi) (((__u32)(lo) << 16) | (hi))
#else
#define PORTS(lo, hi) (((__u32)(hi) << 16) | (lo))
#endif

/* parse's result: R_FLOW when p holds a flow, or'd with the counter to
 * add one to besides COUNTER_PACKETS (0: none). */
#define R_FLOW 0x100
#define R_COUNTER(r) ((r) & 0xff)

/* The program must load with CAP_BPF + CAP_NET_ADMIN alone. Without
 * CAP_PERFMON the verifier allows no register operand in arithmetic on a
 * packet pointer (Spectre v1), only constants. So the headers are read in
 * two ways:
 *
 *  - parse, the fast path: every read is at a constant offset from
 *    skb->data. It takes Ethernet with no or one in-band tag, IPv4 with
 *    IHL 5, IPv6 without extension headers, and TCP/UDP/ICMP, all in the
 *    linear part. Anything else goes to parse_slow, which starts over.
 *  - parse_slow: copies each header with bpf_skb_load_bytes at a scalar
 *    offset (two tags, IPv4 options, IPv6 extension headers, headers past
 *    the linear part of a non-linear skb, cut packets).
 *
 * Without CAP_PERFMON the verifier also puts a speculation barrier
 * (Spectre v4) after every first write to a stack slot, which includes
 * clang's register spills. So the fast path writes what it parses into
 * the per-CPU scratch entry at once instead of carrying it in registers:
 * the addresses in canonical order as soon as they are compared, the
 * ports and side once the transport header is read, each branch to its
 * own end (no merge point where everything is live). */

/* set_ports writes the ports in canonical order, given cmp (the source
 * address against the destination: <0, 0, >0), the side and the
 * initiator. The addresses are in place already. flags are 0 but for
 * TCP. */
static __always_inline void set_ports(struct pkt *p, int cmp, __u16 sport, __u16 dport, __u8 flags,
				      __u8 name) {
	/* Canonical order: the smaller (address, port) is lo. */
	int lo = cmp < 0 || (cmp == 0 && sport <= dport);
	*(__u32 *)&p->key.port_lo = lo ? PORTS(sport, dport) : PORTS(dport, sport);
	p->lo = lo;
	p->flags = flags;
	p->name = name;
	__u32 initiator = SIDE_UNKNOWN;
	if (flags & TCP_FLAG_SYN) {
		/* SYN: the sender initiates; SYN-ACK: the receiver did. */
		int sender_init = !(flags & TCP_FLAG_ACK);
		initiator = (lo == sender_init) ? SIDE_LO : SIDE_HI;
	}
	p->initiator = initiator;
}

/* finish writes the canonical key from the packet's own direction (the
 * slow path's end). */
static __always_inline void finish(struct pkt *p, __u64 s0, __u64 s1, __u64 d0, __u64 d1, int cmp,
				   __u16 sport, __u16 dport, __u16 vlan, __u8 proto, __u8 family,
				   __u8 flags, __u8 name) {
	__u64 *a = (__u64 *)p->key.addr_lo;
	if (family == 4) {
		/* s0, d0: the addresses as loaded; into the flow_key4 */
		__u32 *a4 = (__u32 *)PTR_AT(p, FLOW_KEY4_AT);
		a4[0] = cmp <= 0 ? (__u32)s0 : (__u32)d0;
		a4[1] = cmp <= 0 ? (__u32)d0 : (__u32)s0;
	} else if (cmp <= 0) {
		a[0] = s0; a[1] = s1; a[2] = d0; a[3] = d1;
	} else {
		a[0] = d0; a[1] = d1; a[2] = s0; a[3] = s1;
	}
	p->key.vlan = vlan;
	p->key.proto = proto;
	p->key.family = family;
	set_ports(p, cmp, sport, dport, proto == PROTO_TCP ? flags : 0, name);
}

static __always_inline int is_vlan(__u16 eth_proto) {
	return eth_proto == bpf_htons(ETH_P_8021Q_) || eth_proto == bpf_htons(ETH_P_8021AD_);
}

static __always_inline int is_ipv6_ext(__u8 proto) {
	return proto == PROTO_HOPOPTS || proto == PROTO_ROUTING || proto == PROTO_DSTOPTS ||
	       proto == PROTO_FRAGMENT || proto == PROTO_AH;
}

/* ipv4_addrs / ipv6_addrs read the addresses of an IP header (in the
 * packet or a copy) and compare source with destination. */
#define IPV4_ADDRS(h)                                                 \
	do {                                                          \
		__u32 s = *(__u32 *)((h) + 12), d = *(__u32 *)((h) + 16); \
		s0 = s;                                               \
		d0 = d;                                               \
		s1 = d1 = 0;                                          \
		cmp = bpf_ntohl(s) < bpf_ntohl(d) ? -1 : bpf_ntohl(s) != bpf_ntohl(d); \
	} while (0)

#define IPV6_ADDRS(h)                                                 \
	do {                                                          \
		s0 = *(__u64 *)((h) + 8);                             \
		s1 = *(__u64 *)((h) + 16);                            \
		d0 = *(__u64 *)((h) + 24);                            \
		d1 = *(__u64 *)((h) + 32);                            \
		if (s0 != d0)                                         \
			cmp = bpf_be64_to_cpu(s0) < bpf_be64_to_cpu(d0) ? -1 : 1; \
		else                                                  \
			cmp = bpf_be64_to_cpu(s1) < bpf_be64_to_cpu(d1) ? -1 : s1 != d1; \
	} while (0)

/* parse_slow reads every header with bpf_skb_load_bytes, so offsets may
 * be any scalar and non-linear skbs need no pull. A subprogram: rare, kept
 * off the hot path. It fills all of p, as parse does. */
static __attribute__((noinline)) int parse_slow(struct __sk_buff *skb, struct pkt *p) {
	__u64 hw[5] = {}; /* an IP header's first 40 bytes */
	__u8 *h = (__u8 *)hw;
	__u8 t[16] = {};  /* a transport or extension header */
	__u32 ip_end, l3off = ETH_HLEN, l4off;
	__u16 vlan = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	__u16 sport = 0, dport = 0, eth_proto;
	__u8 proto, family, flags = 0, name = 0;
	__u64 s0, s1, d0, d1;
	int cmp, r = R_FLOW;

	if (bpf_skb_load_bytes(skb, 12, &eth_proto, 2) < 0)
		return COUNTER_TRUNCATED;
	int seen_vlan = skb->vlan_present;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (!is_vlan(eth_proto))
			break;
		__u16 tag[2];
		if (bpf_skb_load_bytes(skb, l3off, tag, 4) < 0)
			return COUNTER_TRUNCATED;
		if (!seen_vlan) {
			vlan = bpf_ntohs(tag[0]) & 0x0fff;
			seen_vlan = 1;
		}
		eth_proto = tag[1];
		l3off += 4;
	}

	if (eth_proto == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, l3off, h, 20) < 0)
			return COUNTER_TRUNCATED;
		__u32 ihl = (h[0] & 0x0f) * 4;
		if ((h[0] >> 4) != 4 || ihl < 20)
			return COUNTER_TRUNCATED;
		family = 4;
		p->bytes = bpf_ntohs(*(__u16 *)(h + 2));
		if (p->bytes == 0) /* BIG TCP / GSO: the skb's length from here on */
			p->bytes = skb->len - l3off;
		ip_end = l3off + p->bytes;
		proto = h[9];
		IPV4_ADDRS(h);
		if (bpf_ntohs(*(__u16 *)(h + 6)) & 0x1fff) {
			r = R_FLOW | COUNTER_FRAGMENTS;
			goto counted;
		}
		l4off = l3off + ihl;
	} else if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, l3off, h, 40) < 0 || (h[0] >> 4) != 6)
			return COUNTER_TRUNCATED;
		family = 6;
		p->bytes = bpf_ntohs(*(__u16 *)(h + 4)) + 40;
		if (p->bytes == 40 && skb->len - l3off > 65535 + 40)
			p->bytes = skb->len - l3off; /* BIG TCP: payload length 0 */
		ip_end = l3off + p->bytes;
		IPV6_ADDRS(h);
		proto = h[6];
		l4off = l3off + 40;

#pragma unroll
		for (int i = 0; i < MAX_IPV6_EXT; i++) {
			if (!is_ipv6_ext(proto))
				break;
			/* a cut extension header: count the bytes, no ports */
			if (bpf_skb_load_bytes(skb, l4off, t, 4) < 0) {
				r = R_FLOW | COUNTER_TRANSPORT_TRUNCATED;
				goto counted;
			}
			if (proto == PROTO_FRAGMENT) {
				if (bpf_ntohs(*(__u16 *)(t + 2)) & 0xfff8) {
					proto = t[0];
					r = R_FLOW | COUNTER_FRAGMENTS;
					goto counted;
				}
				l4off += 8;
			} else if (proto == PROTO_AH) {
				l4off += ((__u32)t[1] + 2) * 4;
			} else {
				l4off += ((__u32)t[1] + 1) * 8;
			}
			proto = t[0];
		}
	} else {
		return COUNTER_NOT_IP;
	}

	switch (proto) {
	case PROTO_TCP: {
		if (bpf_skb_load_bytes(skb, l4off, t, 14) < 0) {
			r = R_FLOW | COUNTER_TRANSPORT_TRUNCATED;
			goto counted;
		}
		sport = bpf_ntohs(*(__u16 *)t);
		dport = bpf_ntohs(*(__u16 *)(t + 2));
		flags = t[13];
		__u32 payload = l4off + (t[12] >> 4) * 4;
		__u32 stop = ip_end < skb->len ? ip_end : skb->len;
		if ((t[12] >> 4) >= 5 && payload < stop)
			name = name_payload_slow(skb, payload, stop - payload);
		break;
	}
	case PROTO_UDP:
	case PROTO_UDPLITE:
		if (bpf_skb_load_bytes(skb, l4off, t, 4) < 0) {
			r = R_FLOW | COUNTER_TRANSPORT_TRUNCATED;
			goto counted;
		}
		sport = bpf_ntohs(*(__u16 *)t);
		dport = bpf_ntohs(*(__u16 *)(t + 2));
		name = proto == PROTO_UDP && sport == 53;
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (bpf_skb_load_bytes(skb, l4off, t, 2) < 0) {
			r = R_FLOW | COUNTER_TRANSPORT_TRUNCATED;
			goto counted;
		}
		sport = t[0];
		dport = icmp_counterpart(family, t[0], t[1]);
		break;
	}

counted:
	finish(p, s0, s1, d0, d1, cmp, sport, dport, vlan, proto, family, flags, name);
	return r;
}

/* parse_l4 reads the transport header at l4 (l4off from skb->data) and
 * writes the ports, side and flags; the key's addresses, protocol and
 * family, p->cmp and p->ip_end are in place. */
static __always_inline int parse_l4(struct __sk_buff *skb, struct pkt *p, void *end, __u8 *l4,
				    __u32 l4off) {
	__u8 proto = READ_ONCE(p->key.proto);
	switch (proto) {
	case PROTO_TCP: {
		if ((void *)(l4 + 14) > end)
			return parse_slow(skb, p);
		__u16 sport = bpf_ntohs(*(__u16 *)l4);
		__u16 dport = bpf_ntohs(*(__u16 *)(l4 + 2));
		__u8 flags = l4[13];
		/* The key first: nothing but p is live across the
		 * subprogram calls below (see struct scratch). */
		set_ports(p, READ_ONCE(p->cmp), sport, dport, flags, 0);
		__u32 doff = l4[12] >> 4;
		__u32 payload = l4off + doff * 4;
		__u32 ip_end = READ_ONCE(p->ip_end);
		__u32 stop = ip_end < skb->len ? ip_end : skb->len;
		if (doff >= 5 && payload < stop) {
			/* Data offset 5 (no options) or 8 (timestamps): read
			 * in place; else with bpf_skb_load_bytes. */
			if (doff == 5)
				p->name = name_payload(skb, PTR_AT(l4, 20), end, payload, stop - payload);
			else if (doff == 8)
				p->name = name_payload(skb, PTR_AT(l4, 32), end, payload, stop - payload);
			else
				p->name = name_payload_slow(skb, payload, stop - payload);
		}
		return R_FLOW;
	}
	case PROTO_UDP:
	case PROTO_UDPLITE: {
		if ((void *)(l4 + 4) > end)
			return parse_slow(skb, p);
		__u16 sport = bpf_ntohs(*(__u16 *)l4);
		__u16 dport = bpf_ntohs(*(__u16 *)(l4 + 2));
		set_ports(p, READ_ONCE(p->cmp), sport, dport, 0, proto == PROTO_UDP && sport == 53);
		return R_FLOW;
	}
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if ((void *)(l4 + 2) > end)
			return parse_slow(skb, p);
		set_ports(p, READ_ONCE(p->cmp), l4[0],
			  icmp_counterpart(READ_ONCE(p->key.family), l4[0], l4[1]), 0, 0);
		return R_FLOW;
	}
	set_ports(p, READ_ONCE(p->cmp), 0, 0, 0, 0);
	return R_FLOW;
}

/* R_L4: parse_ip4/parse_ip6 leave the transport header to parse_l4. */
#define R_L4 0x200

/* Where the transport header starts (parse_l3 to parse_l4), from
 * skb->data: no or one in-band tag, IPv4 (IHL 5) or IPv6. */
enum l4_at {
	L4_AT_34 = 1, /* ETH_HLEN + 20 */
	L4_AT_38,     /* ETH_HLEN + 4 + 20 */
	L4_AT_54,     /* ETH_HLEN + 40 */
	L4_AT_58,     /* ETH_HLEN + 4 + 40 */
};

/* parse_ip4 / parse_ip6: the IP header at l3off (a constant) from data. */
static __always_inline int parse_ip4(struct __sk_buff *skb, struct pkt *p, void *data, void *end,
				     const __u32 l3off) {
	__u8 *l3 = PTR_AT(data, l3off);
	if ((void *)(l3 + 20) > end || l3[0] != 0x45) /* IPv4, IHL 5 */
		return parse_slow(skb, p);
	__u32 bytes = bpf_ntohs(*(__u16 *)(l3 + 2));
	if (bytes == 0) /* BIG TCP / GSO: the skb's length from here on */
		bytes = skb->len - l3off;
	p->bytes = bytes;
	p->ip_end = l3off + bytes;
	p->key.proto = l3[9];
	p->key.family = 4;

	__u32 s = *(__u32 *)(l3 + 12), d = *(__u32 *)(l3 + 16);
	int cmp = bpf_ntohl(s) < bpf_ntohl(d) ? -1 : bpf_ntohl(s) != bpf_ntohl(d);
	/* Into the flow_key4 at the key's tail (see flow.h). */
	__u32 *a = (__u32 *)PTR_AT(p, FLOW_KEY4_AT);
	if (cmp <= 0) {
		a[0] = s;
		a[1] = d;
	} else {
		a[0] = d;
		a[1] = s;
	}
	p->cmp = cmp;

	if (bpf_ntohs(*(__u16 *)(l3 + 6)) & 0x1fff) {
		/* cmp from p, as in parse_l4: in a register, clang
		 * computes the side before the branch. */
		asm volatile("" ::: "memory");
		set_ports(p, READ_ONCE(p->cmp), 0, 0, 0, 0);
		return R_FLOW | COUNTER_FRAGMENTS;
	}
	p->l4_at = l3off == ETH_HLEN ? L4_AT_34 : L4_AT_38;
	return R_L4;
}

static __always_inline int parse_ip6(struct __sk_buff *skb, struct pkt *p, void *data, void *end,
				     const __u32 l3off) {
	__u8 *l3 = PTR_AT(data, l3off);
	if ((void *)(l3 + 40) > end || (l3[0] >> 4) != 6 || is_ipv6_ext(l3[6]))
		return parse_slow(skb, p);
	__u32 bytes = bpf_ntohs(*(__u16 *)(l3 + 4)) + 40;
	if (bytes == 40 && skb->len - l3off > 65535 + 40)
		bytes = skb->len - l3off; /* BIG TCP: payload length 0 */
	p->bytes = bytes;
	p->ip_end = l3off + bytes;
	p->key.proto = l3[6];
	p->key.family = 6;

	int cmp;
	__u64 s0 = *(__u64 *)(l3 + 8), d0 = *(__u64 *)(l3 + 24);
	if (s0 != d0) {
		cmp = bpf_be64_to_cpu(s0) < bpf_be64_to_cpu(d0) ? -1 : 1;
	} else {
		__u64 s1 = *(__u64 *)(l3 + 16), d1 = *(__u64 *)(l3 + 32);
		cmp = bpf_be64_to_cpu(s1) < bpf_be64_to_cpu(d1) ? -1 : s1 != d1;
	}
	/* Copied from the packet again rather than kept in registers; the
	 * pointers by PTR_AT, or clang selects between offsets. */
	__u8 *x = cmp <= 0 ? PTR_AT(l3, 8) : PTR_AT(l3, 24);
	__u8 *y = cmp <= 0 ? PTR_AT(l3, 24) : PTR_AT(l3, 8);
	__u64 *a = (__u64 *)p->key.addr_lo;
	a[0] = *(__u64 *)x;
	a[1] = *(__u64 *)(x + 8);
	a[2] = *(__u64 *)y;
	a[3] = *(__u64 *)(y + 8);
	p->cmp = cmp;
	p->l4_at = l3off == ETH_HLEN ? L4_AT_54 : L4_AT_58;
	return R_L4;
}

/* parse_l3: Ethernet, the tag and the IP header; R_L4 when parse_l4 is
 * to go on. */
static __always_inline int parse_l3(struct __sk_buff *skb, struct pkt *p) {
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	if (data + ETH_HLEN > end)
		return parse_slow(skb, p);
	p->key.vlan = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	__u16 eth_proto = *(__u16 *)(data + 12);
	if (eth_proto == bpf_htons(ETH_P_IP))
		return parse_ip4(skb, p, data, end, ETH_HLEN);
	if (eth_proto == bpf_htons(ETH_P_IPV6))
		return parse_ip6(skb, p, data, end, ETH_HLEN);
	if (!is_vlan(eth_proto))
		return COUNTER_NOT_IP;

	/* One in-band tag: its own constants. */
	if (data + ETH_HLEN + 4 > end)
		return parse_slow(skb, p);
	if (!skb->vlan_present)
		p->key.vlan = bpf_ntohs(*(__u16 *)(data + ETH_HLEN)) & 0x0fff;
	eth_proto = *(__u16 *)(data + ETH_HLEN + 2);
	if (eth_proto == bpf_htons(ETH_P_IP))
		return parse_ip4(skb, p, data, end, ETH_HLEN + 4);
	if (eth_proto == bpf_htons(ETH_P_IPV6))
		return parse_ip6(skb, p, data, end, ETH_HLEN + 4);
	if (is_vlan(eth_proto))
		return parse_slow(skb, p); /* a second in-band tag */
	return COUNTER_NOT_IP;
}

/* parse reads the headers into p: the fast path, inlined (a subprogram
 * call costs ~15 ns here), constant offsets from skb->data only. Whatever
 * it does not take goes to parse_slow. Returns R_FLOW and/or a counter.
 *
 * Two stages that share nothing but p (and skb): parse_l3 leaves what
 * parse_l4 needs in p, and the barrier keeps clang from carrying it over
 * in registers; the transport header's pointer is derived again from
 * skb->data by a constant per case. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p) {
	int r = parse_l3(skb, p);
	if (r != R_L4)
		return r;
	asm volatile("" ::: "memory");

	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	switch (READ_ONCE(p->l4_at)) {
	case L4_AT_34:
		return parse_l4(skb, p, end, PTR_AT(data, ETH_HLEN + 20), ETH_HLEN + 20);
	case L4_AT_38:
		return parse_l4(skb, p, end, PTR_AT(data, ETH_HLEN + 4 + 20), ETH_HLEN + 4 + 20);
	case L4_AT_54:
		return parse_l4(skb, p, end, PTR_AT(data, ETH_HLEN + 40), ETH_HLEN + 40);
	default:
		return parse_l4(skb, p, end, PTR_AT(data, ETH_HLEN + 4 + 40), ETH_HLEN + 4 + 40);
	}
}

/* Per-CPU scratch of account: the parsed packet and a new flow's value.
 * Kept out of the stack: loaded without CAP_PERFMON, the kernel puts a
 * speculation barrier (Spectre v4) after every first write to a stack
 * slot, and those cost more than the whole parse. */
struct scratch {
	struct pkt p;
	struct flow_value nv;
#ifdef FLOWBENCH
	__u32 bench_seq; /* varies the key, see account */
#endif
};

_Static_assert(__builtin_offsetof(struct scratch, p) == 0 && __builtin_offsetof(struct pkt, key) == 0,
	       "PTR_AT(p, FLOW_KEY4_AT) is the flow_key4");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} pkt_scratch SEC(".maps");

/* count adds one to the counter a parse result names, if any. */
static __always_inline void count(struct counters *c, int r) {
	switch (R_COUNTER(r)) {
	case COUNTER_NOT_IP:
		COUNT(c, COUNTER_NOT_IP);
		break;
	case COUNTER_TRUNCATED:
		COUNT(c, COUNTER_TRUNCATED);
		break;
	case COUNTER_TRANSPORT_TRUNCATED:
		COUNT(c, COUNTER_TRANSPORT_TRUNCATED);
		break;
	case COUNTER_FRAGMENTS:
		COUNT(c, COUNTER_FRAGMENTS);
		break;
	}
}

/* add counts p into an existing flow's value; now is jiffies. */
static __always_inline void add(struct flow_value *v, struct pkt *p, __u64 now) {
	__u32 flags = p->flags;
	if (p->lo) {
		__sync_fetch_and_add(&v->packets_lo, 1);
		__sync_fetch_and_add(&v->bytes_lo, p->bytes);
		if (flags && (v->flags_lo & flags) != flags)
			__sync_fetch_and_or(&v->flags_lo, flags);
	} else {
		__sync_fetch_and_add(&v->packets_hi, 1);
		__sync_fetch_and_add(&v->bytes_hi, p->bytes);
		if (flags && (v->flags_hi & flags) != flags)
			__sync_fetch_and_or(&v->flags_hi, flags);
	}
	if (p->initiator != SIDE_UNKNOWN && v->initiator != p->initiator)
		v->initiator = p->initiator;
	if (v->last_jiffies < now)
		v->last_jiffies = now;
}

/* account_flow looks the flow up in map (flows4 or flows6) by key (in the
 * scratch entry), inserts it when new, else adds to it. Inlined once per
 * map, so each helper call site sees one map: the verifier inlines the
 * hash lookup only then. now is jiffies. */
static __always_inline int account_flow(void *map, const void *key, struct scratch *s,
					struct counters *c, __u64 now) {
	struct pkt *p = &s->p;
	struct flow_value *v = bpf_map_lookup_elem(map, key);
	if (!v) {
		struct flow_value *nv = (struct flow_value *)PTR_AT(p, __builtin_offsetof(struct scratch, nv));
		nv->first_jiffies = now;
		nv->last_jiffies = now;
		nv->initiator = p->initiator;
		/* Straight from p, each side in its branch: as selects, clang
		 * spilled one. */
		if (p->lo) {
			nv->packets_lo = 1;
			nv->packets_hi = 0;
			nv->bytes_lo = READ_ONCE(p->bytes);
			nv->bytes_hi = 0;
			nv->flags_lo = READ_ONCE(p->flags);
			nv->flags_hi = 0;
			nv->first_side = SIDE_LO;
		} else {
			nv->packets_lo = 0;
			nv->packets_hi = 1;
			nv->bytes_lo = 0;
			nv->bytes_hi = READ_ONCE(p->bytes);
			nv->flags_lo = 0;
			nv->flags_hi = READ_ONCE(p->flags);
			nv->first_side = SIDE_HI;
		}
		long err = bpf_map_update_elem(map, key, nv, BPF_NOEXIST);
		if (err == 0) {
			COUNT(c, COUNTER_INSERTS);
			return TCX_NEXT;
		}
		if (err != -EEXIST) {
			/* -E2BIG: the map is full. Never silent. */
			COUNT(c, COUNTER_INSERT_FAILED);
			return TCX_NEXT;
		}
		/* Another CPU inserted the flow first: add to its entry. */
		v = bpf_map_lookup_elem(map, key);
		if (!v) {
			COUNT(c, COUNTER_INSERT_FAILED);
			return TCX_NEXT;
		}
	}
	add(v, p, now);
	return TCX_NEXT;
}

static __always_inline int account(struct __sk_buff *skb) {
	struct scratch *s = bpf_map_lookup_elem(&pkt_scratch, (const void *)&zero_key);
	if (!s)
		return TCX_NEXT;
	struct pkt *p = &s->p;
	int r = parse(skb, p);

	struct counters *c = bpf_map_lookup_elem(&counters, (const void *)&zero_key);
	if (!c)
		return TCX_NEXT;
	c->n[COUNTER_PACKETS]++;
	if (R_COUNTER(r))
		count(c, r);
	if (!(r & R_FLOW))
		return TCX_NEXT;

	if (p->name)
		name_event(skb, c, bpf_ktime_get_ns());
	__u64 now = bpf_jiffies64();

	if (READ_ONCE(p->key.family) == 4) {
#ifdef FLOWBENCH
		/* The benchmark build (flowbench_*_test.go) only: a new IPv4
		 * flow every run, so one BPF_PROG_TEST_RUN repeat loop
		 * inserts one per repetition. */
		*(__u32 *)PTR_AT(p, FLOW_KEY4_AT) ^= s->bench_seq++;
#endif
		return account_flow(&flows4, PTR_AT(p, FLOW_KEY4_AT), s, c, now);
	}
	return account_flow(&flows6, &p->key, s, c, now);
}

SEC("tcx/ingress")
int flow_ingress(struct __sk_buff *skb) {
	return account(skb);
}

SEC("tcx/egress")
int flow_egress(struct __sk_buff *skb) {
	return account(skb);
}

/* clock_sync reads both clocks into clock[0]: user space runs it (with
 * BPF_PROG_TEST_RUN, never attached) to convert flows' last_jiffies. */
SEC("tc")
int clock_sync(struct __sk_buff *skb) {
	struct clock_pair *c = bpf_map_lookup_elem(&clock, (const void *)&zero_key);
	if (!c)
		return 0;
	c->jiffies = bpf_jiffies64();
	c->ns = bpf_ktime_get_ns();
	return 0; /* TC_ACT_OK */
}
