// SPDX-License-Identifier: BSD-3-Clause
/*
 * numbers.c - numbers from text, with their whole range checked: nothing past the number,
 * errno cleared first, the bounds the caller's.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "numbers.h"

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

int ct_parse_secs(const char *s, double min, double max, __u64 *ns)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d) || d < min || d > max)
		return -1;
	*ns = (__u64)(d * 1e9 + 0.5);
	return 0;
}
