/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * output.h - decides which records a run prints (abnormal closes, --all, or the final
 * per-flow table, through the filter) and writes them as whole lines (format.h): live,
 * straight into stdout's queue, handed to its thread a batch at a time
 * (ct_output_flush()); or to a file or the journal (sink.h).
 */
#ifndef CT_OUTPUT_H
#define CT_OUTPUT_H

#include <stdio.h>
#include <sys/types.h>

#include "format.h"
#include "record.h"

struct ct_filter;

enum ct_format { CT_FMT_TEXT = 0, CT_FMT_JSON, CT_FMT_JOURNAL, CT_FMT_NONE };

struct ct_file;
struct ct_writer;

struct ct_output {
	FILE *out;
	enum ct_format fmt;
	int all;		/* closes of every kind, not only abnormal ones */
	int flows;		/* print each flow's final record instead of closes */
	struct ct_text_layout layout;	/* text: the columns */
	char *const *labels;		/* text: names shown as #1, #2, ... */
	int nlabels;
	struct ct_filter *filter;	/* -f: only records that pass it (owned) */
	struct ct_file *file;	/* --output-file: lines go there instead of out */
	struct ct_writer *writer;	/* live: stdout through a queue that never blocks */
	int queue;		/* ... started with the first record printed */
	int header_done;
	unsigned long long printed;
	int error;		/* a write failed (EPIPE when the reader went away) */
};

/* What an output is asked for (the commands fill it from their options). */
struct ct_output_opts {
	enum ct_format fmt;
	int all;			/* closes of every kind, not only abnormal ones */
	int final;			/* each flow's final record instead of closes */
	int wide;			/* text: every column, IPv6-wide (-w) */
	unsigned int iface_width;	/* text: the IFACE column (0: none) */
	int reasons;			/* text: the REASON column */
	int apps;			/* text: the APP column */
	/* text: names (captures) shown as their labels #1, #2, ... in the IFACE column */
	char *const *labels;
	int nlabels;
	struct ct_filter *filter;	/* -f (owned by the caller) */
	const char *file;		/* --output-file, or NULL: stdout */
	__u64 rotate_size;		/* --output-rotate SIZE[,KEEP] */
	int rotate_keep;
	int user;			/* the file is chowned to uid/gid (--user) */
	uid_t uid;
	gid_t gid;
};

/*
 * Set @o up as @opts ask: format, selection, and the output file (opened now, so that an
 * unwritable file is said before anything is attached). @live: stdout never blocks the
 * session (a queue and a thread; what does not fit is dropped whole, counted); replay
 * instead waits for its reader. 0, or -1 after saying why. ct_output_close() closes the
 * file, and gives stdout's queue half a second to go out.
 */
int ct_output_open(struct ct_output *o, const struct ct_output_opts *opts, int live);

/* The record callbacks (struct ct_rec_out) of output @ctx. */
int ct_output_take(void *ctx, const struct ct_record *r);
void ct_output_batch_end(void *ctx);
void ct_output_close(struct ct_output *o);

/* Print @r if this output wants it (its kind, then the filter); returns -1 once writing
 * has failed. */
int ct_output_record(struct ct_output *o, const struct ct_record *r);
/* The end of a batch of records (a drain of the ring buffer): lines queued go out now. */
void ct_output_flush(struct ct_output *o);

#endif /* CT_OUTPUT_H */
