// SPDX-License-Identifier: BSD-3-Clause
/* reasons.c - the names of reset reasons and socket states, as records show them. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "reasons.h"

static const struct ct_reasons *in_use;

static const char *const tcp_states[] = {
	"-", "established", "syn-sent", "syn-recv", "fin-wait1", "fin-wait2", "time-wait",
	"close", "close-wait", "last-ack", "listen", "closing", "new-syn-recv",
};

#define CT_ENUM_PREFIX "SK_RST_REASON_"

/*
 * The kernel's reasons (enum sk_rst_reason, 6.10 to 6.18), named for what happened, with
 * what a reader should look at: the legend of `closetrace help reasons` and of the REASON
 * column. A reason a later kernel adds is spelled from its enumerator (TCP_NEW_THING ->
 * new-thing) until it is listed here.
 */
static const struct ct_reason_word words[] = {
	{ "NO_SOCKET", "no-socket",
	  "no socket for this segment: nothing listens on the port, or the connection is gone "
	  "(a restart, a conntrack or NAT mismatch)" },
	{ "TCP_ABORT_ON_CLOSE", "closed-unread",
	  "the application closed the socket with data it had not read: a server answering "
	  "before reading the whole request, or a client giving up" },
	{ "TCP_STATE", "app-abort",
	  "the application aborted the connection (SO_LINGER 0 then close, or a disconnect): "
	  "often its own timeout" },
	{ "TCP_ABORT_ON_DATA", "data-after-close",
	  "data arrived after the application closed: the peer kept sending after our FIN" },
	{ "TCP_ABORT_ON_LINGER", "linger2-abort",
	  "closed in FIN_WAIT2 with TCP_LINGER2 < 0: the application chose to abort rather "
	  "than wait for the peer's FIN" },
	{ "TCP_ABORT_ON_MEMORY", "out-of-memory",
	  "the kernel ran short of memory for orphaned sockets (tcp_mem, too many orphans)" },
	{ "TCP_KEEPALIVE_TIMEOUT", "keepalive-timeout",
	  "keepalive probes went unanswered: the peer crashed or was unplugged, or a firewall "
	  "or NAT dropped the idle connection" },
	{ "TCP_TIMEWAIT_SOCKET", "time-wait",
	  "a segment hit a connection in TIME_WAIT that could not take it" },
	{ "TCP_DISCONNECT_WITH_DATA", "disconnect-data",
	  "the socket was disconnected while data was still queued" },
	{ "TCP_INVALID_ACK_SEQUENCE", "bad-ack",
	  "an ACK outside what was sent: sequence numbers rewritten by a middlebox, or a stale "
	  "duplicate" },
	{ "TCP_TOO_OLD_ACK", "too-old-ack", "an ACK older than the connection's window" },
	{ "TCP_OLD_ACK", "old-ack", "an ACK of data already acknowledged, in SYN_RECV" },
	{ "TCP_ACK_UNSENT_DATA", "ack-unsent-data", "an ACK of data never sent" },
	{ "TCP_RFC7323_PAWS", "paws-reject",
	  "a segment refused for its timestamp (PAWS, RFC 7323): a stale duplicate, or a peer "
	  "whose clock went back" },
	{ "TCP_FLAGS", "bad-flags", "flags that do not fit the connection's state" },
	{ "INVALID_SYN", "invalid-syn", "a SYN where none may come" },
	{ "NOT_SPECIFIED", "unspecified", "the kernel did not say" },
	{ "ERROR", "error", "an error the kernel did not name" },
	{ "MPTCP_RST_EUNSPEC", "mptcp-unspec", "MPTCP: unspecified" },
	{ "MPTCP_RST_EMPTCP", "mptcp-error", "MPTCP: an MPTCP-specific error" },
	{ "MPTCP_RST_ERESOURCE", "mptcp-resource", "MPTCP: no resources" },
	{ "MPTCP_RST_EPROHIBIT", "mptcp-prohibited", "MPTCP: administratively prohibited" },
	{ "MPTCP_RST_EWQ2BIG", "mptcp-queue-full", "MPTCP: too much data queued" },
	{ "MPTCP_RST_EBADPERF", "mptcp-bad-perf", "MPTCP: the subflow performs badly" },
	{ "MPTCP_RST_EMIDDLEBOX", "mptcp-middlebox", "MPTCP: a middlebox interfered" },
};

const struct ct_reason_word *ct_reason_words(size_t *n)
{
	*n = sizeof(words) / sizeof(words[0]);
	return words;
}

/* The enumerator without the enum's prefix: NO_SOCKET, TCP_ABORT_ON_CLOSE */
static const char *bare(const char *kernel)
{
	return strncmp(kernel, CT_ENUM_PREFIX, strlen(CT_ENUM_PREFIX)) ? kernel :
									  kernel + strlen(CT_ENUM_PREFIX);
}

void ct_reason_spell(const char *kernel, char *buf, size_t len)
{
	size_t o = 0;

	kernel = bare(kernel);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(kernel, words[i].kernel)) {
			snprintf(buf, len, "%s", words[i].name);
			return;
		}
	if (!strncmp(kernel, "TCP_", 4))
		kernel += 4;
	for (; *kernel && o + 1 < len; kernel++)
		buf[o++] = *kernel == '_' ? '-' : (char)tolower((unsigned char)*kernel);
	if (len)
		buf[o] = '\0';
}

/* @a and @b equal, case aside and '-' as '_' */
static int same_enum(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if ((*a == '-' ? '_' : toupper((unsigned char)*a)) != *b)
			return 0;
	return !*a && !*b;
}

const char *ct_reason_alias(const char *v)
{
	if (!strncasecmp(v, CT_ENUM_PREFIX, strlen(CT_ENUM_PREFIX)))
		v += strlen(CT_ENUM_PREFIX);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const char *k = words[i].kernel;

		if (same_enum(v, k) || (!strncmp(k, "TCP_", 4) && same_enum(v, k + 4)))
			return words[i].name;
	}
	return NULL;
}

int ct_reasons_name(struct ct_reasons *r, long long value, const char *kernel)
{
	/* the count of reasons, not one: the tracepoint does not print it either */
	if (value < 0 || value >= CT_REASONS_MAX || !strcmp(kernel, CT_ENUM_PREFIX "MAX"))
		return -1;
	ct_reason_spell(kernel, r->names[value], sizeof(r->names[value]));
	snprintf(r->kernel[value], sizeof(r->kernel[value]), "%s%s", CT_ENUM_PREFIX, bare(kernel));
	if ((int)value + 1 > r->nnames)
		r->nnames = (int)value + 1;
	return 0;
}

void ct_reasons_use(const struct ct_reasons *r)
{
	in_use = r;
}

const char *ct_rst_reason_name(__u8 raw)
{
	if (!raw || !in_use || raw > in_use->nnames || !in_use->names[raw - 1][0])
		return "-";
	return in_use->names[raw - 1];
}

const char *ct_rst_reason_kernel(__u8 raw)
{
	if (!raw || !in_use || raw > in_use->nnames || !in_use->kernel[raw - 1][0])
		return "-";
	return in_use->kernel[raw - 1];
}

const char *ct_rst_state_name(__u8 state)
{
	return state < sizeof(tcp_states) / sizeof(tcp_states[0]) ? tcp_states[state] : "-";
}
