// SPDX-License-Identifier: BSD-3-Clause
/*
 * output.c - ct_output_record(), which selects records and writes them as whole lines:
 * to stdout, to a file, or to the journal. Live, a line is formatted straight into
 * stdout's queue, not copied there.
 */
#include <errno.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "filter.h"
#include "format.h"
#include "log.h"
#include "output.h"
#include "sink.h"
#include "text.h"
#include "writer.h"

/*
 * stdout's queue, live: about 33 000 JSON lines, more than the kernel's ring buffer holds
 * events (26 000). The session empties the ring buffer faster than a reader takes lines,
 * so the backlog of a burst waits here: a reader paused (or not scheduled, on a busy host)
 * for as long as the ring buffer could have covered loses nothing either.
 */
#define CT_WRITER_QUEUE (16u << 20)

int ct_output_open(struct ct_output *o, const struct ct_output_opts *c, int live)
{
	char err[512];

	*o = (struct ct_output){ .out = stdout, .fmt = c->fmt, .all = c->all, .flows = c->final,
				 .filter = c->filter,
				 .layout = { .wide = c->wide, .iface = c->iface_width,
					     .reasons = c->reasons, .apps = c->apps },
				 .labels = c->labels, .nlabels = c->nlabels };
	/* started with the first record: after the capabilities were dropped */
	o->queue = live && !c->file && (o->fmt == CT_FMT_TEXT || o->fmt == CT_FMT_JSON);
	if (!c->file)
		return 0;
	o->file = ct_file_open(c->file, c->rotate_size, c->rotate_keep, c->user, c->uid, c->gid,
			       err, sizeof(err));
	if (!o->file) {
		pr_warn("%s\n", err);
		return -1;
	}
	return 0;
}

void ct_output_close(struct ct_output *o)
{
	ct_file_close(o->file);
	o->file = NULL;
	ct_writer_stop(o->writer, 500);
	o->writer = NULL;
}

/*
 * A record's line to stdout: through the queue when live (a line that does not fit is
 * dropped, not printed); 0, or -1 once writing failed (the reader went away).
 */
static int out_line(struct ct_output *o, const char *line, size_t n)
{
	int r;

	if (!o->writer) {
		if (fwrite(line, 1, n, o->out) != n || fflush(o->out))
			return -1;
		o->printed++;
		return 0;
	}
	r = ct_writer_line(o->writer, line, n);
	if (r < 0)
		return -1;
	o->printed += !r;
	return 0;
}

/* The queue's thread, on first use: a thread keeps the capabilities it was born with. */
static int start_queue(struct ct_output *o)
{
	o->writer = ct_writer_start(STDOUT_FILENO, CT_WRITER_QUEUE);
	if (!o->writer) {
		pr_warn("cannot start the output thread: %s\n", strerror(errno));
		o->error = 1;
		return -1;
	}
	return 0;
}

/* @r with its name replaced by its label (#1, #2: a capture of several), in @copy. */
static const struct ct_record *labelled(const struct ct_output *o, const struct ct_record *r,
					struct ct_record *copy, char *label, size_t len)
{
	int found = -1;

	/* replay names a record's capture by a pointer into its argument: that one, even
	 * when two captures share a file name; else the first of that name */
	for (int i = 0; r->iface && i < o->nlabels && found < 0; i++) {
		uintptr_t at = (uintptr_t)r->iface, start = (uintptr_t)o->labels[i];

		if (at >= start && at <= start + strlen(o->labels[i]))
			found = i;
	}
	for (int i = 0; r->iface && i < o->nlabels && found < 0; i++) {
		const char *base = strrchr(o->labels[i], '/') ? strrchr(o->labels[i], '/') + 1 :
								o->labels[i];

		if (!strcmp(base, r->iface) || !strcmp(o->labels[i], r->iface))
			found = i;
	}
	if (found < 0)
		return r;
	snprintf(label, len, "#%d", found + 1);
	*copy = *r;
	copy->iface = label;
	return copy;
}

int ct_output_record(struct ct_output *o, const struct ct_record *r)
{
	char line[16384];	/* the longest record: an escaped 255-byte file name, an
				 * escaped 512-byte cgroup path twice (cgroups.c) */
	struct ct_record copy;
	char label[16];
	size_t n;

	if (o->error)
		return -1;
	if (o->fmt == CT_FMT_NONE)
		return 0;
	/* summaries and losses go out whatever is selected: they stand for closes */
	if (r->type == CT_REC_SUMMARY || r->type == CT_REC_LOSS)
		;
	else if (o->flows ? r->type != CT_REC_FLOW : r->type != CT_REC_CLOSE)
		return 0;
	else if (!o->flows && !o->all && !ct_close_abnormal(r->close))
		return 0;
	if (r->type == CT_REC_LOSS && o->fmt == CT_FMT_TEXT && !o->file)
		return 0;	/* on a terminal, stderr says it already */
	if (o->filter && r->type != CT_REC_LOSS && !ct_filter_match(o->filter, r))
		return 0;
	if (o->fmt == CT_FMT_JOURNAL) {
		/* the wide text line is the message; a refused record is counted in sink.c */
		struct ct_text_layout wide = { .wide = 1, .reasons = o->layout.reasons,
					       .apps = o->layout.apps || o->layout.reasons,
					       .iface = ct_text_name_width(r->iface ? r->iface : "-") };

		ct_format_text(r, &wide, line, sizeof(line));
		o->printed += !ct_journal_write(r, line);
		return 0;
	}
	if (o->queue && !o->writer && start_queue(o))
		return -1;
	if (o->fmt == CT_FMT_TEXT && o->nlabels)
		r = labelled(o, r, &copy, label, sizeof(label));
	if (o->fmt == CT_FMT_TEXT && (o->file ? ct_file_empty(o->file) : !o->header_done)) {
		n = ct_format_text_header(&o->layout, line, sizeof(line));
		if (o->file)
			ct_file_write(o->file, line, n);
		else if (o->writer)
			ct_writer_line(o->writer, line, n);
		else if (fwrite(line, 1, n, o->out) != n)
			o->error = 1;
		o->header_done = 1;
	}
	/*
	 * Live stdout: written where it is queued. Not when the queue may not have the room
	 * (below, it is dropped if it has not), nor when it may be longer than line[] (cut).
	 */
	if (o->writer && !o->file && (n = ct_format_room(r)) < sizeof(line)) {
		char *at;
		int q = ct_writer_room(o->writer, n, &at);

		if (q < 0) {
			o->error = 1;
			return -1;
		}
		if (!q) {
			n = (size_t)((o->fmt == CT_FMT_JSON ? ct_format_json_at(r, at) :
							      ct_format_text_at(r, &o->layout, at)) - at);
			ct_writer_commit(o->writer, n);
			o->printed++;
			return 0;
		}
	}
	if (o->fmt == CT_FMT_JSON)
		n = ct_format_json(r, line, sizeof(line));
	else
		n = ct_format_text(r, &o->layout, line, sizeof(line));
	/* a file drops what it cannot write and goes on; stdout gone ends the run */
	if (o->file) {
		o->printed += !ct_file_write(o->file, line, n);
		return 0;
	}
	if (o->error || out_line(o, line, n)) {
		o->error = 1;
		return -1;
	}
	return 0;
}

void ct_output_flush(struct ct_output *o)
{
	if (o->writer)
		ct_writer_flush(o->writer);
}

int ct_output_take(void *ctx, const struct ct_record *r)
{
	return ct_output_record(ctx, r);
}

void ct_output_batch_end(void *ctx)
{
	ct_output_flush(ctx);
}
