/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * filter.h - the filter language of -f/--filter: comparisons over the probe's field names
 * (syn.count, rst.count.clt, ip.srv, close, ...), joined with and / or / not and
 * parentheses; CIDR match for addresses (ip.srv in 10.0.0.0/8). Compiled once, then
 * evaluated on records. Pure: no I/O except ct_filter_perror() and ct_filter_help().
 *
 *   expr    := or
 *   or      := and { ("or" | "||") and }
 *   and     := unary { ("and" | "&&") unary }
 *   unary   := ("not" | "!") unary | "(" or ")" | cmp
 *   cmp     := FIELD op VALUE | ADDRFIELD "in" PREFIX
 *   op      := "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
 *
 * Numbers must lie in the field's own range; strings are double-quoted (close and zeek
 * values may also be bare words) and are checked against the values the field can take;
 * addresses compare with = and != and match prefixes with "in".
 *
 * Fields mean what the NDJSON output shows (clt = the client's side, srv = the server's):
 * counts syn.count, synack.count, fin.count, rst.count are both sides' sums, ct.count is 1
 * for a completed handshake; pkts, bytes, ports and vlan are whole numbers, dur is seconds
 * with decimals, compared exactly to the nanosecond. Strings (close, zeek, rst.by, iface)
 * take = and != only, with a bare word (eth0, half-open, -) or a "string" (\" and \\
 * escape); close, zeek and rst.by accept only the values they can take. IPv4 addresses and
 * prefixes match IPv4 flows only, IPv6 ones IPv6 flows only, except IPv6 prefixes within
 * ::ffff:0:0/96 (IPv4-mapped), which match IPv4 flows: "ip.srv in 0.0.0.0/0" is every IPv4
 * flow, "ip.srv in ::/0" every IPv6 flow. Keywords are case-insensitive; &&, || and ! are
 * and, or and not; == is =.
 */
#ifndef CT_FILTER_H
#define CT_FILTER_H

#include <stddef.h>
#include <stdio.h>

#include "record.h"

#define CT_FILTER_MAX_LEN 4096		/* longest expression accepted */
#define CT_FILTER_MAX_DEPTH 64		/* deepest nesting of parentheses and not */

struct ct_filter;

struct ct_filter_error {
	size_t pos;			/* byte offset in the expression of the faulty token */
	char msg[160];			/* what was wrong, what was expected */
};

/*
 * Compile @expr. Returns the filter, or NULL with @err filled (pos and msg). An empty or
 * all-blank expression is an error (there is nothing to match).
 */
struct ct_filter *ct_filter_parse(const char *expr, struct ct_filter_error *err);
void ct_filter_free(struct ct_filter *f);

/* Whether record @r passes filter @f; a NULL filter passes everything. */
int ct_filter_match(const struct ct_filter *f, const struct ct_record *r);

/* Whether @f compares an app. field (the owner of a local socket: never in a capture). */
int ct_filter_uses_app(const struct ct_filter *f);

/*
 * Print a parse error in three lines: "PREFIX: bad filter: MSG", the expression indented,
 * and a caret under the faulty column.
 */
void ct_filter_perror(FILE *out, const char *prefix, const char *expr,
		      const struct ct_filter_error *err);

/*
 * `closetrace help filter`: every field with its type or range and meaning, the values of
 * the named ones, the operators; printed from the table the parser reads.
 */
void ct_filter_help(FILE *out);

/* The field names, for --help and completion: a NULL-terminated list. */
extern const char *const ct_filter_fields[];

#endif /* CT_FILTER_H */
