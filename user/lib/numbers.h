/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * numbers.h - numbers from text, with their whole range checked. Nothing closetrace-specific.
 */
#ifndef CT_NUMBERS_H
#define CT_NUMBERS_H

#include <linux/types.h>

/* Parse a whole decimal number in [min, max]; 0 on success, -1 otherwise. */
int ct_parse_long(const char *s, long min, long max, long *out);

/* Parse seconds (a decimal fraction) in [min, max] into ns; 0, or -1. */
int ct_parse_secs(const char *s, double min, double max, __u64 *ns);

#endif /* CT_NUMBERS_H */
