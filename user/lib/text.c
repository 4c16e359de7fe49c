// SPDX-License-Identifier: BSD-3-Clause
/*
 * text.c - text that is safe to show: names from outside (interfaces, files, what was
 * typed) escaped for a terminal, and bounded appends to a buffer.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

void ct_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + (size_t)n < len ? *off + (size_t)n : len - 1;
}

/*
 * The length of the well-formed UTF-8 character at @s, or 0 when it is not one or is a C1
 * control (U+0080-U+009F: some terminals take U+009B as a CSI). The ranges allowed for the
 * second byte rule out overlong forms, surrogates and code points past U+10FFFF. A NUL
 * fails the range check, so nothing past the string's end is read.
 */
static size_t utf8_char_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xc2 || s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

size_t ct_text_escape(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, in, out;
	char piece[4];

	if (!len)
		return 0;
	for (; *p; p += in) {
		in = 1;
		out = 2;
		if (*p == '\\') {
			memcpy(piece, "\\\\", 2);
		} else if (*p == '\t') {
			memcpy(piece, "\\t", 2);
		} else if (*p == '\n') {
			memcpy(piece, "\\n", 2);
		} else if (*p >= 0x20 && *p < 0x7f) {
			piece[0] = (char)*p;
			out = 1;
		} else if ((in = utf8_char_len(p)) != 0) {
			memcpy(piece, p, in);
			out = in;
		} else {
			/* a lone byte of a bad sequence: the rest is looked at on its own */
			in = 1;
			out = 4;
			piece[0] = '\\';
			piece[1] = 'x';
			piece[2] = hex[*p >> 4];
			piece[3] = hex[*p & 0xf];
		}
		/* a cut never leaves half an escape, which would read as something else */
		if (off + out >= len)
			break;
		memcpy(buf + off, piece, out);
		off += out;
	}
	buf[off] = '\0';
	return off;
}

size_t ct_edit_distance(const char *a, size_t na, const char *b)
{
	size_t nb = strlen(b), row[32], prev;

	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t sub = prev + (tolower((unsigned char)a[i - 1]) !=
					     tolower((unsigned char)b[j - 1]));
			size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;

			prev = row[j];
			row[j] = sub < best ? sub : best;
		}
	}
	return row[nb];
}

int ct_nearest(const char *s, const char *const *names, size_t n)
{
	size_t best_d = 3, len = strlen(s);
	int best = -1;

	for (size_t i = 0; i < n && len < 32; i++) {
		size_t d = ct_edit_distance(s, len, names[i]);

		if (d < best_d && d < len) {
			best_d = d;
			best = (int)i;
		}
	}
	return best;
}
