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
#define MAX_IPV6_EXT 4

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx) {
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);
	if (c)
		*c += 1; /* per-CPU: no other writer */
}

/* What one packet contributes to its flow, before canonical ordering. */
struct pkt {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u16 vlan;
	__u8 proto;
	__u8 family;
	__u32 bytes;
	__u8 flags;
};

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

/* transport reads ports and TCP flags at off; a cut header leaves them 0. */
static __always_inline void transport(struct __sk_buff *skb, __u32 off, struct pkt *p) {
	switch (p->proto) {
	case PROTO_TCP: {
		__u8 h[14];
		if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0) {
			count(COUNTER_TRANSPORT_TRUNCATED);
			return;
		}
		p->sport = ((__u16)h[0] << 8) | h[1];
		p->dport = ((__u16)h[2] << 8) | h[3];
		p->flags = h[13];
		return;
	}
	case PROTO_UDP:
	case PROTO_UDPLITE: {
		__u8 h[4];
		if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0) {
			count(COUNTER_TRANSPORT_TRUNCATED);
			return;
		}
		p->sport = ((__u16)h[0] << 8) | h[1];
		p->dport = ((__u16)h[2] << 8) | h[3];
		return;
	}
	case PROTO_ICMP:
	case PROTO_ICMPV6: {
		__u8 h[2];
		if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0) {
			count(COUNTER_TRANSPORT_TRUNCATED);
			return;
		}
		p->sport = h[0];
		p->dport = icmp_counterpart(p->family, h[0], h[1]);
		return;
	}
	}
}

/* parse fills p; false when the packet is not IP or its headers are cut.
 * A BPF subprogram rather than inlined: inlined, clang's stack frame for
 * the whole program grows past 512 bytes. */
static __attribute__((noinline)) int parse(struct __sk_buff *skb, struct pkt *p) {
	__u32 off = ETH_HLEN;
	__u16 proto;

	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)) < 0) {
		count(COUNTER_TRUNCATED);
		return 0;
	}
	if (skb->vlan_present)
		p->vlan = skb->vlan_tci & 0x0fff;

	int seen_vlan = skb->vlan_present;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q_) && proto != bpf_htons(ETH_P_8021AD_))
			break;
		__u16 tag[2];
		if (bpf_skb_load_bytes(skb, off, tag, sizeof(tag)) < 0) {
			count(COUNTER_TRUNCATED);
			return 0;
		}
		if (!seen_vlan) {
			p->vlan = bpf_ntohs(tag[0]) & 0x0fff;
			seen_vlan = 1;
		}
		proto = tag[1];
		off += 4;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		__u8 h[20];
		if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0) {
			count(COUNTER_TRUNCATED);
			return 0;
		}
		__u32 ihl = (h[0] & 0x0f) * 4;
		if ((h[0] >> 4) != 4 || ihl < 20) {
			count(COUNTER_TRUNCATED);
			return 0;
		}
		p->family = 4;
		p->bytes = ((__u32)h[2] << 8) | h[3];
		p->proto = h[9];
		__builtin_memcpy(p->src, &h[12], 4);
		__builtin_memcpy(p->dst, &h[16], 4);
		if ((((__u16)h[6] << 8) | h[7]) & 0x1fff) {
			count(COUNTER_FRAGMENTS);
			return 1;
		}
		transport(skb, off + ihl, p);
		return 1;
	}

	if (proto == bpf_htons(ETH_P_IPV6)) {
		__u8 h[40];
		if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0) {
			count(COUNTER_TRUNCATED);
			return 0;
		}
		if ((h[0] >> 4) != 6) {
			count(COUNTER_TRUNCATED);
			return 0;
		}
		p->family = 6;
		p->bytes = (((__u32)h[4] << 8) | h[5]) + 40;
		__u8 next = h[6];
		__builtin_memcpy(p->src, &h[8], 16);
		__builtin_memcpy(p->dst, &h[24], 16);
		off += 40;

#pragma unroll
		for (int i = 0; i < MAX_IPV6_EXT; i++) {
			__u8 e[4];
			if (next != PROTO_HOPOPTS && next != PROTO_ROUTING &&
			    next != PROTO_DSTOPTS && next != PROTO_FRAGMENT &&
			    next != PROTO_AH)
				break;
			if (bpf_skb_load_bytes(skb, off, e, sizeof(e)) < 0) {
				/* cut extension header: count the bytes, no ports */
				p->proto = next;
				count(COUNTER_TRANSPORT_TRUNCATED);
				return 1;
			}
			if (next == PROTO_FRAGMENT) {
				if (((((__u16)e[2] << 8) | e[3]) & 0xfff8) != 0) {
					p->proto = e[0];
					count(COUNTER_FRAGMENTS);
					return 1;
				}
				off += 8;
			} else if (next == PROTO_AH) {
				off += ((__u32)e[1] + 2) * 4;
			} else {
				off += ((__u32)e[1] + 1) * 8;
			}
			next = e[0];
		}
		p->proto = next;
		transport(skb, off, p);
		return 1;
	}

	count(COUNTER_NOT_IP);
	return 0;
}

/* src_is_lo compares (src, sport) with (dst, dport) as big-endian bytes. */
static __always_inline int src_is_lo(const struct pkt *p) {
#pragma unroll
	for (int i = 0; i < 16; i++) {
		if (p->src[i] != p->dst[i])
			return p->src[i] < p->dst[i];
	}
	return p->sport <= p->dport;
}

static __always_inline int account(struct __sk_buff *skb) {
	struct pkt p = {};
	count(COUNTER_PACKETS);
	if (!parse(skb, &p))
		return TCX_NEXT;

	struct flow_key key = {};
	int lo = src_is_lo(&p);
	if (lo) {
		__builtin_memcpy(key.addr_lo, p.src, 16);
		__builtin_memcpy(key.addr_hi, p.dst, 16);
		key.port_lo = p.sport;
		key.port_hi = p.dport;
	} else {
		__builtin_memcpy(key.addr_lo, p.dst, 16);
		__builtin_memcpy(key.addr_hi, p.src, 16);
		key.port_lo = p.dport;
		key.port_hi = p.sport;
	}
	key.vlan = p.vlan;
	key.proto = p.proto;
	key.family = p.family;

	__u32 initiator = SIDE_UNKNOWN;
	if (p.proto == PROTO_TCP && (p.flags & TCP_FLAG_SYN)) {
		/* SYN: the sender initiates; SYN-ACK: the receiver did. */
		int sender_init = !(p.flags & TCP_FLAG_ACK);
		initiator = (lo == sender_init) ? SIDE_LO : SIDE_HI;
	}

	__u64 now = bpf_ktime_get_ns();
	struct flow_value *v = bpf_map_lookup_elem(&flows, &key);
	if (!v) {
		struct flow_value nv = {};
		if (lo) {
			nv.packets_lo = 1;
			nv.bytes_lo = p.bytes;
			nv.flags_lo = p.flags;
		} else {
			nv.packets_hi = 1;
			nv.bytes_hi = p.bytes;
			nv.flags_hi = p.flags;
		}
		nv.first_ns = now;
		nv.last_ns = now;
		nv.initiator = initiator;
		long err = bpf_map_update_elem(&flows, &key, &nv, BPF_NOEXIST);
		if (err == 0) {
			count(COUNTER_INSERTS);
			return TCX_NEXT;
		}
		if (err != -EEXIST) {
			/* -E2BIG: the map is full. Never silent. */
			count(COUNTER_INSERT_FAILED);
			return TCX_NEXT;
		}
		/* Another CPU inserted the flow first: add to its entry. */
		v = bpf_map_lookup_elem(&flows, &key);
		if (!v) {
			count(COUNTER_INSERT_FAILED);
			return TCX_NEXT;
		}
	}

	if (lo) {
		__sync_fetch_and_add(&v->packets_lo, 1);
		__sync_fetch_and_add(&v->bytes_lo, p.bytes);
		if (p.flags && (v->flags_lo & p.flags) != p.flags)
			__sync_fetch_and_or(&v->flags_lo, (__u32)p.flags);
	} else {
		__sync_fetch_and_add(&v->packets_hi, 1);
		__sync_fetch_and_add(&v->bytes_hi, p.bytes);
		if (p.flags && (v->flags_hi & p.flags) != p.flags)
			__sync_fetch_and_or(&v->flags_hi, (__u32)p.flags);
	}
	if (initiator != SIDE_UNKNOWN && v->initiator != initiator)
		v->initiator = initiator;
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
