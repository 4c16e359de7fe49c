/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * text.h - text that is safe to show: names from outside escaped for a terminal, and
 * bounded appends to a buffer. Nothing closetrace-specific.
 */
#ifndef CT_TEXT_H
#define CT_TEXT_H

#include <stddef.h>

/* snprintf that appends at *@off and never runs past @len (the last byte stays NUL). */
void ct_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * @s made safe for a terminal into @buf: printable ASCII and well-formed UTF-8 pass, a
 * backslash doubles, tab and newline become \t and \n, and every other byte (controls,
 * DEL, C1 controls as UTF-8, invalid UTF-8) becomes \xNN. Cut at @len without splitting
 * an escape or a character; always terminated. Returns the bytes written.
 */
size_t ct_text_escape(const char *s, char *buf, size_t len);

/*
 * The edit distance (insertions, deletions, substitutions; case ignored) between the first
 * @na bytes of @a and @b, which must be shorter than 32 bytes.
 */
size_t ct_edit_distance(const char *a, size_t na, const char *b);

/* Which of @names (@n, each shorter than 32 bytes) the misspelt @s probably meant: within
 * two edits, and fewer than its length; -1 if none. */
int ct_nearest(const char *s, const char *const *names, size_t n);

#endif /* CT_TEXT_H */
