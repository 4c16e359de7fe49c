/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topview.h - one frame of `closetrace top` as lines of text: the header with totals and
 * rates, the RST-per-connection sparklines, and the ranked table. The same lines go to
 * the terminal (ncurses) and to batch output (-b). No I/O: lines go to a callback.
 */
#ifndef CT_TOPVIEW_H
#define CT_TOPVIEW_H

#include <stddef.h>
#include <linux/types.h>

#include "agg.h"

/* What a line is, for the screen's attributes. */
enum ct_line_kind {
	CT_LINE_TITLE = 0,
	CT_LINE_TEXT,
	CT_LINE_SPARK,
	CT_LINE_TABLE_HEAD,	/* the column titles: the sort column is marked */
	CT_LINE_ROW,
	CT_LINE_NOTE,		/* messages, errors */
	CT_LINE_EDIT,		/* the choices' line with the filter being edited: col_start
				 * is where its text begins (the cursor's place) */
};

struct ct_view {
	/* what the frame says about the source */
	const char *source;	/* interfaces, or the capture's name */
	const char *mode;	/* "tc", "xdp", "replay" */
	int replay;		/* rates over the capture's span instead of the last interval */
	__u64 now_ns;		/* wall clock (capture time in replay) of the frame */
	__u64 delay_ns, window_ns;
	__u64 span_ns;		/* replay: the capture's length */
	/* table and counters from the kernel */
	__u64 table_flows, table_capacity, events_lost;
	__u64 evicted, evicted_est, untracked;	/* evicted: both classes */
	/* choices */
	enum ct_grouping grouping;
	enum ct_col sort;
	const char *filter_text;	/* NULL: none; the filter itself is the model's */
	/* the filter being edited beside its label, or NULL; its error under it (the caret
	 * at @edit_err_pos), or NULL */
	const char *edit, *edit_err;
	size_t edit_err_pos;
	int batch;		/* frames to a file or pipe: no key hints */
	int paused;
	int utf8;		/* block characters for the sparkline, else ASCII */
	size_t width;		/* columns; 0: unlimited (batch). Narrower than every column:
				 * the least telling ones are left out (the sort column never) */
	size_t max_rows;	/* table rows; 0: all */
	size_t first_row;	/* scrolled past this many */
	/* a message for the line above the table, or NULL; shown as it is: it is stderr's
	 * text, which ct_log has escaped, and only the screen (ncurses) shows it */
	const char *note;
};

/* Line callback: @col_start/@col_len mark the sort column on CT_LINE_TABLE_HEAD. */
typedef void (*ct_line_fn)(void *ctx, enum ct_line_kind kind, const char *text,
			   size_t col_start, size_t col_len);

/*
 * Render one frame; returns the number of rows available (the ranked groups, and (other)
 * last when it holds anything). In replay mode the history is rebuilt over the capture's
 * span for the sparkline's width first. A line under the totals says what the caps
 * folded, when they did.
 */
size_t ct_view_render(const struct ct_view *v, struct ct_agg *a, ct_line_fn emit, void *ctx);

/* Whether the frame has the caps' line (the screen counts its fixed lines with it). */
int ct_view_capped(struct ct_agg *a);

/*
 * One sparkline: @n values scaled to @max (0: their own maximum) as 8 levels, a blank for
 * 0; UTF-8 blocks or ASCII. Returns the bytes written; @buf is always terminated.
 */
size_t ct_sparkline(const double *vals, size_t n, double max, int utf8, char *buf, size_t len);

/* The RST-per-connection series of @side (0 client, 1 server) of samples: RSTs over new
 * connections, an interval without new connection counting its RSTs over one. */
double ct_sample_rst_per_conn(const struct ct_sample *s, int side);

/* What column @c counts, in a few words (the sort menu). */
const char *ct_view_col_what(enum ct_col c);

/* The help screen's lines, NULL-terminated. */
extern const char *const ct_view_help[];

#endif /* CT_TOPVIEW_H */
