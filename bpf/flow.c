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

/* Name events: rate and burst of the per-CPU token bucket, set from Go
 * before loading (CollectionSpec.Variables). */
volatile const __u32 event_rate = 1000;  /* events per second per CPU */
volatile const __u32 event_burst = 1000; /* bucket depth in events */

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
 * avail bytes long) is a ClientHello or an HTTP request. The bytes are
 * read directly when linear, else with one bpf_skb_load_bytes. */
static __always_inline int name_payload(struct __sk_buff *skb, __u32 off, __u32 avail) {
	__u8 b[8];
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *p = data + (off & 0x3fff);

	if (avail < 4)
		return 0;
	if (off <= 0x3fff && (void *)(p + 6) <= end && avail >= 6) {
		__builtin_memcpy(b, p, 6);
	} else if (avail >= 6) {
		if (bpf_skb_load_bytes(skb, off, b, 6) < 0)
			return 0;
	} else {
		if (off <= 0x3fff && (void *)(p + 4) <= end)
			__builtin_memcpy(b, p, 4);
		else if (bpf_skb_load_bytes(skb, off, b, 4) < 0)
			return 0;
		b[5] = 0;
	}
	__u32 w;
	__builtin_memcpy(&w, b, 4);
	return http_method(w) || (avail >= 6 && tls_client_hello(b));
}

/* name_event copies the frame's first bytes into the ring buffer, within
 * the per-CPU token bucket. A subprogram: rare, kept off the hot path. */
static __attribute__((noinline)) int name_event(struct __sk_buff *skb, struct counters *c, __u64 now) {
	__u32 zero = 0;
	struct event_bucket *b = bpf_map_lookup_elem(&event_buckets, &zero);
	struct name_event *e = bpf_map_lookup_elem(&event_scratch, &zero);
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
		c->n[COUNTER_NAME_EVENTS_RATE_LIMITED]++;
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
		c->n[COUNTER_NAME_EVENTS_LOST]++;
		return 0;
	}
	c->n[COUNTER_NAME_EVENTS]++;
	return 0;
}

/* What parse found: the canonical key, and what this packet adds. */
struct pkt {
	struct flow_key key;
	__u32 bytes;
	__u32 need;      /* PARSE_PULL: bytes to make linear */
	__u32 initiator; /* enum flow_side, from a SYN or SYN-ACK */
	__u8 flags;
	__u8 lo;         /* the sender is the lo side */
	__u8 name;       /* a name event candidate */
};

enum parse_result {
	PARSE_NONE = 0, /* no flow: not IP or cut, counted */
	PARSE_FLOW,     /* p holds the flow */
	PARSE_PULL,     /* a header lies past the linear part: pull p->need */
};

/* Headers in the linear part are read directly; when a needed header lies
 * past it in a non-linear skb, parse asks for bpf_skb_pull_data (at least
 * PULL_MIN bytes) and runs once more. */
#define PULL_MIN 256

/* Transport offsets never reach 16 KiB (22 + 40 + 4 * 2 KiB at most).
 * Masking with this gives every parse path the same range, so the
 * verifier can prune them instead of walking each one. */
#define L4_OFF_MASK 0x3fff

/* Hides a value's range from clang, which would drop the mask that
 * follows as a no-op. */
#define OPAQUE(v) asm volatile("" : "+r"(v))

/* NEED(ptr, off, n, cut): ptr (at offset off) .. ptr+n must be readable;
 * else ask for a pull when the bytes exist in a non-linear skb, or cut. */
#define NEED(ptr, off, n, cut)                                            \
	if ((void *)(ptr) + (n) > end) {                                  \
		if (may_pull && (off) + (n) <= skb->len) {                \
			p->need = (off) + (n);                            \
			return PARSE_PULL;                                \
		}                                                         \
		cut;                                                      \
	}

/* parse reads the headers into p. Inlined (a subprogram call costs ~15 ns
 * here); L4_OFF_MASK keeps the verifier's walk at ~150k instructions. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p, struct counters *c, int may_pull) {
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 ip_end, l3off, l4off;
	__u16 vlan = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	__u16 sport = 0, dport = 0;
	__u8 proto, family, flags = 0, name = 0;
	__u64 s0, s1, d0, d1;
	int cmp;

	l3off = ETH_HLEN;
	__u8 *l3 = data + ETH_HLEN;
	NEED(data, 0, ETH_HLEN, { c->n[COUNTER_TRUNCATED]++; return PARSE_NONE; });
	__u16 eth_proto = *(__u16 *)(data + 12);
	int seen_vlan = skb->vlan_present;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (eth_proto != bpf_htons(ETH_P_8021Q_) && eth_proto != bpf_htons(ETH_P_8021AD_))
			break;
		NEED(l3, l3off, 4, { c->n[COUNTER_TRUNCATED]++; return PARSE_NONE; });
		if (!seen_vlan) {
			vlan = bpf_ntohs(*(__u16 *)l3) & 0x0fff;
			seen_vlan = 1;
		}
		eth_proto = *(__u16 *)(l3 + 2);
		l3 += 4;
		l3off += 4;
	}
	OPAQUE(l3off);
	l3off &= 0x1f; /* 14, 18 or 22: one range for all tag counts */
	l3 = data + l3off;

	__u8 *l4;
	if (eth_proto == bpf_htons(ETH_P_IP)) {
		NEED(l3, l3off, 20, { c->n[COUNTER_TRUNCATED]++; return PARSE_NONE; });
		__u32 ihl = (l3[0] & 0x0f) * 4;
		if ((l3[0] >> 4) != 4 || ihl < 20) {
			c->n[COUNTER_TRUNCATED]++;
			return PARSE_NONE;
		}
		family = 4;
		p->bytes = bpf_ntohs(*(__u16 *)(l3 + 2));
		if (p->bytes == 0) /* BIG TCP / GSO: the skb's length from here on */
			p->bytes = skb->len - l3off;
		ip_end = l3off + p->bytes;
		proto = l3[9];
		__u32 s = *(__u32 *)(l3 + 12), d = *(__u32 *)(l3 + 16);
		s0 = ADDR4_WORD(s);
		d0 = ADDR4_WORD(d);
		s1 = d1 = 0;
		cmp = bpf_ntohl(s) < bpf_ntohl(d) ? -1 : bpf_ntohl(s) != bpf_ntohl(d);
		if (bpf_ntohs(*(__u16 *)(l3 + 6)) & 0x1fff) {
			c->n[COUNTER_FRAGMENTS]++;
			goto counted;
		}
		l4off = l3off + ihl;
		OPAQUE(l4off);
		l4off &= L4_OFF_MASK;
		l4 = data + l4off;
	} else if (eth_proto == bpf_htons(ETH_P_IPV6)) {
		NEED(l3, l3off, 40, { c->n[COUNTER_TRUNCATED]++; return PARSE_NONE; });
		if ((l3[0] >> 4) != 6) {
			c->n[COUNTER_TRUNCATED]++;
			return PARSE_NONE;
		}
		family = 6;
		p->bytes = bpf_ntohs(*(__u16 *)(l3 + 4)) + 40;
		if (p->bytes == 40 && skb->len - l3off > 65535 + 40)
			p->bytes = skb->len - l3off; /* BIG TCP: payload length 0 */
		ip_end = l3off + p->bytes;
		s0 = *(__u64 *)(l3 + 8);
		s1 = *(__u64 *)(l3 + 16);
		d0 = *(__u64 *)(l3 + 24);
		d1 = *(__u64 *)(l3 + 32);
		if (s0 != d0)
			cmp = bpf_be64_to_cpu(s0) < bpf_be64_to_cpu(d0) ? -1 : 1;
		else
			cmp = bpf_be64_to_cpu(s1) < bpf_be64_to_cpu(d1) ? -1 : s1 != d1;
		proto = l3[6];
		l4off = l3off + 40;
		l4 = data + l4off;

#pragma unroll
		for (int i = 0; i < MAX_IPV6_EXT; i++) {
			if (proto != PROTO_HOPOPTS && proto != PROTO_ROUTING &&
			    proto != PROTO_DSTOPTS && proto != PROTO_FRAGMENT &&
			    proto != PROTO_AH)
				break;
			/* a cut extension header: count the bytes, no ports */
			NEED(l4, l4off, 4, { c->n[COUNTER_TRANSPORT_TRUNCATED]++; goto counted; });
			if (proto == PROTO_FRAGMENT) {
				if (bpf_ntohs(*(__u16 *)(l4 + 2)) & 0xfff8) {
					proto = l4[0];
					c->n[COUNTER_FRAGMENTS]++;
					goto counted;
				}
				l4off += 8;
			} else if (proto == PROTO_AH) {
				l4off += ((__u32)l4[1] + 2) * 4;
			} else {
				l4off += ((__u32)l4[1] + 1) * 8;
			}
			proto = l4[0];
			OPAQUE(l4off);
			l4off &= L4_OFF_MASK;
			l4 = data + l4off;
		}
	} else {
		c->n[COUNTER_NOT_IP]++;
		return PARSE_NONE;
	}

	switch (proto) {
	case PROTO_TCP: {
		NEED(l4, l4off, 14, { c->n[COUNTER_TRANSPORT_TRUNCATED]++; goto counted; });
		sport = bpf_ntohs(*(__u16 *)l4);
		dport = bpf_ntohs(*(__u16 *)(l4 + 2));
		flags = l4[13];
		__u32 payload = l4off + (l4[12] >> 4) * 4;
		__u32 stop = ip_end < skb->len ? ip_end : skb->len;
		if ((l4[12] >> 4) >= 5 && payload < stop)
			name = name_payload(skb, payload, stop - payload);
		break;
	}
	case PROTO_UDP:
	case PROTO_UDPLITE:
		NEED(l4, l4off, 4, { c->n[COUNTER_TRANSPORT_TRUNCATED]++; goto counted; });
		sport = bpf_ntohs(*(__u16 *)l4);
		dport = bpf_ntohs(*(__u16 *)(l4 + 2));
		name = proto == PROTO_UDP && sport == 53;
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		NEED(l4, l4off, 2, { c->n[COUNTER_TRANSPORT_TRUNCATED]++; goto counted; });
		sport = l4[0];
		dport = icmp_counterpart(family, l4[0], l4[1]);
		break;
	}

counted:;
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
	return PARSE_FLOW;
}

static __always_inline int account(struct __sk_buff *skb) {
	__u32 zero = 0;
	struct counters *c = bpf_map_lookup_elem(&counters, &zero);
	if (!c)
		return TCX_NEXT;
	c->n[COUNTER_PACKETS]++;

	struct pkt p __attribute__((aligned(8)));
	int r = parse(skb, &p, c, 1);
	if (r == PARSE_PULL) {
		/* Rare: headers past the linear part. Pulling does not change
		 * the packet, it makes its first bytes linear (and unshares a
		 * cloned head). */
		__u32 need = p.need < PULL_MIN ? PULL_MIN : p.need;
		if (need > skb->len)
			need = skb->len;
		if (bpf_skb_pull_data(skb, need) < 0) {
			c->n[COUNTER_TRUNCATED]++;
			return TCX_NEXT;
		}
		r = parse(skb, &p, c, 0);
	}
	if (r != PARSE_FLOW)
		return TCX_NEXT;

	__u64 now = bpf_ktime_get_ns();
	if (p.name)
		name_event(skb, c, now);

	struct flow_value *v = bpf_map_lookup_elem(&flows, &p.key);
	if (!v) {
		struct flow_value nv = {};
		if (p.lo) {
			nv.packets_lo = 1;
			nv.bytes_lo = p.bytes;
			nv.flags_lo = p.flags;
			nv.first_side = SIDE_LO;
		} else {
			nv.packets_hi = 1;
			nv.bytes_hi = p.bytes;
			nv.flags_hi = p.flags;
			nv.first_side = SIDE_HI;
		}
		nv.first_ns = now;
		nv.last_ns = now;
		nv.initiator = p.initiator;
		long err = bpf_map_update_elem(&flows, &p.key, &nv, BPF_NOEXIST);
		if (err == 0) {
			c->n[COUNTER_INSERTS]++;
			return TCX_NEXT;
		}
		if (err != -EEXIST) {
			/* -E2BIG: the map is full. Never silent. */
			c->n[COUNTER_INSERT_FAILED]++;
			return TCX_NEXT;
		}
		/* Another CPU inserted the flow first: add to its entry. */
		v = bpf_map_lookup_elem(&flows, &p.key);
		if (!v) {
			c->n[COUNTER_INSERT_FAILED]++;
			return TCX_NEXT;
		}
	}

	__u32 flags = p.flags;
	if (p.lo) {
		__sync_fetch_and_add(&v->packets_lo, 1);
		__sync_fetch_and_add(&v->bytes_lo, p.bytes);
		if (flags && (v->flags_lo & flags) != flags)
			__sync_fetch_and_or(&v->flags_lo, flags);
	} else {
		__sync_fetch_and_add(&v->packets_hi, 1);
		__sync_fetch_and_add(&v->bytes_hi, p.bytes);
		if (flags && (v->flags_hi & flags) != flags)
			__sync_fetch_and_or(&v->flags_hi, flags);
	}
	if (p.initiator != SIDE_UNKNOWN && v->initiator != p.initiator)
		v->initiator = p.initiator;
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
