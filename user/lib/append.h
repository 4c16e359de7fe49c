/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * append.h - the pieces of an output line written without printf: numbers, padded
 * columns, addresses, RFC 3339 times, seconds with decimals, JSON strings. Each appends
 * at @p and returns the new end; the caller has made sure the room is there (no NUL is
 * written). What they write is what the printf formats named beside them would write,
 * byte for byte: tests/test_output.c holds them to it.
 */
#ifndef CT_APPEND_H
#define CT_APPEND_H

#include <stddef.h>
#include <string.h>
#include <linux/types.h>

/* A string literal, its length known when compiling. */
#define CT_APP_LIT(p, lit) ((char *)memcpy((p), (lit), sizeof(lit) - 1) + sizeof(lit) - 1)

static inline char *ct_app_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* A short string (a name from a table): a byte at a time beats strlen() and memcpy(). */
static inline char *ct_app_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* "%llu" */
char *ct_app_u64(char *p, __u64 v);

/* "%-*s": @n bytes of @s, then spaces up to @width */
static inline char *ct_app_left(char *p, const char *s, size_t n, size_t width)
{
	p = ct_app_mem(p, s, n);
	if (n < width) {
		memset(p, ' ', width - n);
		p += width - n;
	}
	return p;
}

/* "%*s": spaces up to @width, then the @n bytes of @s */
static inline char *ct_app_right(char *p, const char *s, size_t n, size_t width)
{
	if (n < width) {
		memset(p, ' ', width - n);
		p += width - n;
	}
	return ct_app_mem(p, s, n);
}

/* Room an address takes at most: INET6_ADDRSTRLEN less its NUL. */
#define CT_APP_ADDR_MAX 45
/* What inet_ntop() writes for an address in key form (IPv4 mapped when @v4). */
char *ct_app_addr(char *p, const __u32 addr[4], int v4);

/* Room a time takes at most. */
#define CT_APP_TIME_MAX 40
/* ct_format_time(): 2026-11-23T10:00:00.123456Z, the part up to the second cached. */
char *ct_app_time(char *p, __u64 ns);

/* Room ct_app_secs() takes at most. */
#define CT_APP_SECS_MAX 32
/* "%.*f" of @ns / 1e9 as a double, @decimals being 3 or 6. */
char *ct_app_secs(char *p, __u64 ns, int decimals);

/* A JSON string of @s, quoted; '"', '\\', controls and bytes past ASCII escaped. At most
 * 2 + 6 * strlen(@s) bytes. */
char *ct_app_json_str(char *p, const char *s);

#endif /* CT_APPEND_H */
