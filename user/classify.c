// SPDX-License-Identifier: BSD-3-Clause
/*
 * classify.c - close-kind names, the Zeek conn_state of a close, history letters.
 * Pure functions over the ABI types, shared by every output and unit-tested alone.
 */
#include <string.h>

#include "classify.h"
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
	return !ct_has_any(f->state, CT_L_SYN) && !ct_has_any(f->state, CT_L_SYNACK);
}

/*
 * Zeek computes conn_state from each endpoint's TCP state at the end. A RST on a flow
 * whose start we never saw leaves both endpoints "partial" there, which Zeek reports as
 * RSTRH when the responder reset and OTH when the originator did.
 */
const char *ct_zeek_state(const struct ct_flow *f, unsigned int close)
{
	int clt = ct_client_ep(f->state);
	int mid = ct_flow_midstream(f);

	switch (close) {
	case CT_CLOSE_GRACEFUL:
		return "SF";
	case CT_CLOSE_REFUSED:
		return "REJ";
	case CT_CLOSE_RESET_CLIENT:
		return mid ? "OTH" : "RSTO";
	case CT_CLOSE_RESET_SERVER:
		return mid ? "RSTRH" : "RSTR";
	case CT_CLOSE_FIN_RESET:
		/* who reset first: the first R letter in the history */
		for (__u64 h = f->history; h; h >>= 4) {
			unsigned int code = (h & 0xf) - 1;

			if (code < 2 * CT_L_MAX && code % CT_L_MAX == CT_L_RST) {
				if ((int)(code / CT_L_MAX) == clt)
					return mid ? "OTH" : "RSTO";
				return mid ? "RSTRH" : "RSTR";
			}
		}
		return "OTH";
	case CT_CLOSE_SYN_RESET:
		return "RSTOS0";
	case CT_CLOSE_SYNACK_RESET:
		return "RSTRH";
	case CT_CLOSE_UNANSWERED:
		return "S0";
	case CT_CLOSE_HALF_OPEN:
		return ct_has(f->state, clt, CT_L_FIN) ? "SH" : "SHR";
	case CT_CLOSE_HALF_CLOSED:
		return ct_has(f->state, clt, CT_L_FIN) ? "S2" : "S3";
	case CT_CLOSE_IDLE:
		return "S1";
	case CT_CLOSE_ORPHAN_RST:
	case CT_CLOSE_MIDSTREAM:
	default:
		return "OTH";
	}
}

size_t ct_history_str(__u64 history, int client_ep, char *buf, size_t len)
{
	static const char letters[CT_L_MAX] = { 's', 'h', 'a', 'd', 'f', 'r' };
	size_t n = 0;

	if (!len)
		return 0;
	for (; history && n + 1 < len; history >>= 4) {
		unsigned int code = (history & 0xf) - 1;
		char c;

		if (code >= 2 * CT_L_MAX)
			break;
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
	[CT_C_SYN] = "syn",
	[CT_C_SYNACK] = "synack",
	[CT_C_FIN_CLT] = "fin_clt",
	[CT_C_FIN_SRV] = "fin_srv",
	[CT_C_RST_CLT] = "rst_clt",
	[CT_C_RST_SRV] = "rst_srv",
	[CT_C_HANDSHAKES] = "handshakes",
	[CT_C_FLOWS] = "flows",
	[CT_C_FLOW_FAIL] = "flow_fail",
	[CT_C_RB_FAIL] = "events_lost",
};

const char *ct_counter_name(unsigned int idx)
{
	if (idx < CT_C_CLOSE_BASE)
		return counter_names[idx];
	if (idx < CT_C_MAX)
		return ct_close_name(idx - CT_C_CLOSE_BASE);
	return "?";
}
