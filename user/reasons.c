// SPDX-License-Identifier: BSD-3-Clause
/* reasons.c - the tcp_send_reset tracepoint's layout and reason names, from its format. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reasons.h"

static const struct ct_reasons *in_use;

static const char *const tcp_states[] = {
	"-", "established", "syn-sent", "syn-recv", "fin-wait1", "fin-wait2", "time-wait",
	"close", "close-wait", "last-ack", "listen", "closing", "new-syn-recv",
};

/* The offset of field @name ("field:TYPE NAME;" or "NAME[N];"), or CT_FIELD_NONE. */
static __u16 field_offset(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(text, "field:"); p; p = strstr(p + 1, "field:")) {
		const char *semi = strchr(p, ';'), *off, *q;

		if (!semi)
			break;
		/* the name ends the declaration, before ';' or '[' */
		q = memchr(p, '[', (size_t)(semi - p));
		q = q ? q : semi;
		if ((size_t)(q - p) < n || memcmp(q - n, name, n) ||
		    (q - n > p && (isalnum((unsigned char)q[-n - 1]) || q[-n - 1] == '_')))
			continue;
		off = strstr(semi, "offset:");
		if (!off || off - semi > 8)
			continue;
		return (__u16)strtoul(off + 7, NULL, 10);
	}
	return CT_FIELD_NONE;
}

void ct_reason_spell(const char *kernel, char *buf, size_t len)
{
	size_t o = 0;

	if (!strncmp(kernel, "TCP_", 4))
		kernel += 4;
	for (; *kernel && o + 1 < len; kernel++)
		buf[o++] = *kernel == '_' ? '-' : (char)tolower((unsigned char)*kernel);
	if (len)
		buf[o] = '\0';
}

int ct_reasons_parse(const char *text, struct ct_reasons *r)
{
	const char *p;

	memset(r, 0, sizeof(*r));
	r->off_state = field_offset(text, "state");
	r->off_reason = field_offset(text, "reason");
	r->off_saddr = field_offset(text, "saddr");
	r->off_daddr = field_offset(text, "daddr");
	/* the names: __print_symbolic(REC->reason, { 0, "NOT_SPECIFIED" }, { 1, ... }) */
	p = r->off_reason != CT_FIELD_NONE ? strstr(text, "__print_symbolic(REC->reason") : NULL;
	while (p && (p = strchr(p, '{'))) {
		char name[64];
		unsigned int v;
		int used = 0;

		if (sscanf(p, "{ %u , \"%63[A-Za-z0-9_]\" }%n", &v, name, &used) < 2 || !used)
			break;
		if (v < CT_REASONS_MAX) {
			ct_reason_spell(name, r->names[v], sizeof(r->names[v]));
			if ((int)v + 1 > r->nnames)
				r->nnames = (int)v + 1;
		}
		p += used;
	}
	return r->off_saddr != CT_FIELD_NONE && r->off_daddr != CT_FIELD_NONE ? 0 : -1;
}

int ct_reasons_parse_rx(const char *text, struct ct_reasons *r)
{
	r->rx_family = field_offset(text, "family");
	r->rx_sport = field_offset(text, "sport");
	r->rx_dport = field_offset(text, "dport");
	r->rx_saddr = field_offset(text, "saddr");
	r->rx_daddr = field_offset(text, "daddr");
	r->rx_saddr6 = field_offset(text, "saddr_v6");
	r->rx_daddr6 = field_offset(text, "daddr_v6");
	return r->rx_family != CT_FIELD_NONE && r->rx_sport != CT_FIELD_NONE &&
	       r->rx_dport != CT_FIELD_NONE ? 0 : -1;
}

/* Read tracefs file @event's format into @text; 0 or -1. */
static int read_format(const char *event, char *text, size_t len)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[256];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "%s/events/tcp/%s/format", roots[i], event);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(text, 1, len - 1, f);
		fclose(f);
		text[n] = '\0';
		return 0;
	}
	return -1;
}

int ct_reasons_probe(struct ct_reasons *r, char *err, size_t errlen)
{
	static char text[16384];
	int ok;

	memset(r, 0, sizeof(*r));
	r->off_state = r->off_reason = r->off_saddr = r->off_daddr = CT_FIELD_NONE;
	ok = !read_format("tcp_send_reset", text, sizeof(text)) && !ct_reasons_parse(text, r);
	r->rx_family = r->rx_sport = r->rx_dport = r->rx_saddr = r->rx_daddr = CT_FIELD_NONE;
	r->rx_saddr6 = r->rx_daddr6 = CT_FIELD_NONE;
	if (!read_format("tcp_receive_reset", text, sizeof(text)) &&
	    ct_reasons_parse_rx(text, r)) {
		r->rx_family = r->rx_sport = r->rx_dport = CT_FIELD_NONE;
	}
	if (ok)
		return 0;
	snprintf(err, errlen, "the tcp_send_reset tracepoint is not available (kernel before "
		 "4.15, or tracefs not mounted at /sys/kernel/tracing, as under ip netns exec): "
		 "reset reasons show as -");
	return -1;
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

const char *ct_rst_state_name(__u8 state)
{
	return state < sizeof(tcp_states) / sizeof(tcp_states[0]) ? tcp_states[state] : "-";
}
