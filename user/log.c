// SPDX-License-Identifier: BSD-3-Clause
/* log.c - leveled logging on stderr, and libbpf's print callback demoted one level. */
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "log.h"

static int verbosity;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warnings are details of our own one-line errors: show them with -v */
	int need = level == LIBBPF_WARN ? 1 : level == LIBBPF_INFO ? 2 : 3;

	if (verbosity < need)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void ct_log_init(int v)
{
	verbosity = v;
	libbpf_set_print(libbpf_print);
}

int ct_log_verbosity(void)
{
	return verbosity;
}

void ct_log(enum ct_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > verbosity)
		return;
	fputs("closetrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
