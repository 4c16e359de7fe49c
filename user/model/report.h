/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.h - one self-contained HTML file of a capture's closes: RST per connection over
 * time both ways (the article's Figure 5), closes by kind over time, the top servers and
 * client zones by server RST, the findings, a summary. Charts are SVG written here, with
 * no script: the file loads nothing (its Content-Security-Policy forbids it), opens from
 * file://, and reads without JavaScript.
 */
#ifndef CT_REPORT_H
#define CT_REPORT_H

#include <stdio.h>
#include <linux/types.h>

#include "agg.h"
#include "diagnose.h"

#define CT_REPORT_BUCKETS 60	/* points of the charts over the capture's span */

struct ct_report_in {
	const char *source;		/* the capture's name */
	__u64 t0, t1;			/* its first and last record, ns since the epoch */
	struct ct_agg *agg;		/* every close of it, fed */
	const struct ct_finding *findings;
	size_t nfindings;
	const char *version;
};

/* Write the report to @out: 0, or -1 when writing failed. */
int ct_report_html(FILE *out, const struct ct_report_in *in);

#endif /* CT_REPORT_H */
