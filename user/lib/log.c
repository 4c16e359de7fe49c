// SPDX-License-Identifier: BSD-3-Clause
/*
 * log.c - leveled logging on stderr, made safe for a terminal (messages embed file and
 * interface names), and libbpf's print callback demoted one level.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "log.h"
#include "text.h"

static int verbosity;
static int probing;	/* ct_log_probe(): libbpf's refusals are expected answers */
static int quiet;	/* -q: no notes */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warnings are details of our own one-line errors: show them with -v */
	int need = level == LIBBPF_WARN ? 1 : level == LIBBPF_INFO ? 2 : 3;

	if (probing && need < 3)
		need = 3;	/* a probe's refusal is no warning: only -vvv shows it */
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

void ct_log_quiet(int q)
{
	quiet = q;
}

int ct_log_probe(int on)
{
	int was = probing;

	probing = on;
	return was;
}

/*
 * Write "closetrace: " and @msg escaped, all but its final newline: a name's newline would
 * start what reads as another message, and its other control bytes are shown, not obeyed.
 * One write for the whole message.
 */
static void put_escaped(char *msg, size_t n)
{
	static const char prefix[] = "closetrace: ";
	char small[2048], *out = small;
	/* the worst case: each byte as \xNN */
	size_t len = sizeof(prefix) + 4 * n + 1, off = sizeof(prefix) - 1;
	int nl = n && msg[n - 1] == '\n';

	if (len > sizeof(small) && !(out = malloc(len))) {
		out = small;
		len = sizeof(small);
	}
	memcpy(out, prefix, off);
	if (nl)
		msg[n - 1] = '\0';
	off += ct_text_escape(msg, out + off, len - off - nl);
	if (nl)
		out[off++] = '\n';
	fwrite(out, 1, off, stderr);
	if (out != small)
		free(out);
}

void ct_log(enum ct_log_level lvl, const char *fmt, ...)
{
	char small[512], *msg = small;
	va_list ap;
	int n;

	if ((int)lvl > verbosity || (lvl == CT_LOG_NOTE && quiet))
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* a long message is written whole, as before; cut only when memory runs out */
	if ((size_t)n >= sizeof(small)) {
		msg = malloc((size_t)n + 1);
		if (msg) {
			va_start(ap, fmt);
			vsnprintf(msg, (size_t)n + 1, fmt, ap);
			va_end(ap);
		} else {
			msg = small;
			n = (int)sizeof(small) - 1;
		}
	}
	put_escaped(msg, (size_t)n);
	if (msg != small)
		free(msg);
}
