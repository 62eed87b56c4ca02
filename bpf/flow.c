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
 *  - Times are bpf_ktime_get_ns() (CLOCK_MONOTONIC); user space converts.
 *  - last_ns is a plain store: with two CPUs on one flow it may step back
 *    by the time between them. Counters use atomic adds and are exact.
 *  - The flow map is a plain HASH of fixed size, not an LRU: an LRU would
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

/* An IPv4 address as loaded (network order) placed in the first four
 * bytes of a 64-bit word of the key. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define ADDR4_WORD(a) ((__u64)(a) << 32)
#else
#define ADDR4_WORD(a) ((__u64)(a))
#endif
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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

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

/* name_payload says whether a TCP payload starting at off (in the packet,
 * avail bytes long) is a ClientHello or an HTTP request. With direct, q
 * points at it in the packet (a constant offset from skb->data) and the
 * bytes are read there when linear; else with one bpf_skb_load_bytes. */
static __always_inline int name_payload(struct __sk_buff *skb, int direct, const __u8 *q,
					void *end, __u32 off, __u32 avail) {
	__u8 b[8];
	__u32 w;

	if (avail < 4)
		return 0;
	if (direct && (void *)(q + 6) <= end && avail >= 6) {
		/* in place: no stack copy (see struct scratch) */
		__builtin_memcpy(&w, q, 4);
		return http_method(w) || tls_client_hello(q);
	} else if (avail >= 6) {
		if (bpf_skb_load_bytes(skb, off, b, 6) < 0)
			return 0;
	} else {
		if (direct && (void *)(q + 4) <= end)
			__builtin_memcpy(b, q, 4);
		else if (bpf_skb_load_bytes(skb, off, b, 4) < 0)
			return 0;
		b[5] = 0;
	}
	__builtin_memcpy(&w, b, 4);
	return http_method(w) || (avail >= 6 && tls_client_hello(b));
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
};

enum parse_result {
	PARSE_NONE = 0, /* no flow: not IP or cut, counted */
	PARSE_FLOW,     /* p holds the flow */
};

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
 *    the linear part of a non-linear skb, cut packets). */

/* finish writes the canonical key from the packet's own direction. */
static __always_inline void finish(struct pkt *p, __u64 s0, __u64 s1, __u64 d0, __u64 d1, int cmp,
				   __u16 sport, __u16 dport, __u16 vlan, __u8 proto, __u8 family,
				   __u8 flags, __u8 name) {
	/* Canonical order: the smaller (address, port) is lo. */
	int lo = cmp < 0 || (cmp == 0 && sport <= dport);
	__u64 *a = (__u64 *)p->key.addr_lo;
	if (lo) {
		a[0] = s0; a[1] = s1; a[2] = d0; a[3] = d1;
		p->key.port_lo = sport;
		p->key.port_hi = dport;
	} else {
		a[0] = d0; a[1] = d1; a[2] = s0; a[3] = s1;
		p->key.port_lo = dport;
		p->key.port_hi = sport;
	}
	p->key.vlan = vlan;
	p->key.proto = proto;
	p->key.family = family;
	p->lo = lo;
	p->flags = flags;
	p->name = name;
	p->initiator = SIDE_UNKNOWN;
	if (proto == PROTO_TCP && (flags & TCP_FLAG_SYN)) {
		/* SYN: the sender initiates; SYN-ACK: the receiver did. */
		int sender_init = !(flags & TCP_FLAG_ACK);
		p->initiator = (lo == sender_init) ? SIDE_LO : SIDE_HI;
	}
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
		s0 = ADDR4_WORD(s);                                   \
		d0 = ADDR4_WORD(d);                                   \
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
 * off the hot path. */
static __attribute__((noinline)) int parse_slow(struct __sk_buff *skb, struct pkt *p, struct counters *c) {
	__u64 hw[5] = {}; /* an IP header's first 40 bytes */
	__u8 *h = (__u8 *)hw;
	__u8 t[16] = {};  /* a transport or extension header */
	__u32 ip_end, l3off = ETH_HLEN, l4off;
	__u16 vlan = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	__u16 sport = 0, dport = 0, eth_proto;
	__u8 proto, family, flags = 0, name = 0;
	__u64 s0, s1, d0, d1;
	int cmp;

	if (bpf_skb_load_bytes(skb, 12, &eth_proto, 2) < 0) {
		COUNT(c, COUNTER_TRUNCATED);
		return PARSE_NONE;
	}
	int seen_vlan = skb->vlan_present;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (!is_vlan(eth_proto))
			break;
		__u16 tag[2];
		if (bpf_skb_load_bytes(skb, l3off, tag, 4) < 0) {
			COUNT(c, COUNTER_TRUNCATED);
			return PARSE_NONE;
		}
		if (!seen_vlan) {
			vlan = bpf_ntohs(tag[0]) & 0x0fff;
			seen_vlan = 1;
		}
		eth_proto = tag[1];
		l3off += 4;
	}

	if (eth_proto == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, l3off, h, 20) < 0) {
			COUNT(c, COUNTER_TRUNCATED);
			return PARSE_NONE;
		}
		__u32 ihl = (h[0] & 0x0f) * 4;
		if ((h[0] >> 4) != 4 || ihl < 20) {
			COUNT(c, COUNTER_TRUNCATED);
			return PARSE_NONE;
		}
		family = 4;
		p->bytes = bpf_ntohs(*(__u16 *)(h + 2));
		if (p->bytes == 0) /* BIG TCP / GSO: the skb's length from here on */
			p->bytes = skb->len - l3off;
		ip_end = l3off + p->bytes;
		proto = h[9];
		IPV4_ADDRS(h);
		if (bpf_ntohs(*(__u16 *)(h + 6)) & 0x1fff) {
			COUNT(c, COUNTER_FRAGMENTS);
			goto counted;
		}
		l4off = l3off + ihl;
	} else if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, l3off, h, 40) < 0 || (h[0] >> 4) != 6) {
			COUNT(c, COUNTER_TRUNCATED);
			return PARSE_NONE;
		}
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
				COUNT(c, COUNTER_TRANSPORT_TRUNCATED);
				goto counted;
			}
			if (proto == PROTO_FRAGMENT) {
				if (bpf_ntohs(*(__u16 *)(t + 2)) & 0xfff8) {
					proto = t[0];
					COUNT(c, COUNTER_FRAGMENTS);
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
		COUNT(c, COUNTER_NOT_IP);
		return PARSE_NONE;
	}

	switch (proto) {
	case PROTO_TCP: {
		if (bpf_skb_load_bytes(skb, l4off, t, 14) < 0) {
			COUNT(c, COUNTER_TRANSPORT_TRUNCATED);
			goto counted;
		}
		sport = bpf_ntohs(*(__u16 *)t);
		dport = bpf_ntohs(*(__u16 *)(t + 2));
		flags = t[13];
		__u32 payload = l4off + (t[12] >> 4) * 4;
		__u32 stop = ip_end < skb->len ? ip_end : skb->len;
		if ((t[12] >> 4) >= 5 && payload < stop)
			name = name_payload(skb, 0, t, 0, payload, stop - payload);
		break;
	}
	case PROTO_UDP:
	case PROTO_UDPLITE:
		if (bpf_skb_load_bytes(skb, l4off, t, 4) < 0) {
			COUNT(c, COUNTER_TRANSPORT_TRUNCATED);
			goto counted;
		}
		sport = bpf_ntohs(*(__u16 *)t);
		dport = bpf_ntohs(*(__u16 *)(t + 2));
		name = proto == PROTO_UDP && sport == 53;
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (bpf_skb_load_bytes(skb, l4off, t, 2) < 0) {
			COUNT(c, COUNTER_TRANSPORT_TRUNCATED);
			goto counted;
		}
		sport = t[0];
		dport = icmp_counterpart(family, t[0], t[1]);
		break;
	}

counted:
	finish(p, s0, s1, d0, d1, cmp, sport, dport, vlan, proto, family, flags, name);
	return PARSE_FLOW;
}

/* parse reads the headers into p: the fast path, inlined (a subprogram
 * call costs ~15 ns here), constant offsets from skb->data only. Whatever
 * it does not take goes to parse_slow before anything is counted. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p, struct counters *c) {
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 ip_end, l3off, l4off;
	__u16 vlan = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	__u16 sport = 0, dport = 0;
	__u8 proto, family, flags = 0, name = 0;
	__u64 s0, s1, d0, d1;
	int cmp;
	__u8 *l3, *l4;

	if (data + ETH_HLEN > end)
		goto slow;
	__u16 eth_proto = *(__u16 *)(data + 12);
	if (is_vlan(eth_proto)) {
		/* One in-band tag: its own constants. */
		if (data + ETH_HLEN + 4 > end)
			goto slow;
		if (!skb->vlan_present)
			vlan = bpf_ntohs(*(__u16 *)(data + ETH_HLEN)) & 0x0fff;
		eth_proto = *(__u16 *)(data + ETH_HLEN + 2);
		l3 = PTR_AT(data, ETH_HLEN + 4);
		l3off = ETH_HLEN + 4;
	} else {
		l3 = PTR_AT(data, ETH_HLEN);
		l3off = ETH_HLEN;
	}

	if (eth_proto == bpf_htons(ETH_P_IP)) {
		if ((void *)(l3 + 20) > end || l3[0] != 0x45) /* IPv4, IHL 5 */
			goto slow;
		family = 4;
		p->bytes = bpf_ntohs(*(__u16 *)(l3 + 2));
		if (p->bytes == 0) /* BIG TCP / GSO: the skb's length from here on */
			p->bytes = skb->len - l3off;
		ip_end = l3off + p->bytes;
		proto = l3[9];
		IPV4_ADDRS(l3);
		if (bpf_ntohs(*(__u16 *)(l3 + 6)) & 0x1fff) {
			COUNT(c, COUNTER_FRAGMENTS);
			goto counted;
		}
		l4 = PTR_AT(l3, 20);
		l4off = l3off + 20;
	} else if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		if ((void *)(l3 + 40) > end || (l3[0] >> 4) != 6 || is_ipv6_ext(l3[6]))
			goto slow;
		family = 6;
		p->bytes = bpf_ntohs(*(__u16 *)(l3 + 4)) + 40;
		if (p->bytes == 40 && skb->len - l3off > 65535 + 40)
			p->bytes = skb->len - l3off; /* BIG TCP: payload length 0 */
		ip_end = l3off + p->bytes;
		IPV6_ADDRS(l3);
		proto = l3[6];
		l4 = PTR_AT(l3, 40);
		l4off = l3off + 40;
	} else if (is_vlan(eth_proto)) {
		goto slow; /* a second in-band tag */
	} else {
		COUNT(c, COUNTER_NOT_IP);
		return PARSE_NONE;
	}

	switch (proto) {
	case PROTO_TCP: {
		if ((void *)(l4 + 14) > end)
			goto slow;
		sport = bpf_ntohs(*(__u16 *)l4);
		dport = bpf_ntohs(*(__u16 *)(l4 + 2));
		flags = l4[13];
		__u32 doff = l4[12] >> 4;
		__u32 payload = l4off + doff * 4;
		__u32 stop = ip_end < skb->len ? ip_end : skb->len;
		if (doff >= 5 && payload < stop) {
			/* Data offset 5 (no options) or 8 (timestamps): read
			 * in place; else with bpf_skb_load_bytes. */
			int direct = doff == 5 || doff == 8;
			__u8 *q = doff == 5 ? PTR_AT(l4, 20) : PTR_AT(l4, 32);
			name = name_payload(skb, direct, q, end, payload, stop - payload);
		}
		break;
	}
	case PROTO_UDP:
	case PROTO_UDPLITE:
		if ((void *)(l4 + 4) > end)
			goto slow;
		sport = bpf_ntohs(*(__u16 *)l4);
		dport = bpf_ntohs(*(__u16 *)(l4 + 2));
		name = proto == PROTO_UDP && sport == 53;
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if ((void *)(l4 + 2) > end)
			goto slow;
		sport = l4[0];
		dport = icmp_counterpart(family, l4[0], l4[1]);
		break;
	}

counted:
	finish(p, s0, s1, d0, d1, cmp, sport, dport, vlan, proto, family, flags, name);
	return PARSE_FLOW;
slow:
	return parse_slow(skb, p, c);
}

/* Per-CPU scratch of account: the parsed packet and a new flow's value.
 * Kept out of the stack: loaded without CAP_PERFMON, the kernel puts a
 * speculation barrier (Spectre v4) after every first write to a stack
 * slot, and those cost more than the whole parse. */
struct scratch {
	struct pkt p;
	struct flow_value nv;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} pkt_scratch SEC(".maps");

static __always_inline int account(struct __sk_buff *skb) {
	struct counters *c = bpf_map_lookup_elem(&counters, (const void *)&zero_key);
	if (!c)
		return TCX_NEXT;
	c->n[COUNTER_PACKETS]++;
	struct scratch *s = bpf_map_lookup_elem(&pkt_scratch, (const void *)&zero_key);
	if (!s)
		return TCX_NEXT;
	struct pkt *p = &s->p;

	int r = parse(skb, p, c);
	if (r != PARSE_FLOW)
		return TCX_NEXT;

	__u64 now = bpf_ktime_get_ns();
	if (p->name)
		name_event(skb, c, now);

	struct flow_value *v = bpf_map_lookup_elem(&flows, &p->key);
	if (!v) {
		struct flow_value *nv = &s->nv;
		__u32 flags = p->flags;
		__u64 bytes = p->bytes;
		int lo = p->lo;
		nv->packets_lo = lo;
		nv->packets_hi = !lo;
		nv->bytes_lo = lo ? bytes : 0;
		nv->bytes_hi = lo ? 0 : bytes;
		nv->flags_lo = lo ? flags : 0;
		nv->flags_hi = lo ? 0 : flags;
		nv->first_side = lo ? SIDE_LO : SIDE_HI;
		nv->first_ns = now;
		nv->last_ns = now;
		nv->initiator = p->initiator;
		long err = bpf_map_update_elem(&flows, &p->key, nv, BPF_NOEXIST);
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
		v = bpf_map_lookup_elem(&flows, &p->key);
		if (!v) {
			COUNT(c, COUNTER_INSERT_FAILED);
			return TCX_NEXT;
		}
	}

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
	if (v->last_ns < now)
		v->last_ns = now;
	return TCX_NEXT;
}

SEC("tcx/ingress")
int flow_ingress(struct __sk_buff *skb) {
	return account(skb);
}

SEC("tcx/egress")
int flow_egress(struct __sk_buff *skb) {
	return account(skb);
}
