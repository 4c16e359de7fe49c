/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_logic.h - the pure decisions of the packet path, shared by the BPF programs and by
 * user space: canonical key order, which endpoint is the client, the close kind a first
 * RST or a second FIN decides, the Zeek letter a packet adds. No I/O, no helpers, no libc:
 * the same code decides a close in the kernel and is unit-tested without privileges.
 */
#ifndef CT_LOGIC_H
#define CT_LOGIC_H

#include "closetrace.h"

/* BPF wants short fixed loops unrolled; gcc building user space has no such pragma. */
#ifdef __clang__
#define CT_UNROLL _Pragma("unroll")
#else
#define CT_UNROLL
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* TCP flag bits as they stand in byte 13 of the TCP header. */
#define CT_TH_FIN 0x01
#define CT_TH_SYN 0x02
#define CT_TH_RST 0x04
#define CT_TH_PSH 0x08
#define CT_TH_ACK 0x10

/*
 * Order the two endpoints of a key so that both directions of a flow give the same key.
 * The order is numeric on the raw address words then on the port: any total order works,
 * as long as kernel and user space use this one. Returns the endpoint index that the
 * sender (endpoint 0 on entry) ended up at.
 */
static __always_inline int ct_key_canon(struct ct_flow_key *k)
{
	int swap = 0, decided = 0;

CT_UNROLL
	for (int i = 0; i < 4; i++) {
		if (!decided && k->addr[0][i] != k->addr[1][i]) {
			swap = k->addr[0][i] > k->addr[1][i];
			decided = 1;
		}
	}
	if (!decided)
		swap = k->port[0] > k->port[1];
	if (swap) {
		__u32 a;
		__u16 p;

CT_UNROLL
		for (int i = 0; i < 4; i++) {
			a = k->addr[0][i];
			k->addr[0][i] = k->addr[1][i];
			k->addr[1][i] = a;
		}
		p = k->port[0];
		k->port[0] = k->port[1];
		k->port[1] = p;
	}
	return swap ? CT_EP_HI : CT_EP_LO;
}

/*
 * The client: from a SYN or SYN-ACK when seen, else the guess made when the flow began
 * (see ct_initial_state()).
 */
static __always_inline int ct_client_ep(__u32 st)
{
	if (st & CT_ST_ROLE)
		return (st & CT_ST_CLIENT_HI) ? CT_EP_HI : CT_EP_LO;
	return (st & CT_ST_GUESS_HI) ? CT_EP_HI : CT_EP_LO;
}

static __always_inline int ct_has(__u32 st, int ep, int letter)
{
	return (st & CT_ST_LETTER(ep, letter)) != 0;
}

static __always_inline int ct_has_any(__u32 st, int letter)
{
	return ct_has(st, CT_EP_LO, letter) || ct_has(st, CT_EP_HI, letter);
}

/*
 * The close decided by the first RST of a flow, sent by endpoint @ep. @st is the flow's
 * state before the RST packet (so a flow created by the RST itself has no letters).
 */
static __always_inline __u8 ct_rst_close(__u32 st, int ep)
{
	int clt = ct_client_ep(st), srv = !clt;
	int clt_more = ct_has(st, clt, CT_L_ACK) || ct_has(st, clt, CT_L_DATA);

	if (!(st & CT_ST_LETTERS))
		return CT_CLOSE_ORPHAN_RST;
	if (ct_has_any(st, CT_L_FIN))
		return CT_CLOSE_FIN_RESET;
	if (ep == clt) {
		if (ct_has(st, srv, CT_L_SYNACK))
			return CT_CLOSE_RESET_CLIENT;
		if (ct_has(st, clt, CT_L_SYN))
			return CT_CLOSE_SYN_RESET;
		return CT_CLOSE_RESET_CLIENT;	/* midstream: the client is a guess */
	}
	/*
	 * Refused: the server answers the client's SYN with a RST, having sent no SYN-ACK,
	 * and the client sent nothing more (had it sent data, we missed the handshake).
	 */
	if (ct_has(st, clt, CT_L_SYN))
		return clt_more || ct_has(st, srv, CT_L_SYNACK) ? CT_CLOSE_RESET_SERVER :
								   CT_CLOSE_REFUSED;
	if (ct_has(st, srv, CT_L_SYNACK) && !clt_more)
		return CT_CLOSE_SYNACK_RESET;
	return CT_CLOSE_RESET_SERVER;
}

/*
 * Whether a FIN from @ep, with @old the state returned by the atomic OR of its FIN letter,
 * is the second FIN of a flow without RST: a graceful close.
 */
static __always_inline int ct_fin_closes(__u32 old, int ep)
{
	return !ct_has(old, ep, CT_L_FIN) && ct_has(old, !ep, CT_L_FIN) &&
	       !ct_has_any(old, CT_L_RST);
}

/* Who sent the first RST, for an event of kind @close decided by a RST from @ep. */
static __always_inline __u8 ct_rst_by(__u32 st, __u8 close, int ep)
{
	if (close == CT_CLOSE_GRACEFUL || close == CT_CLOSE_NONE)
		return CT_BY_NONE;
	return ep == ct_client_ep(st) ? CT_BY_CLT : CT_BY_SRV;
}

/* 4-bit history code of a letter sent by an endpoint (0 ends the history). */
static __always_inline __u64 ct_hist_code(int ep, int letter)
{
	return (__u64)(1 + ep * CT_L_MAX + letter);
}

/* Number of letters recorded in a state word: the position of the next history code. */
static __always_inline int ct_letter_count(__u32 st)
{
	__u32 x = st & CT_ST_LETTERS;
	int n = 0;

CT_UNROLL
	for (int i = 0; i < 14; i++)
		n += (x >> i) & 1;
	return n;
}

/*
 * Ports servers listen on above 1023, as Zeek's likely_server_ports has them (the ports
 * its analyzers claim) and the common services beside them.
 */
static __always_inline int ct_likely_server_port(__u16 port)
{
	if (port < 1024)
		return 1;
	switch (port) {
	case 1080: case 1194: case 1433: case 1521: case 1723: case 1812: case 1883:
	case 2049: case 2181: case 2375: case 2376: case 2379: case 2380: case 3000:
	case 3128: case 3260: case 3268: case 3306: case 3389: case 3478: case 4369:
	case 4443: case 5000: case 5060: case 5061: case 5222: case 5269: case 5432:
	case 5672: case 5900: case 5984: case 6379: case 6443: case 6667: case 6697:
	case 7000: case 7001: case 8000: case 8008: case 8080: case 8081: case 8443:
	case 8888: case 9000: case 9042: case 9090: case 9092: case 9100: case 9200:
	case 9300: case 9418: case 10250: case 11211: case 15672: case 27017:
		return 1;
	default:
		return 0;
	}
}

/* The ephemeral range clients' ports come from: Linux's 32768-60999, IANA's 49152-65535. */
static __always_inline int ct_ephemeral_port(__u16 port)
{
	return port >= 32768;
}

/*
 * Initial state bits of a flow created by a packet from @ep with TCP @flags, sent from
 * port @sport to @dport. Until a SYN or SYN-ACK says otherwise, the client is the sender.
 * A flow joined midstream has its roles guessed as Zeek guesses for partial connections:
 * the sender is taken for the server when its port is a likely server port and the
 * receiver's is not, or, neither being one, when only the receiver's port is ephemeral.
 */
static __always_inline __u32 ct_initial_state(int ep, __u8 flags, __u16 sport, __u16 dport)
{
	int guess = ep, s_srv, d_srv;
	__u32 st = 0;

	if (!(flags & CT_TH_SYN)) {
		/* the handshake happened before we looked */
		st |= CT_ST_HS_DONE;
		s_srv = ct_likely_server_port(sport);
		d_srv = ct_likely_server_port(dport);
		if ((s_srv && !d_srv) ||
		    (!s_srv && !d_srv && ct_ephemeral_port(dport) && !ct_ephemeral_port(sport)))
			guess = !ep;
	}
	if (guess == CT_EP_HI)
		st |= CT_ST_GUESS_HI;
	return st;
}

/*
 * Whether state @st makes a flow established for eviction ("assured", as conntrack says):
 * a completed handshake, or both sides sent an ACK, data or a FIN (a flow joined
 * midstream). Everything else is embryonic: SYNs, a SYN-ACK not yet acknowledged,
 * one-way traffic, refused flows, orphan RSTs; those go first when the table is full.
 */
static __always_inline int ct_assured(__u32 st)
{
	__u32 two_way = CT_ST_LETTER(CT_EP_LO, CT_L_ACK) | CT_ST_LETTER(CT_EP_LO, CT_L_DATA) |
			CT_ST_LETTER(CT_EP_LO, CT_L_FIN);

	return (st & CT_ST_CT) || ((st & two_way) && (st & (two_way << 8)));
}

#endif /* CT_LOGIC_H */
