// SPDX-License-Identifier: BSD-3-Clause
/* reasons.c - the names of reset reasons and socket states, as records show them. */
#include <ctype.h>
#include <string.h>

#include "reasons.h"

static const struct ct_reasons *in_use;

static const char *const tcp_states[] = {
	"-", "established", "syn-sent", "syn-recv", "fin-wait1", "fin-wait2", "time-wait",
	"close", "close-wait", "last-ack", "listen", "closing", "new-syn-recv",
};

#define CT_ENUM_PREFIX "SK_RST_REASON_"

void ct_reason_spell(const char *kernel, char *buf, size_t len)
{
	size_t o = 0;

	if (!strncmp(kernel, CT_ENUM_PREFIX, strlen(CT_ENUM_PREFIX)))
		kernel += strlen(CT_ENUM_PREFIX);
	if (!strncmp(kernel, "TCP_", 4))
		kernel += 4;
	for (; *kernel && o + 1 < len; kernel++)
		buf[o++] = *kernel == '_' ? '-' : (char)tolower((unsigned char)*kernel);
	if (len)
		buf[o] = '\0';
}

int ct_reasons_name(struct ct_reasons *r, long long value, const char *kernel)
{
	/* the count of reasons, not one: the tracepoint does not print it either */
	if (value < 0 || value >= CT_REASONS_MAX || !strcmp(kernel, CT_ENUM_PREFIX "MAX"))
		return -1;
	ct_reason_spell(kernel, r->names[value], sizeof(r->names[value]));
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

const char *ct_rst_state_name(__u8 state)
{
	return state < sizeof(tcp_states) / sizeof(tcp_states[0]) ? tcp_states[state] : "-";
}
