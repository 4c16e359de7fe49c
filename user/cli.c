// SPDX-License-Identifier: BSD-3-Clause
/* cli.c - number parsing and usage errors shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "closetrace.h"
#include "filter.h"
#include "flows.h"
#include "output.h"

int ct_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int ct_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "closetrace %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see closetrace %s --help\n", cmd);
	return 2;
}

void ct_common_init(struct ct_common *co)
{
	co->syn_s = CT_DEFAULT_SYN_TIMEOUT_S;
	co->idle_s = CT_DEFAULT_IDLE_TIMEOUT_S;
	co->table = CT_DEFAULT_FLOWS;
}

int ct_common_opt(const char *cmd, int opt, const char *arg, struct ct_output *out,
		  struct ct_common *co)
{
	int fmt;

	switch (opt) {
	case 'o':
		fmt = ct_format_parse(arg);
		if (fmt < 0)
			return ct_usage_error(cmd, "-o takes text or json, not '%s'", arg);
		out->fmt = fmt;
		return 1;
	case 'a':
		out->all = 1;
		return 1;
	case 'w':
		out->wide = 1;
		return 1;
	case 'f':
		ct_filter_free(out->filter);
		out->filter = ct_cli_filter(cmd, arg);
		return out->filter ? 1 : 2;
	case CT_OPT_SYN:
		if (ct_parse_long(arg, 1, 86400, &co->syn_s))
			return ct_usage_error(cmd, "--syn-timeout takes 1 to 86400 seconds");
		return 1;
	case CT_OPT_IDLE:
		if (ct_parse_long(arg, 1, 7 * 86400, &co->idle_s))
			return ct_usage_error(cmd, "--idle-timeout takes 1 to 604800 seconds");
		return 1;
	case CT_OPT_TABLE:
		if (ct_parse_long(arg, 1024, 1 << 26, &co->table))
			return ct_usage_error(cmd, "the flow table takes 1024 to 67108864 flows");
		return 1;
	default:
		return 0;
	}
}

struct ct_filter *ct_cli_filter(const char *cmd, const char *expr)
{
	struct ct_filter_error err;
	struct ct_filter *f = ct_filter_parse(expr, &err);
	char prefix[64];

	if (!f) {
		snprintf(prefix, sizeof(prefix), "closetrace %s", cmd);
		ct_filter_perror(stderr, prefix, expr, &err);
	}
	return f;
}

void ct_common_expiry(const struct ct_common *co, struct ct_expiry *e)
{
	e->syn_timeout_ns = (__u64)co->syn_s * 1000000000ull;
	e->idle_timeout_ns = (__u64)co->idle_s * 1000000000ull;
	e->linger_ns = CT_DEFAULT_LINGER_S * 1000000000ull;
}
