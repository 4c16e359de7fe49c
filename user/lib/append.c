// SPDX-License-Identifier: BSD-3-Clause
/*
 * append.c - numbers, addresses, times and JSON strings appended to a line without printf,
 * which costs a microsecond a record. Where printf's rounding cannot be had cheaply for
 * sure (seconds of extreme durations), printf itself is asked.
 */
#include <stdio.h>
#include <time.h>

#include "append.h"

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";
static const char hex_digits[] = "0123456789abcdef";

char *ct_app_u64(char *p, __u64 v)
{
	static const __u64 pow10[] = {
		10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
		1000000000000ull, 10000000000000ull, 100000000000000ull, 1000000000000000ull,
		10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
		10000000000000000000ull,
	};
	unsigned int n = 1;
	char *end;

	if (v < 10) {		/* most counts */
		*p = (char)('0' + v);
		return p + 1;
	}
	while (n <= sizeof(pow10) / sizeof(pow10[0]) && v >= pow10[n - 1])
		n++;
	end = p + n;
	/* from the end, two digits a division: half the divisions of one at a time */
	p = end;
	while (v >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(p - 2, digit_pairs + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
	return end;
}

/* @v < 100 as exactly two digits. */
static char *app_2digits(char *p, unsigned int v)
{
	memcpy(p, digit_pairs + 2 * v, 2);
	return p + 2;
}

/* "%u" of a byte, for dotted quads */
static char *app_u8(char *p, unsigned int v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		return app_2digits(p, v % 100);
	}
	if (v >= 10)
		return app_2digits(p, v);
	*p++ = (char)('0' + v);
	return p;
}

static char *app_v4(char *p, const unsigned char *b)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = app_u8(p, b[i]);
	}
	return p;
}

/* "%x" of a 16-bit group */
static char *app_hex16(char *p, unsigned int v)
{
	int shift = 12;

	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hex_digits[(v >> shift) & 0xf];
	return p;
}

/*
 * IPv6 as inet_ntop() writes it: groups in lower-case hex without leading zeros; the
 * longest run of two or more zero groups (the first of runs as long) written "::"; and an
 * address of six zero groups then 32 bits (IPv4-compatible), or of five, then ffff, then
 * 32 bits (IPv4-mapped), written with its last 32 bits as a dotted quad.
 */
static char *app_v6(char *p, const unsigned char *b)
{
	unsigned int g[8];
	int run = -1, runlen = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned int)b[2 * i] << 8 | b[2 * i + 1];
	for (int i = 0, j; i < 8; i = j + 1) {
		for (j = i; j < 8 && !g[j]; j++)
			;
		if (j - i > runlen) {
			run = i;
			runlen = j - i;
		}
	}
	if (runlen < 2)
		run = -1;
	for (int i = 0; i < 8; i++) {
		if (run >= 0 && i >= run && i < run + runlen) {
			if (i == run)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && run == 0 && (runlen == 6 || (runlen == 5 && g[5] == 0xffff)))
			return app_v4(p, b + 12);
		p = app_hex16(p, g[i]);
	}
	if (run >= 0 && run + runlen == 8)
		*p++ = ':';
	return p;
}

char *ct_app_addr(char *p, const __u32 addr[4], int v4)
{
	const unsigned char *b = (const unsigned char *)addr;

	return v4 ? app_v4(p, b + 12) : app_v6(p, b);
}

/*
 * The date and time to the second, as text, for the last seconds seen: a line has two
 * times (its end and its start), a burst of closes shares a few seconds, and gmtime_r()
 * takes a lock. Direct-mapped by second; per thread, so that no thread waits on another.
 */
#define TIME_SLOTS 64
#define TIME_SEC_LEN 19		/* 2026-11-23T10:00:00: any __u64 of ns is in 1970-2554 */

struct time_slot {
	__u64 key;		/* the second + 1; 0: empty */
	unsigned char len;	/* of text, TIME_SEC_LEN; 0: gmtime_r() could not tell */
	char text[CT_APP_TIME_MAX];
};

static _Thread_local struct time_slot time_slots[TIME_SLOTS];

char *ct_app_time(char *p, __u64 ns)
{
	__u64 sec = ns / 1000000000ull;
	unsigned int us = (unsigned int)(ns % 1000000000ull / 1000);
	struct time_slot *t = &time_slots[sec % TIME_SLOTS];

	if (t->key != sec + 1) {
		time_t s = (time_t)sec;
		struct tm tm;
		int n = 0;

		/* once a second: printf here costs nothing, and writes what it always did */
		if (gmtime_r(&s, &tm))
			n = snprintf(t->text, sizeof(t->text), "%04d-%02d-%02dT%02d:%02d:%02d",
				     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				     tm.tm_min, tm.tm_sec);
		t->len = n == TIME_SEC_LEN ? (unsigned char)n : 0;
		t->key = sec + 1;
	}
	if (!t->len) {
		*p++ = '-';
		return p;
	}
	p = ct_app_mem(p, t->text, TIME_SEC_LEN);
	*p++ = '.';
	p = app_2digits(p, us / 10000);
	p = app_2digits(p, us / 100 % 100);
	p = app_2digits(p, us % 100);
	*p++ = 'Z';
	return p;
}

char *ct_app_secs(char *p, __u64 ns, int decimals)
{
	__u64 unit = decimals == 6 ? 1000 : 1000000, q = ns / unit, r = ns % unit;
	__u64 per_sec = 1000000000ull / unit, frac;

	/*
	 * Below 1e15 ns the double is exact before the division and within 1.2e-10 s of
	 * @ns / 1e9 after it, while a value that is not exactly half-way between two results
	 * is at least 1e-9 s from it: printf's rounding of the double is the integer one.
	 * Otherwise (exactly half-way, or 1e6 s, 11.6 days, and more) printf decides.
	 */
	if (ns >= 1000000000000000ull || 2 * r == unit || (decimals != 3 && decimals != 6)) {
		int n = snprintf(p, CT_APP_SECS_MAX, "%.*f", decimals, (double)ns / 1e9);

		return p + (n > 0 ? (n < CT_APP_SECS_MAX ? n : CT_APP_SECS_MAX - 1) : 0);
	}
	q += 2 * r > unit;
	p = ct_app_u64(p, q / per_sec);
	*p++ = '.';
	frac = q % per_sec;
	if (decimals == 6) {
		p = app_2digits(p, (unsigned int)(frac / 10000));
		p = app_2digits(p, (unsigned int)(frac / 100 % 100));
		return app_2digits(p, (unsigned int)(frac % 100));
	}
	*p++ = (char)('0' + frac / 100);
	return app_2digits(p, (unsigned int)(frac % 100));
}

char *ct_app_json_str(char *p, const char *s)
{
	*p++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\') {
			*p++ = (char)*c;
			continue;
		}
		*p++ = '\\';
		if (*c == '"' || *c == '\\') {
			*p++ = (char)*c;
		} else if (*c == '\n') {
			*p++ = 'n';
		} else if (*c == '\t') {
			*p++ = 't';
		} else {
			/* names need not be UTF-8: every byte past ASCII keeps JSON valid */
			p = CT_APP_LIT(p, "u00");
			*p++ = hex_digits[*c >> 4];
			*p++ = hex_digits[*c & 0xf];
		}
	}
	*p++ = '"';
	return p;
}
