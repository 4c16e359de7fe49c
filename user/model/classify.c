// SPDX-License-Identifier: BSD-3-Clause
/*
 * classify.c - close-kind names, the Zeek conn_state of a close, history letters.
 * Pure functions over the ABI types, shared by every output and unit-tested alone.
 */
#include <string.h>

#include <stdio.h>

#include "classify.h"
#include "ct_expiry.h"
#include "ct_logic.h"

static const char *const close_names[CT_CLOSE_MAX] = {
	[CT_CLOSE_NONE] = "open",
	[CT_CLOSE_GRACEFUL] = "graceful",
	[CT_CLOSE_REFUSED] = "refused",
	[CT_CLOSE_RESET_CLIENT] = "reset-client",
	[CT_CLOSE_RESET_SERVER] = "reset-server",
	[CT_CLOSE_FIN_RESET] = "fin-reset",
	[CT_CLOSE_SYN_RESET] = "syn-reset",
	[CT_CLOSE_SYNACK_RESET] = "synack-reset",
	[CT_CLOSE_ORPHAN_RST] = "orphan-rst",
	[CT_CLOSE_UNANSWERED] = "unanswered",
	[CT_CLOSE_HALF_OPEN] = "half-open",
	[CT_CLOSE_HALF_CLOSED] = "half-closed",
	[CT_CLOSE_IDLE] = "idle",
	[CT_CLOSE_MIDSTREAM] = "midstream",
};

const char *ct_close_name(unsigned int close)
{
	return close < CT_CLOSE_MAX ? close_names[close] : "?";
}

int ct_close_parse(const char *name)
{
	for (int i = 0; i < CT_CLOSE_MAX; i++)
		if (!strcmp(name, close_names[i]))
			return i;
	return -1;
}

int ct_close_abnormal(unsigned int close)
{
	return close != CT_CLOSE_NONE && close != CT_CLOSE_GRACEFUL && close != CT_CLOSE_IDLE &&
	       close != CT_CLOSE_MIDSTREAM && close < CT_CLOSE_MAX;
}

const char *ct_rst_by_name(unsigned int rst_by)
{
	switch (rst_by) {
	case CT_BY_CLT:
		return "clt";
	case CT_BY_SRV:
		return "srv";
	default:
		return "-";
	}
}

int ct_flow_midstream(const struct ct_flow *f)
{
	return ct_midstream(f->state);
}

int ct_history_first(__u64 history, int letter)
{
	for (; history; history >>= 4) {
		unsigned int code = (unsigned int)(history & 0xf) - 1;

		if (code < 2 * CT_L_MAX && (int)(code % CT_L_MAX) == letter)
			return (int)(code / CT_L_MAX);
	}
	return -1;
}

/* Zeek's TCP endpoint states, as far as the letters tell them. */
enum zeek_ep {
	Z_INACTIVE,
	Z_SYN_SENT,
	Z_SYN_ACK_SENT,
	Z_PARTIAL,
	Z_ESTABLISHED,
	Z_CLOSED,
	Z_RESET,
};

/* Position of (@ep, @letter) in the history, or -1. */
static int hist_pos(__u64 h, int ep, int letter)
{
	unsigned int want = (unsigned int)(ep * CT_L_MAX + letter);

	for (int i = 0; h; h >>= 4, i++)
		if ((unsigned int)(h & 0xf) - 1 == want)
			return i;
	return -1;
}

/*
 * The state Zeek's TCP analyzer leaves an endpoint in, from the letters:
 * - a SYN-ACK from the responder establishes both sides (the originator's own ACK does
 *   not); an originator that sent a SYN stays SYN_SENT, whatever else it sends, until then;
 * - a packet from an endpoint that saw no SYN is PARTIAL, or ESTABLISHED when it has an
 *   ACK and its peer is established (a missed SYN);
 * - FIN closes; RST resets, except that a RST from an endpoint that had closed is
 *   ignored once its peer has closed too (before or after the RST), and a FIN after an
 *   endpoint's own RST changes nothing.
 */
static enum zeek_ep zeek_endpoint(const struct ct_flow *f, int ep, int clt)
{
	__u32 st = f->state;
	int peer = !ep, srv = !clt;
	int est = ct_has(st, srv, CT_L_SYNACK);	/* the responder's SYN(-ACK) establishes */
	enum zeek_ep s;

	if (ep == clt && ct_has(st, ep, CT_L_SYN))
		s = est ? Z_ESTABLISHED : Z_SYN_SENT;
	else if (ep == clt && ct_has(st, ep, CT_L_SYNACK))
		s = Z_SYN_ACK_SENT;
	else if (ep == srv && est)
		s = Z_ESTABLISHED;
	else if (ct_has(st, ep, CT_L_ACK) || ct_has(st, ep, CT_L_DATA))
		s = est ? Z_ESTABLISHED : Z_PARTIAL;
	else
		s = Z_INACTIVE;

	if (ct_has(st, ep, CT_L_RST)) {
		int fin = hist_pos(f->history, ep, CT_L_FIN);
		int rst = hist_pos(f->history, ep, CT_L_RST);

		if (!(fin >= 0 && fin < rst && ct_has(st, peer, CT_L_FIN)))
			return Z_RESET;
		return Z_CLOSED;
	}
	if (ct_has(st, ep, CT_L_FIN))
		return Z_CLOSED;
	return s;
}

/*
 * Zeek's RSTOS0 test, /^\^?S[^HAFGIQ]*R.*\/ on the history: the originator's first letter
 * is its SYN, and it sent no SYN-ACK, ACK or FIN before its RST.
 */
static int zeek_rstos0(const struct ct_flow *f, int clt)
{
	__u64 h = f->history;
	unsigned int code = (unsigned int)(h & 0xf) - 1;

	if (code != (unsigned int)(clt * CT_L_MAX + CT_L_SYN))
		return 0;
	for (h >>= 4; h; h >>= 4) {
		code = (unsigned int)(h & 0xf) - 1;
		if ((int)(code / CT_L_MAX) != clt)
			continue;
		switch (code % CT_L_MAX) {
		case CT_L_RST:
			return 1;
		case CT_L_SYNACK:
		case CT_L_ACK:
		case CT_L_FIN:
			return 0;
		}
	}
	return 0;
}

/* Zeek's conn_state(), over the endpoint states the letters give (client = originator). */
const char *ct_zeek_state(const struct ct_flow *f)
{
	int clt = ct_client_ep(f->state), srv = !clt;
	enum zeek_ep os = zeek_endpoint(f, clt, clt), rs = zeek_endpoint(f, srv, clt);
	int o_inactive = os == Z_INACTIVE || os == Z_PARTIAL;
	int r_inactive = rs == Z_INACTIVE || rs == Z_PARTIAL;

	if (rs == Z_RESET) {
		if (os == Z_SYN_SENT || os == Z_SYN_ACK_SENT ||
		    (os == Z_RESET && !f->bytes[clt] && !f->bytes[srv]))
			return "REJ";
		return o_inactive ? "RSTRH" : "RSTR";
	}
	if (os == Z_RESET) {
		if (r_inactive)
			return zeek_rstos0(f, clt) ? "RSTOS0" : "OTH";
		return "RSTO";
	}
	if (rs == Z_CLOSED && os == Z_CLOSED)
		return "SF";
	if (os == Z_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (rs == Z_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (os == Z_SYN_SENT && rs == Z_INACTIVE)
		return "S0";
	if (os == Z_ESTABLISHED && rs == Z_ESTABLISHED)
		return "S1";
	return "OTH";
}

size_t ct_history_str(__u64 history, int client_ep, char *buf, size_t len)
{
	static const char letters[CT_L_MAX] = { 's', 'h', 'a', 'd', 'f', 'r' };
	size_t n = 0;

	if (!len)
		return 0;
	/* a snapshot may catch a letter's position claimed but not yet written: skip holes */
	for (; history && n + 1 < len; history >>= 4) {
		unsigned int code = (history & 0xf) - 1;
		char c;

		if (code >= 2 * CT_L_MAX)
			continue;
		c = letters[code % CT_L_MAX];
		if ((int)(code / CT_L_MAX) == client_ep)
			c = (char)(c - 'a' + 'A');
		buf[n++] = c;
	}
	buf[n] = '\0';
	return n;
}

static const char *const counter_names[CT_C_CLOSE_BASE] = {
	[CT_C_PACKETS] = "packets",
	[CT_C_TCP] = "tcp",
	[CT_C_OTHER] = "other",
	[CT_C_MALFORMED] = "malformed",
	[CT_C_FRAGMENT] = "fragment",
	[CT_C_VLAN] = "vlan",
	[CT_C_SYN_CLT] = "syn_clt",
	[CT_C_SYN_SRV] = "syn_srv",
	[CT_C_SYNACK_CLT] = "synack_clt",
	[CT_C_SYNACK_SRV] = "synack_srv",
	[CT_C_FIN_CLT] = "fin_clt",
	[CT_C_FIN_SRV] = "fin_srv",
	[CT_C_RST_CLT] = "rst_clt",
	[CT_C_RST_SRV] = "rst_srv",
	[CT_C_HANDSHAKES] = "handshakes",
	[CT_C_FLOWS] = "flows",
	[CT_C_RESTARTS] = "restarts",
	[CT_C_FLOW_FAIL] = "flow_fail",
	[CT_C_RB_FAIL] = "events_lost",
	[CT_C_EVICT_EMB] = "evicted_embryonic",
	[CT_C_EVICT_EST] = "evicted_established",
	[CT_C_SUMMARISED] = "summarised",
	[CT_C_STORM_FULL] = "summarised_unkeyed",
	[CT_C_OWNER_FULL] = "owners_untracked",
	[CT_C_TUN_BASE + CT_TUN_VXLAN - 1] = "tunnel_vxlan",
	[CT_C_TUN_BASE + CT_TUN_GENEVE - 1] = "tunnel_geneve",
	[CT_C_TUN_BASE + CT_TUN_GTPU - 1] = "tunnel_gtpu",
	[CT_C_TUN_BASE + CT_TUN_TEREDO - 1] = "tunnel_teredo",
	[CT_C_TUN_BASE + CT_TUN_GRE - 1] = "tunnel_gre",
	[CT_C_TUN_BASE + CT_TUN_ERSPAN - 1] = "tunnel_erspan",
};
_Static_assert(CT_C_TUN_LAST == CT_C_TUN_BASE + CT_TUN_ERSPAN - 1, "a name for each tunnel");

const char *ct_counter_name(unsigned int idx)
{
	if (idx < CT_C_CLOSE_BASE)
		return counter_names[idx];
	if (idx < CT_C_MAX)
		return ct_close_name(idx - CT_C_CLOSE_BASE);
	return "?";
}

unsigned long long ct_closes_summary(const unsigned long long *n, char *buf, size_t len)
{
	unsigned long long all = 0, abnormal = 0;
	size_t off;
	int first = 1;

	for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++) {
		all += n[k];
		abnormal += ct_close_abnormal((unsigned int)k) ? n[k] : 0;
	}
	if (!all) {
		snprintf(buf, len, "no connection ended");
		return 0;
	}
	off = (size_t)snprintf(buf, len, "%llu connection%s ended:", all, all == 1 ? "" : "s");
	for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX && off < len; k++) {
		if (!n[k])
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s %llu %s", first ? "" : ",", n[k],
					ct_close_name((unsigned int)k));
		first = 0;
	}
	if (off < len)
		snprintf(buf + off, len - off, " (%llu abnormal)", abnormal);
	return abnormal;
}
