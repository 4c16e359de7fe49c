// SPDX-License-Identifier: BSD-3-Clause
/*
 * cmd_top.c - `closetrace top`: servers, clients or flows ranked by RSTs, refusals, FINs and
 * SYNs per connection, refreshed every -d seconds, with RST per connection over time.
 * Live on interfaces (the live session underneath), or over a capture (-r, through the
 * replay engine, with the same options replay takes). The screen is topscreen.c's.
 */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "agg.h"
#include "log.h"
#include "now.h"
#include "options.h"
#include "replay.h"
#include "topscreen.h"

/* Frames queued for stdout, live: room for two of the largest --max-groups allows. */
#define FRAME_QUEUE_MIN (4u << 20)
#define FRAME_QUEUE_MAX (64u << 20)
#define ROW_BYTES 256

static int on_record(void *ctx, const struct ct_record *r)
{
	struct ct_top *t = ctx;

	/* a capture is read to its end unless a signal says stop */
	if (t->replay && ct_stop_signal)
		return -1;
	if (ct_agg_feed(t->agg, r, t->replay ? r->ts_ns : ct_now_ns())) {
		pr_warn("out of memory: top's model cannot grow\n");
		return -1;
	}
	if (t->replay) {
		if (!t->t0 || (r->start_ns && r->start_ns < t->t0))
			t->t0 = r->start_ns;
		if (r->ts_ns > t->t1)
			t->t1 = r->ts_ns;
	}
	return 0;
}

/* --- live ---------------------------------------------------------------------------- */

/* A scan of the table: expiry and removal, and every flow left in it fed to the model. */
static void scan_live(struct ct_top *t)
{
	int failed;

	if (!ct_live_tick(&t->live, &failed))
		t->live_gone = 1;
	t->scans++;
	t->scan_failed |= failed;
}

/* The end of a refresh interval: the model's sample, and the kernel's counters. */
static void tick_live(struct ct_top *t)
{
	__u64 flows, cap;
	struct ct_loss l;

	t->v.now_ns = ct_now_ns();
	/* eviction is told by flows no scan fed: only after whole scans */
	ct_agg_tick(t->agg, t->v.now_ns, t->scans && !t->scan_failed);
	t->scans = 0;
	t->scan_failed = 0;
	if (!ct_session_losses(&t->live.s, &l)) {
		t->v.events_lost = l.events_lost;
		t->v.evicted = l.evicted_embryonic + l.evicted_established;
		t->v.evicted_est = l.evicted_established;
		t->v.untracked = l.untracked;
	}
	ct_session_table(&t->live.s, &flows, &cap);
	t->v.table_flows = flows;
	t->v.table_capacity = cap;
	ct_top_note(t);
}

/*
 * The end of a refresh interval, live or viewing: @tick's counters, then the frame (not
 * while paused on the screen); 1 once -n frames were shown.
 */
static int interval_end(struct ct_top *t, void (*tick)(struct ct_top *t), __u64 *next, int *r)
{
	tick(t);
	*next = ct_mono_ns() + t->v.delay_ns;
	if (!t->v.paused || !t->curses) {
		ct_top_render(t);
		t->shown++;
		*r = 0;
	}
	return t->frames && t->shown >= t->frames;
}

static void tick_view(struct ct_top *t);

static int run_live(struct ct_top *t)
{
	/* the table is scanned at least once a second, whatever the refresh: expiry and
	 * removal keep their pace, and each refresh has a scan before it */
	__u64 scan_period = t->v.delay_ns < CT_SCAN_PERIOD_NS ? t->v.delay_ns : CT_SCAN_PERIOD_NS;
	__u64 next = ct_mono_ns() + t->v.delay_ns, next_scan = ct_mono_ns() + scan_period, now;
	struct pollfd pfd[2];
	int ret = 0, r;

	if (!t->batch && ct_top_screen_start(t))
		return 1;
	if (t->curses)
		ct_top_render(t);	/* the frame, empty until the first interval ends */
	pfd[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ct_session_fd(&t->live.s), .events = POLLIN };
	while (!ct_stop_signal && !t->live_gone && !t->live.s.stopped && !t->out_gone) {
		__u64 due = next < next_scan ? next : next_scan;
		int wait_ms;

		now = ct_mono_ns();
		wait_ms = due > now ? (int)((due - now) / 1000000 + 1) : 0;
		wait_ms = wait_ms > 100 ? 100 : wait_ms;
		poll(t->curses ? pfd : pfd + 1, t->curses ? 2 : 1, wait_ms);
		if (ct_session_poll(&t->live.s, 0) < 0) {
			ret = 1;
			break;
		}
		r = ct_top_keys(t);
		if (r < 0)
			break;
		if (ct_mono_ns() >= next_scan || ct_mono_ns() >= next) {
			scan_live(t);
			next_scan = ct_mono_ns() + scan_period;
		}
		if (ct_mono_ns() >= next && interval_end(t, tick_live, &next, &r))
			break;
		if (r > 0)
			ct_top_render(t);
	}
	ct_top_screen_end(t);
	return ret || t->live_gone;
}

/* --- an agent's session, viewed ------------------------------------------------------ */

/* The end of a refresh interval, viewing: the agent's counters, as its status said */
static void tick_view(struct ct_top *t)
{
	struct ct_loss l;
	__u64 flows, cap;
	int scanned;

	t->v.now_ns = ct_now_ns();
	ct_viewer_counters(&t->agent, &l, &flows, &cap, &scanned);
	/* flows no whole scan of the agent's fed are gone: only when it handed them all */
	ct_agg_tick(t->agg, t->v.now_ns, scanned);
	t->v.events_lost = l.events_lost;
	t->v.evicted = l.evicted_embryonic + l.evicted_established;
	t->v.evicted_est = l.evicted_established;
	t->v.untracked = l.untracked;
	t->v.table_flows = flows;
	t->v.table_capacity = cap;
	ct_top_note(t);
}

static int run_view(struct ct_top *t)
{
	__u64 next = ct_mono_ns() + t->v.delay_ns, now;
	int ret = 0, r;

	if (!t->batch && ct_top_screen_start(t))
		return 1;
	if (t->curses)
		ct_top_render(t);
	while (!ct_stop_signal && !t->agent.stopped && !t->out_gone) {
		int wait_ms;

		now = ct_mono_ns();
		wait_ms = next > now ? (int)((next - now) / 1000000 + 1) : 0;
		wait_ms = wait_ms > 50 ? 50 : wait_ms;
		if (ct_viewer_poll(&t->agent, wait_ms) < 0) {
			ret = 1;
			break;
		}
		r = ct_top_keys(t);
		if (r < 0)
			break;
		if (ct_mono_ns() >= next && interval_end(t, tick_view, &next, &r))
			break;
		if (r > 0)
			ct_top_render(t);
	}
	ct_top_screen_end(t);
	return ret;
}

/* --- a capture ----------------------------------------------------------------------- */

/*
 * Replay the capture into the model with the options replay takes: 0, 1 on a problem past
 * its start (said; the frame shows what came before), -1 when it could not be read at all.
 */
static int feed_capture(struct ct_top *t, const struct ct_config *c)
{
	struct ct_rec_out rec = { .record = on_record, .ctx = t };
	struct ct_replay_opts ro;
	struct ct_replay *rp;
	char err[256];
	int ret, r;

	ct_config_replay(c, &rec, &ro);
	rp = ct_replay_new(&ro, err, sizeof(err));
	if (!rp) {
		pr_warn("%s\n", err);
		return 1;
	}
	r = ct_replay_file(rp, t->replay);
	if (r == 2) {
		ct_replay_free(rp);
		return -1;
	}
	ret = r != 0;
	if (r >= 0)
		ret |= ct_replay_finish(rp);
	ct_replay_free(rp);
	return ret;
}

static int run_capture(struct ct_top *t, const struct ct_config *c)
{
	int ret = feed_capture(t, c), r;

	/* not a capture (or none at all): its error alone, no empty frame dated 1970 */
	if (ret < 0)
		return 1;
	t->v.now_ns = t->t1;
	t->v.span_ns = t->t1 > t->t0 ? t->t1 - t->t0 : 0;
	if (t->batch) {
		long n = t->frames ? t->frames : 1;

		for (long i = 0; i < n && !t->out_gone && !ct_stop_signal; i++)
			ct_top_render(t);
		return ret;
	}
	if (ct_top_screen_start(t))
		return 1;
	ct_top_render(t);
	while (!ct_stop_signal) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };

		poll(&pfd, 1, 200);
		r = ct_top_keys(t);
		if (r < 0)
			break;
		if (r > 0)
			ct_top_render(t);
	}
	ct_top_screen_end(t);
	return ret;
}

/* --- the command --------------------------------------------------------------------- */

static int validate_top(const struct ct_command *cmd, struct ct_config *c)
{
	if (!c->nifaces == !c->read)
		return ct_usage_error(cmd, "give either -i IFACE or -r FILE");
	if (c->read && (c->mode != CT_MODE_TC || c->xdp_mode != CT_XDP_AUTO || c->force))
		return ct_usage_error(cmd, "--mode, --xdp-mode and --force go with -i IFACE");
	if (!c->read && c->engine != CT_ENGINE_USER)
		return ct_usage_error(cmd, "--engine goes with -r FILE: live, the kernel runs it");
	return ct_validate_live(cmd, c);
}

/* The title's list of interfaces. */
static const char *iface_list(const struct ct_config *c)
{
	static char src[256];
	size_t off = 0;

	for (int i = 0; i < c->nifaces && off < sizeof(src); i++)
		off += (size_t)snprintf(src + off, sizeof(src) - off, "%s%s", i ? "," : "",
					c->ifaces[i]);
	return src;
}

/*
 * A capture's frames are written at once, not queued: a stop signal must interrupt a
 * write(2) a stalled reader blocks, instead of it being restarted.
 */
static void stop_signals_interrupt(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;

		if (sigaction(sigs[i], NULL, &sa))
			continue;
		sa.sa_flags &= ~SA_RESTART;
		sigaction(sigs[i], &sa, NULL);
	}
}

/* Live batch frames go through a queue a thread of its own writes out. */
static int start_writer(struct ct_top *t, const struct ct_config *c)
{
	size_t cap = 2 * ((size_t)c->max_groups + 16) * ROW_BYTES;

	if (cap < FRAME_QUEUE_MIN)
		cap = FRAME_QUEUE_MIN;
	if (cap > FRAME_QUEUE_MAX)
		cap = FRAME_QUEUE_MAX;
	t->writer = ct_writer_start(STDOUT_FILENO, cap);
	if (!t->writer) {
		pr_warn("cannot start the output thread: %s\n", strerror(errno));
		return -1;
	}
	ct_writer_name(t->writer, "frames");
	return 0;
}

static int run_top(struct ct_config *c)
{
	static struct ct_top t;
	struct ct_agg_caps caps = { .max_ended = (__u32)c->max_flows,
				    .max_open = (__u32)c->table_size,
				    .max_groups = (__u32)c->max_groups };
	const char *cs;
	int ret;

	memset(&t, 0, sizeof(t));
	t.v.delay_ns = c->delay_ns;
	t.v.window_ns = c->window_ns;
	t.v.grouping = (enum ct_grouping)c->group;
	t.v.sort = (enum ct_col)c->sort;
	t.v.max_rows = (size_t)c->rows;
	t.rows_opt = (int)(c->rows < 1000000 ? c->rows : 1000000);
	t.batch = c->batch;
	t.frames = c->frames;
	t.replay = c->read;
	/* the filter can be edited on the screen: top owns it from here */
	t.flt = c->filter;
	c->filter = NULL;
	if (t.flt)
		snprintf(t.ftext, sizeof(t.ftext), "%s", c->filter_text);

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	t.v.utf8 = cs && !strcmp(cs, "UTF-8");
	ct_catch_stop_signals(CT_HUP_STOP, 0);

	/* over a capture, ended flows count whatever their age: the window is the capture */
	t.agg = ct_agg_new(t.replay ? 0 : t.v.window_ns, &caps);
	if (!t.agg) {
		pr_warn("cannot set top's model up: %s\n", strerror(errno));
		ct_filter_free(t.flt);
		return 1;
	}
	ct_agg_set_filter(t.agg, t.flt);
	if (t.replay) {
		if (ct_filter_uses_app(t.flt) || t.v.grouping == CT_G_APP ||
		    t.v.grouping == CT_G_UNIT)
			pr_note("a capture has no sockets: its closes name no application (app and "
				"unit rows are one '-' row, app. fields empty)\n");
		t.v.source = strrchr(t.replay, '/') ? strrchr(t.replay, '/') + 1 : t.replay;
		t.v.mode = "replay";
		t.v.replay = 1;
		if (t.batch)
			stop_signals_interrupt();
		ret = run_capture(&t, c);
	} else {
		t.v.source = iface_list(c);
		t.v.mode = c->mode == CT_MODE_XDP ? "xdp" : "tc";
		struct ct_rec_out out = { .record = on_record, .visit = on_record, .ctx = &t };
		struct ct_live_opts lo;

		/* an agent watches there: its viewer, the flows its scans leave included */
		ret = ct_config_view(c, "top", CT_SUB_VISITS, &out, &t.agent);
		if (ret <= 0) {
			if (!ret) {
				t.v.mode = t.agent.a[0].hello.xdp ? "xdp, viewed" : "tc, viewed";
				if (t.batch)
					ret = start_writer(&t, c);
				if (!ret)
					ret = run_view(&t);
			}
			ct_viewer_end(&t.agent);
			ret = ret ? 1 : 0;
			goto out;
		}
		ct_config_live(c, 1, &out, &lo);
		ret = ct_live_start(&t.live, &lo);
		/* the thread after the start: it gets the capabilities left, none */
		if (!ret && t.batch)
			ret = start_writer(&t, c);
		if (!ret)
			ret = run_live(&t);
		ct_live_end(&t.live, 0);
	}
out:
	ct_top_screen_end(&t);
	/* what is queued gets half a second; a reader that stalled costs the rest, said */
	ct_writer_stop(t.writer, 500);
	t.writer = NULL;
	ct_agg_free(t.agg);
	ct_filter_free(t.flt);
	free(t.fbuf);
	return ret;
}

static const struct ct_opt_group *const top_groups[] = {
	&ct_grp_ifaces, &ct_grp_top, &ct_grp_attach, &ct_grp_expiry, &ct_grp_table, &ct_grp_tunnel, &ct_grp_engine,
	&ct_grp_select, &ct_grp_metrics, &ct_grp_privs, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_top = {
	.name = "top",
	.synopsis = (const char *const[]){ "-i IFACE[,IFACE...] [OPTIONS]", "-r FILE [OPTIONS]",
					   NULL },
	.summary = "servers / clients ranked by RSTs, refusals, resets, live or on a\n"
		   "             capture, with RST per connection over time",
	.description =
		"A top-like view of how TCP connections end: servers, server IPs, client IPs or\n"
		"flows ranked by RSTs, refusals, resets, FINs and SYNs per connection, with RST\n"
		"per connection over time. Live needs root, like watch; -r (replay) needs no\n"
		"privilege but with --engine bpf.",
	.live = 1,
	.groups = top_groups,
	.max_args = 0,
	.notes = "Keys: s sort menu, < > sort column, g grouping, / filter, p pause, r reset,\n"
		 "arrows scroll, q quit, ? help. With -r, the capture's totals, not rates.\n"
		 "Stops on SIGINT, SIGTERM or SIGHUP. With -b, live, frames stdout does not\n"
		 "take are dropped whole, counted and said; counting goes on.",
	.examples = (const char *const[]){
		"closetrace top -i eth0                         # servers by server RST",
		"closetrace top -i eth0 -g client-ip -s REFUSED # clients by refusals",
		"closetrace top -i eth0 -b -n 5 -d 2 > top.txt  # five frames, 2 s apart",
		"closetrace top -r trace.pcap -f 'rst.count > 0 and fin.count = 0'",
		NULL },
	.validate = validate_top,
	.run = run_top,
};
