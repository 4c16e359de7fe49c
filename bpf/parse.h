/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parse.h - cursor-based header parsing shared by every program: Ethernet, stacked
 * 802.1Q/802.1ad tags, MPLS label stacks, PPPoE sessions, IPv4, IPv6 with its extension
 * headers, TCP, and one level of tunnel (VXLAN, Geneve, GTP-U, Teredo, GRE, ERSPAN) whose
 * inner frame goes through the same steps. Every access is checked against data_end, every
 * loop is bounded. The result is a flow key with the sender in endpoint 0 (before canonical
 * ordering), the TCP flags and the payload length. Nothing here writes to the packet.
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
#include "maps.h"

#define CT_MAX_VLAN	3	/* tags parsed in one frame (QinQ and one more) */
#define CT_MAX_MPLS	4	/* labels parsed in one stack */
#define CT_MAX_EXTHDR	6	/* IPv6 extension headers walked before giving up */
#define CT_MAX_L4_OFF	2047	/* the deepest an L4 header may be, from the frame's start */

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
	__u32 outer[2][4];	/* in a tunnel: the outer IP source and destination */
	__u32 tun_id;		/* ... the id the packet carries (the key's, or a TEID) */
	__u32 payload;		/* TCP payload bytes, from the IP length fields */
	__u16 sport, dport;	/* the sender's and receiver's ports, host byte order */
	__u16 vlan;		/* outermost VLAN id */
	__u8 flags;		/* TCP flags byte */
	__u8 vlan_tagged;	/* at least one VLAN tag, in the packet or in metadata */
	__u8 local;		/* sent by this host (tc egress, not forwarded) */
	__u8 ttl;		/* IPv4 TTL, IPv6 hop limit */
	__u8 l4;		/* the IP protocol the parsers stopped at: TCP, UDP or GRE */
	__u16 in_off;		/* CT_P_TUNNEL: the UDP or GRE header's offset from the frame's
				 * start */
	__u32 in_lim;		/* ... and its length with what it carries, by the IP header */
};

/* ct_parse_outer's result for a tunnel: the inner level is to be parsed (never returned
 * by ct_parse) */
#define CT_P_TUNNEL 16

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
 * An IP packet with no protocol field before it (below MPLS labels, in GTP-U, Teredo, or
 * GRE and Geneve carrying IP): its version nibble says which. Returns the ethertype (network
 * byte order), 0 for "not IP", -1 truncated.
 */
static __always_inline int ct_ip_by_version(struct hdr_cursor *c, void *data_end)
{
	__u8 *ip = c->pos;

	if ((void *)(ip + 1) > data_end)
		return -1;
	if ((ip[0] >> 4) == 4)
		return bpf_htons(ETH_P_IP);
	if ((ip[0] >> 4) == 6)
		return bpf_htons(ETH_P_IPV6);
	return 0;
}

/*
 * MPLS: skip labels to the bottom of the stack; the payload's IP version nibble says what
 * follows (there is no protocol field). Returns an ethertype, 0 for "not IP", -1 truncated.
 */
static __always_inline int ct_parse_mpls(struct hdr_cursor *c, void *data_end)
{
	__u8 *lbl;

#pragma unroll
	for (int i = 0; i < CT_MAX_MPLS; i++) {
		lbl = c->pos;
		if ((void *)(lbl + 4) > data_end)
			return -1;
		c->pos = lbl + 4;
		if (lbl[2] & 0x01)	/* bottom of stack */
			return ct_ip_by_version(c, data_end);
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

/* The IP protocols parsed on: TCP, and the carriers of tunnels decapsulation is on for. */
static __always_inline int ct_l4_wanted(__u8 proto)
{
	if (proto == IPPROTO_TCP)
		return 1;
	if (proto == IPPROTO_UDP)
		return cfg.decap & ((1u << (CT_TUN_UDP + 1)) - 2);
	if (proto == IPPROTO_GRE)
		return cfg.decap & (1u << CT_TUN_GRE | 1u << CT_TUN_ERSPAN);
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
	if (!ct_l4_wanted(iph->protocol))
		return -CT_P_OTHER;
	c->pos += hlen;
	p->l4 = iph->protocol;

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
		if (ct_l4_wanted(nh))
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
		/*
		 * One bounded offset from the IPv6 header whatever the header's kind, so that
		 * the verifier meets one state at the next round, not one per kind so far.
		 */
		elen += (int)((long)c->pos - (long)ip6);
		barrier_var(elen);
		if (elen < 0 || elen > CT_MAX_L4_OFF)
			return -CT_P_OTHER;
		barrier_var(elen);
		elen &= CT_MAX_L4_OFF;
		c->pos = (void *)ip6 + elen;
	}
	if (!ct_l4_wanted(nh))
		return -CT_P_OTHER;	/* chain longer than CT_MAX_EXTHDR */
	if (len < 0)
		return -CT_P_MALFORMED;
	p->l4 = nh;

	__builtin_memcpy(p->key.addr[0], &ip6->saddr, 16);
	__builtin_memcpy(p->key.addr[1], &ip6->daddr, 16);
	p->ttl = ip6->hop_limit;
	return len;
}

/*
 * Tunnels. The parsers below start at the outer UDP or GRE header and leave the cursor at
 * the inner frame. They return its link layer (CT_LINK_*), 0 when the packet is not a
 * tunnel closetrace opens (other UDP, a GTP-U signalling message, an unknown GRE payload),
 * or -CT_P_MALFORMED when a tunnel header is cut or inconsistent. *@lim is set to the inner
 * frame's end as the tunnel header tells it (an offset from the frame's start): the inner IP
 * packet must fit in it, which keeps garbage behind a tunnel port from making a flow.
 */
#define CT_LINK_ETH	1	/* an Ethernet frame (with its own tags, labels, PPPoE) */
#define CT_LINK_IP	2	/* an IP packet: its version nibble tells which */
#define CT_LINK_MPLS	3	/* an MPLS label stack, then IP */

#define CT_MAX_GTP_EXT	4	/* GTP-U extension headers walked */
#define CT_MAX_OFF	511	/* the deepest an IP header may start (the tc pull covers it) */
#define CT_TEREDO_PORT	3544
#define CT_ETH_P_TEB	0x6558	/* transparent Ethernet bridging (GRE, Geneve) */
#define CT_ETH_P_ERSPAN2 0x88BE	/* ERSPAN type I (no header) and II */
#define CT_ETH_P_ERSPAN3 0x22EB

/*
 * The UDP tunnel type whose port this datagram is to, 0 none. Teredo and GTP-U also from
 * it: a Teredo server answers from 3544 to the client's port, and a GTP-U peer may answer
 * a datagram from 2152 to the port it came from.
 */
static __always_inline int ct_udp_tunnel(__u16 sport, __u16 dport)
{
#pragma unroll
	for (int t = 0; t < CT_TUN_UDP; t++) {
		if (!(cfg.decap & (1u << (t + 1))))
			continue;
#pragma unroll
		for (int i = 0; i < CT_TUN_PORTS; i++) {
			__u16 port = cfg.tun_port[t][i];

			if (!port)
				break;
			if (dport == port ||
			    ((t + 1 == CT_TUN_TEREDO || t + 1 == CT_TUN_GTPU) && sport == port))
				return t + 1;
		}
	}
	return 0;
}

/* 24 bits of a header (a VNI) at @b, host order */
static __always_inline __u32 ct_be24(const __u8 *b)
{
	return (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];
}

static __always_inline __u32 ct_be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

/* The link layer a Geneve or GRE protocol type names (an ethertype), 0 one not parsed. */
static __always_inline int ct_link_of(__u16 proto)
{
	if (proto == CT_ETH_P_TEB)
		return CT_LINK_ETH;
	if (proto == ETH_P_IP || proto == ETH_P_IPV6)
		return CT_LINK_IP;
	if (proto == CT_ETH_P_MPLS_UC || proto == CT_ETH_P_MPLS_MC)
		return CT_LINK_MPLS;
	return 0;
}

/* VXLAN (RFC 7348): the I flag, a 24-bit VNI, then Ethernet. */
static __always_inline int ct_parse_vxlan(struct hdr_cursor *c, void *data_end, struct ct_pkt *p)
{
	__u8 *h = c->pos;

	if ((void *)(h + 8) > data_end)
		return -CT_P_MALFORMED;
	if (!(h[0] & 0x08))
		return 0;	/* no valid VNI: not VXLAN as Linux sends it */
	p->key.tun_id = ct_be24(h + 4);
	c->pos = h + 8;
	return CT_LINK_ETH;
}

/* Geneve (RFC 8926): version 0, options of 4-byte words, a 24-bit VNI, a protocol type. */
static __always_inline int ct_parse_geneve(struct hdr_cursor *c, void *data_end, struct ct_pkt *p)
{
	__u8 *h = c->pos;
	__u16 proto;

	if ((void *)(h + 8) > data_end)
		return -CT_P_MALFORMED;
	if (h[0] >> 6)
		return 0;	/* a version this parser does not know */
	proto = (__u16)h[2] << 8 | h[3];
	p->key.tun_id = ct_be24(h + 4);
	c->pos = h + 8 + (h[0] & 0x3f) * 4;
	return ct_link_of(proto);
}

/*
 * GTP-U (3GPP TS 29.281): version 1, a G-PDU (type 255) with a 32-bit TEID; an optional
 * word (sequence, N-PDU, next extension) when any of E, S, PN is set, then extension
 * headers (a length in words, the content, the next type), then the user's IP packet.
 */
static __always_inline int ct_parse_gtpu(struct hdr_cursor *c, void *data_end, struct ct_pkt *p,
					 __u32 *lim, __u32 base)
{
	__u8 *h = c->pos, *e;
	__u8 next;
	__u32 end;

	if ((void *)(h + 8) > data_end)
		return -CT_P_MALFORMED;
	if ((h[0] >> 5) != 1 || !(h[0] & 0x10))
		return 0;	/* GTP' or another version */
	if (h[1] != 255)
		return 0;	/* signalling (echo, error indication, end marker): no user data */
	/* not in the key: each direction of a bearer has its own TEID */
	p->tun_id = ct_be32(h + 4);
	/* the length counts what follows the 8 mandatory bytes */
	end = base + 8 + ((__u32)h[2] << 8 | h[3]);
	if (end > *lim)
		return -CT_P_MALFORMED;
	*lim = end;
	c->pos = h + 8;
	if (!(h[0] & 0x07))
		return CT_LINK_IP;
	if ((void *)(h + 12) > data_end)
		return -CT_P_MALFORMED;
	next = h[11];
	c->pos = h + 12;
#pragma unroll
	for (int i = 0; i < CT_MAX_GTP_EXT; i++) {
		if (!next)
			return CT_LINK_IP;
		e = c->pos;
		if ((void *)(e + 1) > data_end || !e[0])
			return -CT_P_MALFORMED;
		/* the extension's last byte is the next one's type (read behind the
		 * pointer: its variable part stays positive, as older verifiers want) */
		e += e[0] * 4;
		if ((void *)e > data_end)
			return -CT_P_MALFORMED;
		next = *(e - 1);
		c->pos = e;
	}
	return next ? 0 : CT_LINK_IP;
}

/*
 * Teredo (RFC 4380): an optional authentication indicator (0x0001, the lengths of the
 * client id and the authentication value, both, an 8-byte nonce, a confirmation byte), an
 * optional origin indication (0x0000 and 6 bytes), then an IPv6 packet that fills the rest
 * of the datagram. @heur: the datagram is on no Teredo port (a relay's), and must also have
 * an address in the Teredo prefix 2001::/32.
 */
static __always_inline int ct_parse_teredo(struct hdr_cursor *c, void *data_end, __u32 lim,
					   __u8 *u, __u32 base, int heur)
{
	__u8 *h = c->pos;
	struct ipv6hdr *ip6;
	__u32 at;

	if ((void *)(h + 2) > data_end)
		return heur ? 0 : -CT_P_MALFORMED;
	if (h[0] == 0 && h[1] == 1) {
		if ((void *)(h + 4) > data_end)
			return heur ? 0 : -CT_P_MALFORMED;
		c->pos = h + 4 + h[2] + h[3] + 9;
		h = c->pos;
		if ((void *)(h + 2) > data_end)
			return heur ? 0 : -CT_P_MALFORMED;
	}
	if (h[0] == 0 && h[1] == 0)
		c->pos = h + 8;
	ip6 = c->pos;
	if ((void *)(ip6 + 1) > data_end)
		return heur ? 0 : -CT_P_MALFORMED;
	at = base + (__u32)((long)c->pos - (long)u);	/* from the frame's start */
	if (ip6->version != 6 || at + sizeof(*ip6) + bpf_ntohs(ip6->payload_len) != lim)
		return heur ? 0 : -CT_P_MALFORMED;
	if (heur && ip6->saddr.in6_u.u6_addr32[0] != bpf_htonl(0x20010000) &&
	    ip6->daddr.in6_u.u6_addr32[0] != bpf_htonl(0x20010000))
		return 0;
	return CT_LINK_IP;
}

/*
 * GRE (RFC 2784, 2890): version 0, no routing; the optional checksum, key and sequence
 * words; then IP, Ethernet (transparent bridging), MPLS, or a mirrored frame (ERSPAN: type I
 * with no header, II with 8 bytes, III with 12 and an optional 8-byte platform subheader;
 * the session id names the mirror).
 */
static __always_inline int ct_parse_gre(struct hdr_cursor *c, void *data_end, struct ct_pkt *p)
{
	__u8 *h = c->pos, *e;
	__u16 proto;
	int len = 4;

	if ((void *)(h + 4) > data_end)
		return -CT_P_MALFORMED;
	if ((h[1] & 0x07) || (h[0] & 0x40))
		return 0;	/* PPTP's enhanced GRE, or RFC 1701 routing */
	proto = (__u16)h[2] << 8 | h[3];
	if (h[0] & 0x80)
		len += 4;	/* checksum */
	if (h[0] & 0x20) {
		if ((void *)(h + len + 4) > data_end)
			return -CT_P_MALFORMED;
		if (cfg.decap & (1u << CT_TUN_GRE))
			p->key.tun_id = ct_be32(h + len);
		len += 4;
	}
	if (h[0] & 0x10)
		len += 4;	/* sequence */
	c->pos = h + len;
	if (proto == CT_ETH_P_ERSPAN2 || proto == CT_ETH_P_ERSPAN3) {
		if (!(cfg.decap & (1u << CT_TUN_ERSPAN)))
			return 0;
		p->key.tun_type = CT_TUN_ERSPAN;
		p->key.tun_id = 0;
		if (proto == CT_ETH_P_ERSPAN2 && !(h[0] & 0x10))
			return CT_LINK_ETH;	/* type I: the frame follows GRE */
		e = c->pos;
		if ((void *)(e + 12) > data_end)
			return -CT_P_MALFORMED;
		if ((e[0] >> 4) != (proto == CT_ETH_P_ERSPAN2 ? 1 : 2))
			return -CT_P_MALFORMED;
		p->key.tun_id = ((__u32)e[2] & 0x03) << 8 | e[3];
		if (proto == CT_ETH_P_ERSPAN2)
			c->pos = e + 8;
		else
			c->pos = e + ((e[11] & 0x01) ? 20 : 12);
		return CT_LINK_ETH;
	}
	if (!(cfg.decap & (1u << CT_TUN_GRE)))
		return 0;
	p->key.tun_type = CT_TUN_GRE;
	return ct_link_of(proto);
}

/*
 * The tunnel that the outer packet (its L4 header at the cursor, @l4len bytes of it by the
 * IP header, at offset *@lim from the frame's start) carries. Keeps the outer addresses,
 * sets the key's tunnel, and moves the cursor to the inner frame; *@lim becomes the inner
 * frame's end. Returns CT_LINK_*, 0 for no tunnel, -CT_P_MALFORMED.
 */
static __always_inline int ct_parse_tunnel(struct hdr_cursor *c, void *data_end, struct ct_pkt *p,
				      int l4len, __u32 *lim)
{
	__u8 *u = c->pos;
	__u32 base = *lim;
	__u16 sport, dport, ulen;
	int type, link;

	__builtin_memcpy(p->outer, p->key.addr, sizeof(p->outer));
	if (p->l4 == IPPROTO_GRE) {
		*lim = base + l4len;
		return ct_parse_gre(c, data_end, p);
	}
	/* other UDP, whole or not, stays what it was: not a tunnel */
	if ((void *)(u + 8) > data_end)
		return 0;
	sport = (__u16)u[0] << 8 | u[1];
	dport = (__u16)u[2] << 8 | u[3];
	ulen = (__u16)u[4] << 8 | u[5];
	type = ct_udp_tunnel(sport, dport);
	/* UDP's own length: the IP one may be a first fragment's */
	if (ulen < 8)
		return type ? -CT_P_MALFORMED : 0;
	*lim = base + ulen;
	base += 8;
	c->pos = u + 8;
	if (!type) {
		if (!(cfg.decap & (1u << CT_TUN_TEREDO)))
			return 0;
		link = ct_parse_teredo(c, data_end, *lim, u, base - 8, 1);
		type = CT_TUN_TEREDO;
	} else if (type == CT_TUN_VXLAN) {
		link = ct_parse_vxlan(c, data_end, p);
	} else if (type == CT_TUN_GENEVE) {
		link = ct_parse_geneve(c, data_end, p);
	} else if (type == CT_TUN_GTPU) {
		link = ct_parse_gtpu(c, data_end, p, lim, base);
	} else {
		link = ct_parse_teredo(c, data_end, *lim, u, base - 8, 0);
	}
	p->key.tun_type = type;
	return link;
}

/*
 * The link layer at the cursor: returns the ethertype of what follows it (network byte
 * order), 0 for a payload that is not IP, -1 when truncated.
 */
static __always_inline int ct_parse_link(struct hdr_cursor *c, void *data_end, struct ct_pkt *p,
					 int link)
{
	int proto;

	if (link == CT_LINK_IP)
		return ct_ip_by_version(c, data_end);
	if (link == CT_LINK_MPLS)
		return ct_parse_mpls(c, data_end);
	proto = ct_parse_eth(c, data_end, p);
	if (proto == bpf_htons(CT_ETH_P_MPLS_UC) || proto == bpf_htons(CT_ETH_P_MPLS_MC))
		proto = ct_parse_mpls(c, data_end);
	else if (proto == bpf_htons(CT_ETH_P_PPPOE_SESS))
		proto = ct_parse_pppoe(c, data_end);
	return proto;
}

/*
 * Point @c at @off from the frame's start, when it is within @max (a power of two less
 * one); -1 when not. The offset is checked and then masked in: older verifiers (6.1) do
 * not carry a 32-bit comparison over to the 64-bit register the pointer is made from, and
 * the compiler would drop a mask it can prove redundant (the barriers). One bounded
 * offset is also one verifier state for every way that led to it.
 */
static __always_inline int ct_cursor_at(struct hdr_cursor *c, void *data, __u32 off, __u32 max)
{
	barrier_var(off);
	if (off > max)
		return -1;
	barrier_var(off);
	off &= max;
	c->pos = data + off;
	return (int)off;
}

/*
 * One level of a frame: the link layer @link at offset @off, IP, then TCP, or a tunnel
 * (@inner: the level inside one, where no tunnel is opened). @lim is where this level's
 * bytes end, from the frame's start: the frame's length outside, the tunnel's payload
 * inside, where the IP packet must fit. Only the 20-byte fixed TCP header must be present:
 * a capture cut by its snap length still counts, and lengths come from the IP headers, not
 * from the frame. Returns a ct_parse_res, or (outside) CT_P_TUNNEL for UDP or GRE that a
 * tunnel may be in: its header's place in p->in_off and p->in_lim, for ct_parse_inner.
 */
static __always_inline int ct_parse_level(void *data, void *data_end, struct ct_pkt *p, __u32 off,
					  int link, __u32 lim, int inner)
{
	struct hdr_cursor c;
	struct tcphdr *th;
	int proto, iplen, thlen, ret;

	if (ct_cursor_at(&c, data, off, CT_MAX_OFF) < 0)
		return CT_P_OTHER;
	proto = ct_parse_link(&c, data_end, p, link);
	if (proto < 0)
		return CT_P_MALFORMED;

	/*
	 * Every way through the link layer (tags, labels, PPPoE, FabricPath, a tunnel) reaches
	 * the IP header at its own offset. Turning that offset into one bounded variable lets
	 * the verifier walk the IP parsers once for all of them instead of once each
	 * (ct_cursor_at). The offset also gives the frame's length from the IP header on, for
	 * packets whose IP length field is 0.
	 */
	ret = ct_cursor_at(&c, data, (__u32)((long)c.pos - (long)data), CT_MAX_OFF);
	if (ret < 0)
		return CT_P_OTHER;
	off = (__u32)ret;
	if (proto == bpf_htons(ETH_P_IP))
		iplen = ct_parse_ipv4(&c, data_end, p, (int)lim - (int)off);
	else if (proto == bpf_htons(ETH_P_IPV6))
		iplen = ct_parse_ipv6(&c, data_end, p, (int)lim - (int)off);
	else
		return CT_P_OTHER;
	if (iplen < 0)
		return -iplen;
	/* the same again for the L4 header, behind IP options or IPv6 extensions */
	ret = ct_cursor_at(&c, data, (__u32)((long)c.pos - (long)data), CT_MAX_L4_OFF);
	if (ret < 0)
		return CT_P_OTHER;
	off = (__u32)ret;
	if (inner) {
		/* the inner packet lies within what its tunnel carries */
		if ((long)off + iplen > (long)lim)
			return CT_P_MALFORMED;
		if (p->l4 != IPPROTO_TCP)
			return CT_P_OTHER;	/* one level: a tunnel in a tunnel is not opened */
	} else if (p->l4 != IPPROTO_TCP) {
		/* UDP or GRE of a type decapsulation is on for: ct_parse_inner looks */
		p->in_off = (__u16)off;
		p->in_lim = (__u32)iplen;
		return CT_P_TUNNEL;
	}

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

/* The outer level of a frame of @len bytes (the whole packet, which may extend past data_end). */
static __always_inline int ct_parse_outer(void *data, void *data_end, __u32 len, struct ct_pkt *p)
{
	return ct_parse_level(data, data_end, p, 0, CT_LINK_ETH, len, 0);
}

/*
 * The tunnel, if any, in the UDP or GRE that ct_parse_outer found, and the level inside it:
 * CT_P_TCP with the key's tunnel set, or what the datagram is (other, malformed).
 */
static __always_inline int ct_parse_inner(void *data, void *data_end, struct ct_pkt *p)
{
	struct hdr_cursor c;
	__u32 lim;
	int link, res = CT_P_OTHER, off = ct_cursor_at(&c, data, p->in_off, CT_MAX_L4_OFF);

	if (off < 0)
		goto out;
	lim = (__u32)off;
	link = ct_parse_tunnel(&c, data_end, p, (int)p->in_lim, &lim);
	if (link <= 0) {
		res = link ? CT_P_MALFORMED : CT_P_OTHER;
		goto out;
	}
	if (p->key.tun_type != CT_TUN_GTPU)
		p->tun_id = p->key.tun_id;
	res = ct_parse_level(data, data_end, p, (__u32)((long)c.pos - (long)data), link, lim, 1);
out:
	if (res != CT_P_TCP) {
		p->key.tun_type = 0;
		p->key.tun_id = 0;
	}
	return res;
}

/*
 * Parse one frame: the BPF programs call the two levels as functions of their own
 * (closetrace.bpf.c); the in-process engine calls this.
 */
static __always_inline enum ct_parse_res ct_parse(void *data, void *data_end, __u32 len,
						  struct ct_pkt *p)
{
	int res = ct_parse_outer(data, data_end, len, p);

	if (res == CT_P_TUNNEL)
		res = ct_parse_inner(data, data_end, p);
	return (enum ct_parse_res)res;
}

#endif /* CT_PARSE_H */
