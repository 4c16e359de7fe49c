// SPDX-License-Identifier: BSD-3-Clause
/*
 * topscreen.c - `closetrace top` on a terminal: ncurses drawing of the view's lines, the
 * keys (sort, grouping, filter editing, scrolling, pause, reset, help), batch frames, and
 * stderr captured while the screen is in use so that messages do not tear it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ncurses.h>

#include "text.h"
#include "topscreen.h"

/* --- stderr while the screen is in use ------------------------------------------------ */

/* Messages written while the screen is ours go to a file; the last one shows as a note. */
static void errcap_begin(struct ct_top *t)
{
	fflush(stderr);
	t->errcap = tmpfile();
	t->saved_err = t->errcap ? dup(STDERR_FILENO) : -1;
	if (t->saved_err < 0 || dup2(fileno(t->errcap), STDERR_FILENO) < 0) {
		if (t->saved_err >= 0)
			close(t->saved_err);
		if (t->errcap)
			fclose(t->errcap);
		t->errcap = NULL;
	}
}

void ct_top_note(struct ct_top *t)
{
	char buf[4096];
	long end;
	size_t n;

	if (!t->errcap)
		return;
	fflush(stderr);
	end = lseek(fileno(t->errcap), 0, SEEK_END);
	if (end <= t->errseen)
		return;
	n = (size_t)(end - t->errseen) < sizeof(buf) - 1 ? (size_t)(end - t->errseen) :
							    sizeof(buf) - 1;
	if (pread(fileno(t->errcap), buf, n, end - (long)n) <= 0)
		return;
	buf[n] = '\0';
	t->errseen = end;
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	snprintf(t->note, sizeof(t->note), "%.*s", (int)sizeof(t->note) - 1,
		 strrchr(buf, '\n') ? strrchr(buf, '\n') + 1 : buf);
}

/* Give stderr back and replay on it what was said meanwhile. */
static void errcap_end(struct ct_top *t)
{
	char buf[4096];
	ssize_t n;
	off_t off = 0;

	if (!t->errcap)
		return;
	fflush(stderr);
	dup2(t->saved_err, STDERR_FILENO);
	close(t->saved_err);
	while ((n = pread(fileno(t->errcap), buf, sizeof(buf), off)) > 0) {
		fwrite(buf, 1, (size_t)n, stderr);
		off += n;
	}
	fclose(t->errcap);
	t->errcap = NULL;
}

/* --- drawing ---------------------------------------------------------------------------- */

/* A line of a batch frame, into the frame's buffer. */
static void batch_line(void *ctx, enum ct_line_kind kind, const char *text, size_t s, size_t l)
{
	struct ct_top *t = ctx;
	size_t n = strlen(text) + 1;

	(void)kind;
	(void)s;
	(void)l;
	if (t->fbuf_failed)
		return;
	if (t->flen + n > t->fcap) {
		size_t cap = t->fcap ? t->fcap : 65536;
		char *b;

		while (cap < t->flen + n)
			cap *= 2;
		b = realloc(t->fbuf, cap);
		if (!b) {
			t->fbuf_failed = 1;
			return;
		}
		t->fbuf = b;
		t->fcap = cap;
	}
	memcpy(t->fbuf + t->flen, text, n - 1);
	t->fbuf[t->flen + n - 1] = '\n';
	t->flen += n;
}

/* Write the frame at once (a capture): 0, or -1 when stdout failed or a signal came. */
static int write_frame(const char *buf, size_t n)
{
	while (n) {
		ssize_t r = write(STDOUT_FILENO, buf, n);

		if (r < 0 && errno == EINTR && !ct_stop_signal)
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

static void batch_frame(struct ct_top *t)
{
	t->flen = 0;
	t->fbuf_failed = 0;
	t->v.width = 0;
	t->v.batch = 1;
	t->ngroups = ct_view_render(&t->v, t->agg, batch_line, t);
	batch_line(t, CT_LINE_TEXT, "", 0, 0);
	if (t->fbuf_failed) {
		fprintf(stderr, "closetrace top: a frame did not fit in memory: not shown\n");
		return;
	}
	/* a reader that went away (| head) ends the run, quietly, as for watch */
	if (t->writer ? ct_writer_line(t->writer, t->fbuf, t->flen) < 0 :
			write_frame(t->fbuf, t->flen))
		t->out_gone = 1;
}

static void screen_line(void *ctx, enum ct_line_kind kind, const char *text, size_t s, size_t l)
{
	struct ct_top *t = ctx;
	int row = t->row++;

	if (row >= LINES)
		return;
	move(row, 0);
	clrtoeol();
	switch (kind) {
	case CT_LINE_TITLE:
		attron(A_BOLD);
		addstr(text);
		attroff(A_BOLD);
		break;
	case CT_LINE_TABLE_HEAD:
		attron(A_REVERSE);
		addstr(text);
		for (int x = (int)strlen(text); x < COLS; x++)
			addch(' ');
		attroff(A_REVERSE);
		if (l)
			mvchgat(row, (int)s, (int)l, A_BOLD | A_UNDERLINE, 0, NULL);
		break;
	case CT_LINE_NOTE:
		attron(A_BOLD);
		addstr(text);
		attroff(A_BOLD);
		break;
	case CT_LINE_EDIT:
		addstr(text);
		t->edit_y = row;
		t->edit_x = (int)(s + l);
		break;
	default:
		addstr(text);
		break;
	}
}

/* The sort menu: every column, what it counts, the current choice marked. */
static void draw_sort_menu(struct ct_top *t)
{
	mvaddnstr(0, 0, "sort by: Up/Down and Enter, or the column's letter; Esc keeps "
		  "the current one", COLS);
	for (int c = 0; c < CT_COL_MAX && c + 2 < LINES; c++) {
		char line[160];

		snprintf(line, sizeof(line), "%s %c  %-8s %s", c == t->sort_sel ? ">" : " ",
			 'a' + c, ct_col_name((enum ct_col)c), ct_view_col_what((enum ct_col)c));
		if (c == t->sort_sel)
			attron(A_REVERSE);
		mvaddnstr(c + 2, 0, line, COLS);
		if (c == t->sort_sel)
			attroff(A_REVERSE);
	}
}

void ct_top_render(struct ct_top *t)
{
	t->v.filter_text = t->flt ? t->ftext : NULL;
	t->v.note = t->note[0] ? t->note : NULL;
	t->v.edit = t->editing ? t->edit : NULL;
	t->v.edit_err = t->editing && t->ferr_set ? t->ferr.msg : NULL;
	t->v.edit_err_pos = t->ferr.pos;
	if (!t->curses) {
		batch_frame(t);
		return;
	}
	erase();
	t->row = 0;
	t->v.width = (size_t)COLS;
	if (t->help) {
		for (int i = 0; ct_view_help[i] && i < LINES; i++)
			mvaddnstr(i, 0, ct_view_help[i], COLS);
	} else if (t->sorting) {
		draw_sort_menu(t);
	} else {
		/* header (and the caps' line), sparklines, group line (the filter is edited
		 * there), note (or the filter's error), column titles: the rest is rows */
		int fixed = 8 + ct_view_capped(t->agg);

		t->v.max_rows = LINES > fixed ? (size_t)(LINES - fixed) : 1;
		if (t->rows_opt && (size_t)t->rows_opt < t->v.max_rows)
			t->v.max_rows = (size_t)t->rows_opt;
		t->ngroups = ct_view_render(&t->v, t->agg, screen_line, t);
		if (t->v.first_row && t->v.first_row >= t->ngroups)
			t->v.first_row = t->ngroups ? t->ngroups - 1 : 0;
	}
	if (t->editing && !t->help) {
		curs_set(1);
		move(t->edit_y, t->edit_x < COLS ? t->edit_x : COLS - 1);
	} else {
		curs_set(0);
	}
	refresh();
}

int ct_top_screen_start(struct ct_top *t)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "closetrace top: the interactive view needs a terminal; use -b for "
			"batch output\n");
		return -1;
	}
	/* newterm, unlike initscr, returns on an unknown terminal instead of exiting */
	t->screen = newterm(NULL, stdout, stdin);
	if (!t->screen) {
		char term[256];

		ct_text_escape(getenv("TERM") ? getenv("TERM") : "", term, sizeof(term));
		fprintf(stderr, "closetrace top: cannot drive terminal '%s' (TERM); use -b for "
			"batch output\n", term);
		return -1;
	}
	set_term(t->screen);
	errcap_begin(t);
	t->curses = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	return 0;
}

void ct_top_screen_end(struct ct_top *t)
{
	if (!t->curses)
		return;
	curs_set(1);
	endwin();
	delscreen(t->screen);
	t->screen = NULL;
	t->curses = 0;
	errcap_end(t);
}

/* --- keys ----------------------------------------------------------------------------- */

static void apply_filter(struct ct_top *t)
{
	struct ct_filter *f;

	t->edit[t->edit_len] = '\0';
	if (!t->edit_len || strspn(t->edit, " \t") == t->edit_len) {
		ct_agg_set_filter(t->agg, NULL);
		ct_filter_free(t->flt);
		t->flt = NULL;
		t->editing = 0;
		t->ferr_set = 0;
		return;
	}
	f = ct_filter_parse(t->edit, &t->ferr);
	if (!f) {
		t->ferr_set = 1;	/* stay in the editor, error under the column */
		return;
	}
	/* the model lets go of the old filter before it is freed */
	ct_agg_set_filter(t->agg, f);
	ct_filter_free(t->flt);
	t->flt = f;
	snprintf(t->ftext, sizeof(t->ftext), "%s", t->edit);
	t->editing = 0;
	t->ferr_set = 0;
	t->v.first_row = 0;
}

static void edit_key(struct ct_top *t, int ch)
{
	/* the error was about the text as it was: it goes once the text changes */
	if (ch != '\n' && ch != '\r' && ch != KEY_ENTER)
		t->ferr_set = 0;
	switch (ch) {
	case 27:	/* Esc */
		t->editing = 0;
		t->ferr_set = 0;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		apply_filter(t);
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (t->edit_len)
			t->edit[--t->edit_len] = '\0';
		break;
	case 21:	/* ^U */
		t->edit_len = 0;
		t->edit[0] = '\0';
		break;
	default:
		if (ch >= 0x20 && ch < 0x7f && t->edit_len < sizeof(t->edit) - 1) {
			t->edit[t->edit_len++] = (char)ch;
			t->edit[t->edit_len] = '\0';
		}
		break;
	}
}

/* A key in the sort menu: move, choose (Enter or a column's letter), or leave (Esc, q). */
static int sort_key(struct ct_top *t, int ch)
{
	switch (ch) {
	case KEY_UP:
		t->sort_sel = (t->sort_sel + CT_COL_MAX - 1) % CT_COL_MAX;
		return 1;
	case KEY_DOWN:
		t->sort_sel = (t->sort_sel + 1) % CT_COL_MAX;
		return 1;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->v.sort = (enum ct_col)t->sort_sel;
		break;
	default:
		if (ch >= 'a' && ch < 'a' + CT_COL_MAX)
			t->v.sort = (enum ct_col)(ch - 'a');
		else if (ch >= 'A' && ch < 'A' + CT_COL_MAX)
			t->v.sort = (enum ct_col)(ch - 'A');
		else if (ch != 27 && ch != 'q')
			return 0;
		break;
	}
	t->sorting = 0;
	t->v.first_row = 0;
	return 1;
}

/* Handle one key; returns 1 when the view must be drawn again, -1 to quit. */
static int key(struct ct_top *t, int ch)
{
	if (ch == KEY_RESIZE)
		return 1;
	if (t->editing) {
		edit_key(t, ch);
		return 1;
	}
	if (t->help) {
		t->help = 0;
		return ch == 'q' ? -1 : 1;
	}
	if (t->sorting)
		return sort_key(t, ch);
	switch (ch) {
	case 'q':
	case 'Q':
		return -1;
	case '<':
	case ',':
		t->v.sort = (enum ct_col)((t->v.sort + CT_COL_MAX - 1) % CT_COL_MAX);
		break;
	case '>':
	case '.':
		t->v.sort = (enum ct_col)((t->v.sort + 1) % CT_COL_MAX);
		break;
	case 's':
	case 'S':
		t->sorting = 1;
		t->sort_sel = (int)t->v.sort;
		break;
	case 'g':
		t->v.grouping = (enum ct_grouping)((t->v.grouping + 1) % CT_G_MAX);
		t->v.first_row = 0;
		break;
	case '/':
		t->editing = 1;
		t->ferr_set = 0;
		snprintf(t->edit, sizeof(t->edit), "%s", t->flt ? t->ftext : "");
		t->edit_len = strlen(t->edit);
		break;
	case 'p':
	case ' ':
		t->v.paused = !t->v.paused;
		break;
	case 'r':
		ct_agg_reset(t->agg);
		t->note[0] = '\0';
		break;
	case '?':
	case 'h':
		t->help = 1;
		break;
	case KEY_DOWN:
		t->v.first_row += t->v.first_row + 1 < t->ngroups;
		break;
	case KEY_UP:
		t->v.first_row -= t->v.first_row > 0;
		break;
	case KEY_NPAGE:
		t->v.first_row += t->v.max_rows;
		if (t->v.first_row >= t->ngroups)
			t->v.first_row = t->ngroups ? t->ngroups - 1 : 0;
		break;
	case KEY_PPAGE:
		t->v.first_row = t->v.first_row > t->v.max_rows ? t->v.first_row - t->v.max_rows : 0;
		break;
	case KEY_HOME:
		t->v.first_row = 0;
		break;
	default:
		return 0;
	}
	return 1;
}

/* Read every waiting key; returns -1 to quit, 1 to redraw, 0 otherwise. */
int ct_top_keys(struct ct_top *t)
{
	int ch, r, redraw = 0;

	if (!t->curses)
		return 0;
	while ((ch = getch()) != ERR) {
		r = key(t, ch);
		if (r < 0)
			return -1;
		redraw |= r;
	}
	return redraw;
}

