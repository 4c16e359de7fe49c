/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parse.h - cursor-based header parsing shared by every program: Ethernet, stacked
 * 802.1Q/802.1ad tags, MPLS label stacks, PPPoE sessions, IPv4, IPv6 with its extension
 * headers, TCP. Every access is checked against data_end, every loop is bounded. The
 * result is a flow key with the sender in endpoint 0 (before canonical ordering), the TCP
 * flags and the payload length. Nothing here writes to the packet.
 */
#ifndef CT_PARSE_H
#define CT_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "closetrace.h"

#define CT_MAX_VLAN	3	/* tags parsed in one frame (QinQ and one more) */
#define CT_MAX_MPLS	4	/* labels parsed in one stack */
#define CT_MAX_EXTHDR	6	/* IPv6 extension headers walked before giving up */

#ifndef ETH_P_8021AD
#define ETH_P_8021AD	0x88A8
#endif
#define CT_ETH_P_QINQ_OLD	0x9100	/* pre-standard QinQ outer tag */
#define CT_ETH_P_MPLS_UC	0x8847
#define CT_ETH_P_MPLS_MC	0x8848
#define CT_ETH_P_PPPOE_SESS	0x8864
#define CT_ETH_P_FABRICPATH	0x8903	/* Cisco FabricPath: FTag/TTL, then an inner frame */
#define CT_PPP_IP		0x0021
#define CT_PPP_IPV6		0x0057
/* fragment offset masks (the kernel's IP_OFFSET and IP6_OFFSET are not UAPI) */
#define CT_IP_OFFSET		0x1fff	/* of iphdr.frag_off, host order */
#define CT_IP6_OFFSET		0xfff8	/* of the IPv6 fragment header's offset word */

struct ct_pkt {
	struct ct_flow_key key;	/* sender in endpoint 0, receiver in endpoint 1 */
	__u32 payload;		/* TCP payload bytes, from the IP length fields */
	__u16 sport, dport;	/* the sender's and receiver's ports, host byte order */
	__u16 vlan;		/* outermost VLAN id */
	__u8 flags;		/* TCP flags byte */
	__u8 vlan_tagged;	/* at least one VLAN tag, in the packet or in metadata */
	__u8 local;		/* sent by this host (tc egress, not forwarded) */
	__u8 ttl;		/* IPv4 TTL, IPv6 hop limit */
};

struct hdr_cursor {
	void *pos;
};

struct ct_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct ct_pppoe_hdr {
	__u8 ver_type;
	__u8 code;
	__be16 session;
	__be16 length;
	__be16 ppp_proto;
};

/*
 * Returns the ethertype (network byte order) after Ethernet, a FabricPath outer header if
 * any, and any VLAN tags; -1 when truncated.
 */
static __always_inline int ct_parse_eth(struct hdr_cursor *c, void *data_end, struct ct_pkt *p)
{
	struct ethhdr *eth = c->pos;
	struct ct_vlan_hdr *vh;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	c->pos = eth + 1;
	proto = eth->h_proto;
	if (proto == bpf_htons(CT_ETH_P_FABRICPATH)) {
		/* 2 bytes of FTag/TTL, then the inner destination and source MACs and type */
		eth = c->pos + 2;
		if ((void *)(eth + 1) > data_end)
			return -1;
		c->pos = eth + 1;
		proto = eth->h_proto;
	}

#pragma unroll
	for (int i = 0; i < CT_MAX_VLAN; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD) &&
		    proto != bpf_htons(CT_ETH_P_QINQ_OLD))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > data_end)
			return -1;
		if (!p->vlan_tagged) {
			p->vlan = bpf_ntohs(vh->tci) & CT_VLAN_MASK;
			p->vlan_tagged = 1;
		}
		c->pos = vh + 1;
		proto = vh->proto;
	}
	return proto;
}

/*
 * MPLS: skip labels to the bottom of the stack; the payload's IP version nibble says what
 * follows (there is no protocol field). Returns an ethertype, 0 for "not IP", -1 truncated.
 */
static __always_inline int ct_parse_mpls(struct hdr_cursor *c, void *data_end)
{
	__u8 *lbl, *ip;

#pragma unroll
	for (int i = 0; i < CT_MAX_MPLS; i++) {
		lbl = c->pos;
		if ((void *)(lbl + 4) > data_end)
			return -1;
		c->pos = lbl + 4;
		if (lbl[2] & 0x01) {	/* bottom of stack */
			ip = c->pos;
			if ((void *)(ip + 1) > data_end)
				return -1;
			if ((ip[0] >> 4) == 4)
				return bpf_htons(ETH_P_IP);
			if ((ip[0] >> 4) == 6)
				return bpf_htons(ETH_P_IPV6);
			return 0;
		}
	}
	return 0;
}

/* PPPoE session stage: returns the IP ethertype carried, 0 for other PPP, -1 truncated. */
static __always_inline int ct_parse_pppoe(struct hdr_cursor *c, void *data_end)
{
	struct ct_pppoe_hdr *ph = c->pos;

	if ((void *)(ph + 1) > data_end)
		return -1;
	c->pos = ph + 1;
	if (ph->ppp_proto == bpf_htons(CT_PPP_IP))
		return bpf_htons(ETH_P_IP);
	if (ph->ppp_proto == bpf_htons(CT_PPP_IPV6))
		return bpf_htons(ETH_P_IPV6);
	return 0;
}

/*
 * IPv4: fills the addresses; returns the IP payload length or a negative ct_parse_res.
 * @rest is the frame's length from this header on: a GSO packet past 64 KiB (BIG TCP)
 * has no total length and is as long as the frame.
 */
static __always_inline int ct_parse_ipv4(struct hdr_cursor *c, void *data_end, struct ct_pkt *p,
					 int rest)
{
	struct iphdr *iph = c->pos;
	int hlen, tot;

	if ((void *)(iph + 1) > data_end)
		return -CT_P_MALFORMED;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot == 0)
		tot = rest;
	if (iph->version != 4 || hlen < (int)sizeof(*iph) || tot < hlen)
		return -CT_P_MALFORMED;
	if (c->pos + hlen > data_end)
		return -CT_P_MALFORMED;
	/* Only the first fragment carries the TCP header. */
	if (iph->frag_off & bpf_htons(CT_IP_OFFSET))
		return -CT_P_FRAGMENT;
	if (iph->protocol != IPPROTO_TCP)
		return -CT_P_OTHER;
	c->pos += hlen;

	p->key.addr[0][2] = bpf_htonl(CT_V4MAPPED);
	p->key.addr[0][3] = iph->saddr;
	p->key.addr[1][2] = bpf_htonl(CT_V4MAPPED);
	p->key.addr[1][3] = iph->daddr;
	p->ttl = iph->ttl;
	return tot - hlen;
}

/* IPv6 with a bounded extension-header walk; same conventions as ct_parse_ipv4. */
static __always_inline int ct_parse_ipv6(struct hdr_cursor *c, void *data_end, struct ct_pkt *p,
					 int rest)
{
	struct ipv6hdr *ip6 = c->pos;
	__u8 *ext;
	int len, elen;
	__u8 nh;

	if ((void *)(ip6 + 1) > data_end)
		return -CT_P_MALFORMED;
	if (ip6->version != 6)
		return -CT_P_MALFORMED;
	c->pos = ip6 + 1;
	len = bpf_ntohs(ip6->payload_len);
	if (len == 0)	/* BIG TCP, or a jumbogram: as long as the frame */
		len = rest - (int)sizeof(*ip6);
	nh = ip6->nexthdr;

	/* a bounded loop the verifier walks (kernel >= 5.3); too branchy to unroll */
	for (int i = 0; i < CT_MAX_EXTHDR; i++) {
		if (nh == IPPROTO_TCP)
			break;
		ext = c->pos;
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(ext + 2) > data_end)
				return -CT_P_MALFORMED;
			elen = (ext[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if ((void *)(ext + 2) > data_end)
				return -CT_P_MALFORMED;
			elen = (ext[1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(ext + 8) > data_end)
				return -CT_P_MALFORMED;
			if ((ext[2] << 8 | ext[3]) & CT_IP6_OFFSET)
				return -CT_P_FRAGMENT;
			elen = 8;
			break;
		default:
			return -CT_P_OTHER;
		}
		nh = ext[0];
		len -= elen;
		c->pos += elen;
	}
	if (nh != IPPROTO_TCP)
		return -CT_P_OTHER;	/* chain longer than CT_MAX_EXTHDR */
	if (len < 0)
		return -CT_P_MALFORMED;

	__builtin_memcpy(p->key.addr[0], &ip6->saddr, 16);
	__builtin_memcpy(p->key.addr[1], &ip6->daddr, 16);
	p->ttl = ip6->hop_limit;
	return len;
}

/*
 * Parse one frame of @len bytes (the whole packet, which may extend past data_end). Only
 * the 20-byte fixed TCP header must be present: a capture cut by its snap length still
 * counts, and lengths come from the IP headers, not from the frame.
 */
static __always_inline enum ct_parse_res ct_parse(void *data, void *data_end, __u32 len,
						  struct ct_pkt *p)
{
	struct hdr_cursor c = { .pos = data };
	struct tcphdr *th;
	int proto, iplen, thlen, rest;
	__u32 off;

	proto = ct_parse_eth(&c, data_end, p);
	if (proto == bpf_htons(CT_ETH_P_MPLS_UC) || proto == bpf_htons(CT_ETH_P_MPLS_MC))
		proto = ct_parse_mpls(&c, data_end);
	else if (proto == bpf_htons(CT_ETH_P_PPPOE_SESS))
		proto = ct_parse_pppoe(&c, data_end);
	if (proto < 0)
		return CT_P_MALFORMED;

	/*
	 * Every way through the link layer (tags, labels, PPPoE, FabricPath) reaches the IP
	 * header at its own constant offset. Turning that offset into one bounded variable
	 * lets the verifier walk the IP parsers once for all of them instead of once each.
	 * The barrier keeps the compiler from undoing it. The offset also gives the frame's
	 * length from the IP header on, for packets whose IP length field is 0.
	 */
	off = (__u32)((long)c.pos - (long)data);
	barrier_var(off);
	off &= 0xff;	/* the deepest link-layer stack parsed is well under 256 bytes */
	c.pos = data + off;
	rest = (int)len - (int)off;
	if (proto == bpf_htons(ETH_P_IP))
		iplen = ct_parse_ipv4(&c, data_end, p, rest);
	else if (proto == bpf_htons(ETH_P_IPV6))
		iplen = ct_parse_ipv6(&c, data_end, p, rest);
	else
		return CT_P_OTHER;
	if (iplen < 0)
		return -iplen;

	th = c.pos;
	if ((void *)(th + 1) > data_end)
		return CT_P_MALFORMED;
	thlen = th->doff * 4;
	if (thlen < (int)sizeof(*th) || thlen > iplen)
		return CT_P_MALFORMED;
	p->sport = bpf_ntohs(th->source);
	p->dport = bpf_ntohs(th->dest);
	p->key.port[0] = p->sport;
	p->key.port[1] = p->dport;
	p->flags = ((__u8 *)th)[13];
	p->payload = iplen - thlen;
	return CT_P_TCP;
}

#endif /* CT_PARSE_H */
