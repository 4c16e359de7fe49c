// SPDX-License-Identifier: BSD-3-Clause
/*
 * top.c - `closetrace top`: servers, clients or flows ranked by RSTs, refusals, FINs and
 * SYNs per connection, refreshed every -d seconds, with RST per connection over time.
 * Live on interfaces (the watch session underneath), or over a capture (-r, through the
 * replay engine). Interactive with ncurses, or batch frames (-b) for pipes.
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ncurses.h>

#include "agg.h"
#include "classify.h"
#include "cli.h"
#include "filter.h"
#include "live.h"
#include "log.h"
#include "output.h"
#include "replay.h"
#include "topview.h"

#define CT_TOP_DEFAULT_WINDOW_S 60

struct top {
	struct ct_view v;
	struct ct_agg *agg;
	struct ct_live live;
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
	int help;
	int editing;
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
	/* replay: the capture's span */
	__u64 t0, t1;
	int row;		/* screen row being drawn */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: closetrace top -i IFACE[,IFACE...] [OPTIONS]\n"
		"       closetrace top -r FILE [OPTIONS]\n"
		"\n"
		"A top-like view of how TCP connections end: servers, server IPs, client IPs or\n"
		"flows ranked by RSTs, refusals, resets, FINs and SYNs per connection, with RST\n"
		"per connection over time. Live needs root, like watch.\n"
		"\n"
		"Options:\n"
		"  -i, --interface LIST   interfaces to watch, comma-separated (repeatable)\n"
		"  -r, --read FILE        a pcap / pcapng capture instead, through replay\n"
		"  -m, --mode MODE        tc (default) or xdp, as for watch\n"
		"  -d, --delay SECS       refresh every SECS (default 1; 0.1 to 3600)\n"
		"  -g, --group BY         server (default), server-ip, client-ip or flow\n"
		"  -s, --sort COL         the column to rank by (default RST.S): CONN CT SYN/C\n"
		"                         FIN.C FIN.S RST.C RST.S REFUSED RESETS FINRST UNANS\n"
		"                         RST/C LAST\n"
		"  -f, --filter EXPR      only flows matching EXPR (README, \"Filters\")\n"
		"      --window SECS      ended flows count this long (default %d)\n"
		"  -b, --batch            plain-text frames on stdout, no screen, like top -b\n"
		"  -n, --frames N         stop after N frames (batch: default 1 with -r)\n"
		"      --rows N           table rows per frame (default: what fits; batch: all)\n"
		"      --syn-timeout SECS, --idle-timeout SECS, --flows N   as for watch\n"
		"  -h, --help             this text\n"
		"\n"
		"Keys: < > sort column, g grouping, / filter, p pause, r reset, arrows scroll,\n"
		"q quit, ? help.\n"
		"\n"
		"EXAMPLES:\n"
		"  closetrace top -i eth0                         # servers by server RST\n"
		"  closetrace top -i eth0 -g client-ip -s REFUSED # clients by refusals\n"
		"  closetrace top -i eth0 -b -n 5 -d 2 > top.txt  # five frames, 2 s apart\n"
		"  closetrace top -r trace.pcap -f 'rst.count > 0 and fin.count = 0'\n",
		CT_TOP_DEFAULT_WINDOW_S);
}

static int on_record(void *ctx, const struct ct_record *r)
{
	struct top *t = ctx;

	if (ct_agg_feed(t->agg, r, t->replay ? r->ts_ns : ct_now_ns()))
		return -1;
	if (t->replay) {
		if (!t->t0 || (r->start_ns && r->start_ns < t->t0))
			t->t0 = r->start_ns;
		if (r->ts_ns > t->t1)
			t->t1 = r->ts_ns;
	}
	return 0;
}

/* --- stderr while the screen is in use ------------------------------------------------ */

/* Messages written while the screen is ours go to a file; the last one shows as a note. */
static void errcap_begin(struct top *t)
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

static void errcap_note(struct top *t)
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
static void errcap_end(struct top *t)
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

static void batch_line(void *ctx, enum ct_line_kind kind, const char *text, size_t s, size_t l)
{
	(void)ctx;
	(void)kind;
	(void)s;
	(void)l;
	puts(text);
}

static void screen_line(void *ctx, enum ct_line_kind kind, const char *text, size_t s, size_t l)
{
	struct top *t = ctx;
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
	default:
		addstr(text);
		break;
	}
}

/* The filter being edited, and its error, at the bottom of the screen. */
static void draw_edit(struct top *t)
{
	int y = LINES - (t->ferr_set ? 3 : 1);

	if (y < 0)
		y = 0;
	move(y, 0);
	clrtobot();
	mvprintw(y, 0, "filter: %s", t->edit);
	if (t->ferr_set) {
		size_t col = strlen("filter: ") + t->ferr.pos;

		mvprintw(y + 1, (int)(col < (size_t)COLS ? col : (size_t)COLS - 1), "^");
		attron(A_BOLD);
		mvprintw(y + 2, 0, "%s", t->ferr.msg);
		attroff(A_BOLD);
	}
	move(y, (int)(strlen("filter: ") + t->edit_len));
}

static void render(struct top *t)
{
	t->v.filter = t->flt;
	t->v.filter_text = t->flt ? t->ftext : NULL;
	t->v.note = t->note[0] ? t->note : NULL;
	if (!t->curses) {
		t->v.width = 0;
		t->ngroups = ct_view_render(&t->v, t->agg, batch_line, t);
		putchar('\n');
		/* a reader that went away (| head) ends the run, quietly, as for watch */
		if (fflush(stdout) || ferror(stdout))
			t->out_gone = 1;
		return;
	}
	erase();
	t->row = 0;
	t->v.width = (size_t)COLS;
	if (t->help) {
		for (int i = 0; ct_view_help[i] && i < LINES; i++)
			mvaddnstr(i, 0, ct_view_help[i], COLS);
	} else {
		/* header, sparklines, group line, note, column titles: the rest is rows */
		int fixed = 8 + (t->editing ? (t->ferr_set ? 3 : 1) : 0);

		t->v.max_rows = LINES > fixed ? (size_t)(LINES - fixed) : 1;
		if (t->rows_opt && (size_t)t->rows_opt < t->v.max_rows)
			t->v.max_rows = (size_t)t->rows_opt;
		t->ngroups = ct_view_render(&t->v, t->agg, screen_line, t);
		if (t->v.first_row && t->v.first_row >= t->ngroups)
			t->v.first_row = t->ngroups ? t->ngroups - 1 : 0;
	}
	if (t->editing) {
		curs_set(1);
		draw_edit(t);
	} else {
		curs_set(0);
	}
	refresh();
}

static int screen_start(struct top *t)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "closetrace top: the interactive view needs a terminal; use -b for "
			"batch output\n");
		return -1;
	}
	/* newterm, unlike initscr, returns on an unknown terminal instead of exiting */
	t->screen = newterm(NULL, stdout, stdin);
	if (!t->screen) {
		fprintf(stderr, "closetrace top: cannot drive terminal '%s' (TERM); use -b for "
			"batch output\n", getenv("TERM") ? getenv("TERM") : "");
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

static void screen_end(struct top *t)
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

static void apply_filter(struct top *t)
{
	struct ct_filter *f;

	t->edit[t->edit_len] = '\0';
	if (!t->edit_len || strspn(t->edit, " \t") == t->edit_len) {
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
	ct_filter_free(t->flt);
	t->flt = f;
	snprintf(t->ftext, sizeof(t->ftext), "%s", t->edit);
	t->editing = 0;
	t->ferr_set = 0;
	t->v.first_row = 0;
}

static void edit_key(struct top *t, int ch)
{
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

/* Handle one key; returns 1 when the view must be drawn again, -1 to quit. */
static int key(struct top *t, int ch)
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
static int keys(struct top *t)
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

/* --- the two sources ------------------------------------------------------------------ */

/* A scan of the table: expiry and removal, and every flow left in it fed to the model. */
static void scan_live(struct top *t)
{
	if (!ct_live_tick(&t->live)) {
		fprintf(stderr, "closetrace: no interface left to watch\n");
		stop_signal = -1;
	}
	t->scans++;
	t->scan_failed |= t->live.scan_failed;
}

/* The end of a refresh interval: the model's sample, and the kernel's counters. */
static void tick_live(struct top *t)
{
	__u64 flows, cap;

	t->v.now_ns = ct_now_ns();
	/* eviction is told by flows no scan fed: only after whole scans */
	ct_agg_tick(t->agg, t->v.now_ns, t->flt, t->scans && !t->scan_failed);
	t->scans = 0;
	t->scan_failed = 0;
	ct_live_losses(&t->live, &t->v.events_lost, &t->v.evicted);
	ct_live_table(&t->live, &flows, &cap);
	t->v.table_flows = flows;
	t->v.table_capacity = cap;
	errcap_note(t);
}

static int run_live(struct top *t)
{
	/* the table is scanned at least once a second, whatever the refresh: expiry and
	 * removal keep their pace, and each refresh has a scan before it */
	__u64 scan_period = t->v.delay_ns < CT_SCAN_PERIOD_NS ? t->v.delay_ns : CT_SCAN_PERIOD_NS;
	__u64 next = ct_mono_ns() + t->v.delay_ns, next_scan = ct_mono_ns() + scan_period, now;
	struct pollfd pfd[2];
	int ret = 0, r;

	if (!t->batch && screen_start(t))
		return 1;
	if (t->curses)
		render(t);	/* the frame, empty until the first interval ends */
	pfd[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ct_live_fd(&t->live), .events = POLLIN };
	while (!stop_signal && !t->live.stopped && !t->out_gone) {
		__u64 due = next < next_scan ? next : next_scan;
		int wait_ms;

		now = ct_mono_ns();
		wait_ms = due > now ? (int)((due - now) / 1000000 + 1) : 0;
		wait_ms = wait_ms > 100 ? 100 : wait_ms;
		poll(t->curses ? pfd : pfd + 1, t->curses ? 2 : 1, wait_ms);
		r = ct_live_events(&t->live, 0);
		if (r < 0) {
			fprintf(stderr, "closetrace: reading events failed: %s\n", strerror(-r));
			ret = 1;
			break;
		}
		r = keys(t);
		if (r < 0)
			break;
		if (ct_mono_ns() >= next_scan || ct_mono_ns() >= next) {
			scan_live(t);
			next_scan = ct_mono_ns() + scan_period;
		}
		if (ct_mono_ns() >= next) {
			tick_live(t);
			next = ct_mono_ns() + t->v.delay_ns;
			if (!t->v.paused || !t->curses) {
				render(t);
				t->shown++;
				r = 0;
			}
			if (t->frames && t->shown >= t->frames)
				break;
		}
		if (r > 0)
			render(t);
	}
	screen_end(t);
	return ret;
}

static int run_replay(struct top *t)
{
	struct ct_replay_opts ro = { .record = on_record, .ctx = t };
	struct ct_replay *rp;
	struct ct_common co;
	char err[256];
	int ret = 0, r;

	ct_common_init(&co);
	ct_common_expiry(&co, &ro.exp);
	rp = ct_replay_new(&ro, err, sizeof(err));
	if (!rp) {
		fprintf(stderr, "closetrace: %s\n", err);
		return 1;
	}
	r = ct_replay_file(rp, t->replay);
	ret = r != 0;
	if (r >= 0)
		ret |= ct_replay_finish(rp);
	ct_replay_free(rp);
	t->v.now_ns = t->t1;
	t->v.span_ns = t->t1 > t->t0 ? t->t1 - t->t0 : 0;
	if (t->batch) {
		long n = t->frames ? t->frames : 1;

		for (long i = 0; i < n && !t->out_gone; i++)
			render(t);
		return ret;
	}
	if (screen_start(t))
		return 1;
	render(t);
	while (!stop_signal) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

		poll(&pfd, 1, 200);
		r = keys(t);
		if (r < 0)
			break;
		if (r > 0)
			render(t);
	}
	screen_end(t);
	return ret;
}

/* --- the command ---------------------------------------------------------------------- */

static int parse_secs(const char *s, double min, double max, __u64 *ns)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d) || d < min || d > max)
		return -1;
	*ns = (__u64)(d * 1e9 + 0.5);
	return 0;
}

int cmd_top(int argc, char **argv)
{
	enum { OPT_WINDOW = 256, OPT_ROWS };
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "read", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "delay", required_argument, NULL, 'd' },
		{ "group", required_argument, NULL, 'g' },
		{ "sort", required_argument, NULL, 's' },
		{ "filter", required_argument, NULL, 'f' },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "batch", no_argument, NULL, 'b' },
		{ "frames", required_argument, NULL, 'n' },
		{ "rows", required_argument, NULL, OPT_ROWS },
		{ "syn-timeout", required_argument, NULL, CT_OPT_SYN },
		{ "idle-timeout", required_argument, NULL, CT_OPT_IDLE },
		{ "flows", required_argument, NULL, CT_OPT_TABLE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct top t;
	char *names[CT_MAX_IFACES];
	struct ct_live_opts lo = { .names = names, .record = on_record, .visit = on_record };
	struct ct_output dummy = { 0 };
	struct ct_common co;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *cs;
	long n;
	int c, r, ret = 0;

	memset(&t, 0, sizeof(t));
	lo.ctx = &t;
	t.v.delay_ns = 1000000000ull;
	t.v.window_ns = CT_TOP_DEFAULT_WINDOW_S * 1000000000ull;
	t.v.sort = CT_COL_RST_SRV;
	ct_common_init(&co);
	while ((c = getopt_long(argc, argv, "i:r:m:d:g:s:f:bn:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (ct_live_add_ifaces(optarg, names, &lo.nnames))
				return ct_usage_error("top", "at most %d interfaces", CT_MAX_IFACES);
			break;
		case 'r':
			t.replay = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "tc") && strcmp(optarg, "xdp"))
				return ct_usage_error("top", "--mode takes tc or xdp, not '%s'", optarg);
			lo.xdp = !strcmp(optarg, "xdp");
			break;
		case 'd':
			if (parse_secs(optarg, 0.1, 3600, &t.v.delay_ns))
				return ct_usage_error("top", "-d takes 0.1 to 3600 seconds");
			break;
		case 'g':
			r = ct_grouping_parse(optarg);
			if (r < 0)
				return ct_usage_error("top", "-g takes server, server-ip, client-ip or "
					"flow, not '%s'", optarg);
			t.v.grouping = (enum ct_grouping)r;
			break;
		case 's':
			r = ct_col_parse(optarg);
			if (r < 0)
				return ct_usage_error("top", "-s takes a column name (CONN, RST.S, "
					"REFUSED, ...), not '%s'", optarg);
			t.v.sort = (enum ct_col)r;
			break;
		case 'f':
			ct_filter_free(t.flt);
			t.flt = ct_cli_filter("top", optarg);
			if (!t.flt)
				return 2;
			snprintf(t.ftext, sizeof(t.ftext), "%s", optarg);
			break;
		case OPT_WINDOW:
			if (parse_secs(optarg, 1, 7 * 86400, &t.v.window_ns))
				return ct_usage_error("top", "--window takes 1 to 604800 seconds");
			break;
		case 'b':
			t.batch = 1;
			break;
		case 'n':
			if (ct_parse_long(optarg, 1, 1000000000, &t.frames))
				return ct_usage_error("top", "-n takes a number of frames, 1 or more");
			break;
		case OPT_ROWS:
			if (ct_parse_long(optarg, 1, 1000000000, &n))
				return ct_usage_error("top", "--rows takes a number, 1 or more");
			t.v.max_rows = (size_t)n;
			t.rows_opt = (int)(n < 1000000 ? n : 1000000);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			r = ct_common_opt("top", c, optarg, &dummy, &co);
			if (r == 2)
				return 2;
			if (r)
				break;
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		return ct_usage_error("top", "unexpected argument '%s'", argv[optind]);
	if (!lo.nnames == !t.replay)
		return ct_usage_error("top", "give either -i IFACE or -r FILE");

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	t.v.utf8 = cs && !strcmp(cs, "UTF-8");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);

	if (t.replay) {
		t.agg = ct_agg_new(0);
		t.v.source = strrchr(t.replay, '/') ? strrchr(t.replay, '/') + 1 : t.replay;
		t.v.mode = "replay";
		t.v.replay = 1;
		if (!t.agg)
			return 1;
		ret = run_replay(&t);
		goto out;
	}

	t.agg = ct_agg_new(t.v.window_ns);
	if (!t.agg)
		return 1;
	ct_common_expiry(&co, &lo.exp);
	lo.flows = (__u32)co.table;
	lo.emit_graceful = 1;
	/* the title lists the interfaces before strtok-split names are used */
	{
		static char src[256];
		size_t off = 0;

		for (int i = 0; i < lo.nnames && off < sizeof(src); i++)
			off += (size_t)snprintf(src + off, sizeof(src) - off, "%s%s", i ? "," : "",
						names[i]);
		t.v.source = src;
	}
	t.v.mode = lo.xdp ? "xdp" : "tc";
	if (ct_live_start(&t.live, &lo, &stop_signal))
		ret = 1;
	else
		ret = run_live(&t);
	ct_live_end(&t.live, 0);
out:
	screen_end(&t);
	ct_agg_free(t.agg);
	ct_filter_free(t.flt);
	ct_filter_free(dummy.filter);
	if (stop_signal > 0)
		pr_info("stopped by signal %d\n", (int)stop_signal);
	return ret;
}
