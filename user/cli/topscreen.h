/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topscreen.h - the terminal side of `closetrace top`: its state, the ncurses screen (or
 * batch frames on stdout), the keys, and stderr held in a file while the screen is ours.
 * cmd_top.c feeds the model and decides when a frame is due; this draws it.
 */
#ifndef CT_TOPSCREEN_H
#define CT_TOPSCREEN_H

#include <stdio.h>

#include <ncurses.h>

#include "agg.h"
#include "filter.h"
#include "live.h"
#include "topview.h"
#include "view.h"
#include "writer.h"

struct ct_top {
	struct ct_view v;
	struct ct_agg *agg;
	struct ct_live live;
	struct ct_viewer agent;		/* ... or the agent's session, viewed */
	int batch;
	long frames;		/* -n: stop after this many; 0: never */
	long shown;
	const char *replay;	/* -r FILE */
	struct ct_filter *flt;
	char ftext[CT_FILTER_MAX_LEN + 1];
	/* interactive state */
	SCREEN *screen;
	int curses;
	int rows_opt;		/* --rows: at most this many rows on the screen too */
	int out_gone;		/* batch: stdout went away */
	/* batch: a frame is made whole in fbuf, then queued (live) or written (capture) */
	struct ct_writer *writer;
	char *fbuf;
	size_t flen, fcap;
	int fbuf_failed;	/* the frame did not fit in memory: not output */
	int help;
	int sorting;		/* the sort menu is open, @sort_sel chosen in it */
	int sort_sel;
	int editing;
	int edit_y, edit_x;	/* where the cursor goes while editing (the view says) */
	char edit[CT_FILTER_MAX_LEN + 1];
	size_t edit_len;
	struct ct_filter_error ferr;
	int ferr_set;
	size_t ngroups;
	/* stderr while the screen is ours */
	FILE *errcap;
	int saved_err;
	long errseen;
	char note[256];
	int scans, scan_failed;	/* scans since the last tick, and whether one failed */
	int live_gone;		/* no interface left to watch */
	/* replay: the capture's span */
	__u64 t0, t1;
	int row;		/* screen row being drawn */
};

/* Take the terminal (stderr goes to a file meanwhile); 0, or -1 after saying why. */
int ct_top_screen_start(struct ct_top *t);
/* Give the terminal back, and replay on stderr what was said meanwhile. */
void ct_top_screen_end(struct ct_top *t);
/*
 * Draw a frame: on the screen, or as a batch frame on stdout. A batch frame goes out
 * whole or not at all: through t->writer when there is one (live: a stalled reader
 * costs frames, counted, never the session's pace), else written at once, a stop signal
 * ending the write (a capture).
 */
void ct_top_render(struct ct_top *t);
/* Read every waiting key; returns -1 to quit, 1 to redraw, 0 otherwise. */
int ct_top_keys(struct ct_top *t);
/* The last line said on stderr since the last call becomes the frame's note. */
void ct_top_note(struct ct_top *t);

#endif /* CT_TOPSCREEN_H */
