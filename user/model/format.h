/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * format.h - records as aligned text or NDJSON (schema v1, see closetrace-watch(8)). Pure.
 */
#ifndef CT_FORMAT_H
#define CT_FORMAT_H

#include <stddef.h>
#include <linux/types.h>

#include "record.h"

/* Format one record; the result is always terminated and ends with '\n' unless cut. */
size_t ct_format_json(const struct ct_record *r, char *buf, size_t len);
size_t ct_format_text(const struct ct_record *r, int wide, char *buf, size_t len);
size_t ct_format_text_header(int wide, char *buf, size_t len);
/* RFC 3339 UTC with microseconds: 2026-11-23T10:00:00.123456Z */
size_t ct_format_time(__u64 ns, char *buf, size_t len);

/*
 * The most room one record's line can take, and the line written at @p unchecked (the
 * caller has that room): the end of what was written. For writing straight into a queue.
 */
size_t ct_format_room(const struct ct_record *r);
char *ct_format_json_at(const struct ct_record *r, char *p);
char *ct_format_text_at(const struct ct_record *r, int wide, char *p);

/*
 * The fields of @r, in its JSON object's order (record_fields.h, the one list of them),
 * each handed to @fn with its value as text: numbers, times, names; a string from outside
 * (an interface or file name) as it is, unescaped. Stops, returning -1, when @fn returns
 * non-zero; else 0. For sinks that take fields, as the journal does.
 */
typedef int (*ct_field_fn)(void *ctx, const char *key, const char *value);
int ct_format_fields(const struct ct_record *r, ct_field_fn fn, void *ctx);

#endif /* CT_FORMAT_H */
