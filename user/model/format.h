/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * format.h - records as aligned text or NDJSON (schema v1, see closetrace-watch(8)). Pure.
 */
#ifndef CT_FORMAT_H
#define CT_FORMAT_H

#include <stddef.h>
#include <linux/types.h>

#include "record.h"

/*
 * How text lines are laid out, decided once for an output from what it will show: the
 * narrow layout fits 120 columns with IPv4; -w adds every count, Zeek's state and history,
 * full times and IPv6-wide endpoints.
 */
struct ct_text_layout {
	int wide;
	unsigned int iface;	/* the IFACE column's width (the longest name); 0: none */
	int reasons;		/* the REASON column: live in tc mode (replay has no reasons) */
	int apps;		/* the APP column, last: live in tc mode, with -w or on a
				 * terminal wide enough for it */
};

/* Format one record; the result is always terminated and ends with '\n' unless cut. */
size_t ct_format_json(const struct ct_record *r, char *buf, size_t len);
size_t ct_format_text(const struct ct_record *r, const struct ct_text_layout *l, char *buf,
		      size_t len);
size_t ct_format_text_header(const struct ct_text_layout *l, char *buf, size_t len);
/* The width of the IFACE column for a name: its length once escaped for a terminal. */
unsigned int ct_text_name_width(const char *name);
/* RFC 3339 UTC with microseconds: 2026-11-23T10:00:00.123456Z */
size_t ct_format_time(__u64 ns, char *buf, size_t len);

/*
 * The most room one record's line can take, and the line written at @p unchecked (the
 * caller has that room): the end of what was written. For writing straight into a queue.
 */
size_t ct_format_room(const struct ct_record *r);
char *ct_format_json_at(const struct ct_record *r, char *p);
char *ct_format_text_at(const struct ct_record *r, const struct ct_text_layout *l, char *p);

/*
 * The fields of @r, in its JSON object's order (record_fields.h, the one list of them),
 * each handed to @fn with its value as text: numbers, times, names; a string from outside
 * (an interface or file name) as it is, unescaped. Stops, returning -1, when @fn returns
 * non-zero; else 0. For sinks that take fields, as the journal does.
 */
typedef int (*ct_field_fn)(void *ctx, const char *key, const char *value);
int ct_format_fields(const struct ct_record *r, ct_field_fn fn, void *ctx);

#endif /* CT_FORMAT_H */
