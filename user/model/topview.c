// SPDX-License-Identifier: BSD-3-Clause
/*
 * topview.c - renders a frame of `closetrace top` as lines: header, rates, sparklines,
 * the ranked table. Shared by the screen and batch mode.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "owner.h"
#include "reasons.h"
#include "text.h"
#include "tunnel.h"
#include "topview.h"

#define LINE_MAX_BYTES 1024
#define SPARK_LABEL "RST/conn srv "
#define SPARK_TAIL 16		/* " max 123.45" and the brackets */

const char *const ct_view_help[] = {
	"closetrace top - keys",
	"",
	"  s           choose the sort column from a list (or type its letter there)",
	"  <  >        sort by the column left / right of the current one",
	"  g           group by server, server IP, client IP, flow (cycles)",
	"  /           edit the filter (Enter applies, Esc cancels, empty clears)",
	"  p           pause / resume the display (counting goes on)",
	"  r           reset: forget ended flows, (other) and the history",
	"  Up Down     scroll the table; PgUp PgDn Home too",
	"  q           quit",
	"  ?           this help (any key closes it)",
	"",
	"Columns: CONN connections (flows, attempts included), CT completed handshakes,",
	"SYN/C client SYNs per connection, FIN.C FIN.S RST.C RST.S FINs and RSTs sent by",
	"clients and servers, REFUSED, RESETS (reset-client + reset-server), FINRST",
	"(fin-reset), UNANS (unanswered) closes, RST/C RSTs per connection, LAST the last",
	"abnormal close (with the reason, when this host sent the RST) and how long ago",
	"(on a capture: how long before its end). A narrow terminal leaves out the least",
	"telling columns first (FIN.C, FIN.S, CT, SYN/C, RST.C, ...), never the sort column.",
	"Ended flows count for the window (--window). (other) holds the flows folded past",
	"--max-flows and the groups ranked past --max-groups: the rows add up to the totals.",
	NULL,
};

const char *ct_view_col_what(enum ct_col c)
{
	static const char *const what[CT_COL_MAX] = {
		[CT_COL_FLOWS] = "connections (attempts included)",
		[CT_COL_CT] = "completed handshakes",
		[CT_COL_SYN_PER] = "client SYNs per connection (retries)",
		[CT_COL_FIN_CLT] = "FINs the clients sent",
		[CT_COL_FIN_SRV] = "FINs the servers sent",
		[CT_COL_RST_CLT] = "RSTs the clients sent",
		[CT_COL_RST_SRV] = "RSTs the servers sent",
		[CT_COL_REFUSED] = "connections refused (RST to a SYN)",
		[CT_COL_RESETS] = "connections reset by either side",
		[CT_COL_FIN_RESET] = "connections closed with a FIN, then reset",
		[CT_COL_UNANSWERED] = "SYNs nobody answered",
		[CT_COL_RST_PER] = "RSTs (both sides) per connection",
		[CT_COL_LAST] = "the last abnormal close, most recent first",
	};

	return (unsigned int)c < CT_COL_MAX ? what[c] : "";
}

double ct_sample_rst_per_conn(const struct ct_sample *s, int side)
{
	return (double)s->rst[side] / (double)(s->conns ? s->conns : 1);
}

size_t ct_sparkline(const double *vals, size_t n, double max, int utf8, char *buf, size_t len)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
					       "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[8] = { '_', '.', '-', ':', '=', '+', '*', '#' };
	size_t off = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (max <= 0)
		for (size_t i = 0; i < n; i++)
			max = vals[i] > max ? vals[i] : max;
	for (size_t i = 0; i < n; i++) {
		int lvl;

		if (vals[i] <= 0 || max <= 0) {
			ct_put(buf, len, &off, " ");
			continue;
		}
		/* (0, max] onto levels 0..7: anything above zero shows */
		lvl = (int)(vals[i] / max * 8.0 + 0.999999) - 1;
		lvl = lvl < 0 ? 0 : lvl > 7 ? 7 : lvl;
		if (utf8)
			ct_put(buf, len, &off, "%s", blocks[lvl]);
		else
			ct_put(buf, len, &off, "%c", ascii[lvl]);
	}
	return off;
}

/* An app or unit group: "nginx nginx.service", "nginx.service", "no listener on :1194" */
static void app_label(const struct ct_group *g, enum ct_grouping gr, char *buf, size_t len)
{
	char cg[256], comm[4 * 16 + 1], raw[17];
	size_t off = 0;

	if (!g->key.own) {
		snprintf(buf, len, "- (no local socket)");
		return;
	}
	if (g->key.own == 3) {
		snprintf(buf, len, "no listener on :%u", g->key.port[1]);
		return;
	}
	ct_app_cgroup_label(g->cgroup, g->key.cgroup, cg, sizeof(cg));
	memcpy(raw, g->key.comm, 16);
	raw[16] = '\0';
	ct_text_escape(raw, comm, sizeof(comm));
	if (g->key.own == 2)
		ct_put(buf, len, &off, "listener of :%u gone: %s%s%s", g->key.port[1], comm,
		       *comm && *cg ? " " : "", cg);
	else if (gr == CT_G_APP && *comm)
		ct_put(buf, len, &off, "%s%s%s", comm, *cg ? " " : "", cg);
	else
		ct_put(buf, len, &off, "%s", *cg ? cg : "-");
}

static void group_label(const struct ct_group *g, enum ct_grouping gr, char *buf, size_t len)
{
	char a[80], b[80], t[32];

	switch (gr) {
	case CT_G_SERVER:
		ct_endpoint_str(g->key.addr[1], g->key.port[1], g->v4, buf, len);
		break;
	case CT_G_SERVER_IP:
		ct_addr_str(g->key.addr[1], g->v4, buf, len);
		break;
	case CT_G_CLIENT_IP:
		ct_addr_str(g->key.addr[0], g->v4, buf, len);
		break;
	case CT_G_APP:
	case CT_G_UNIT:
		app_label(g, gr, buf, len);
		break;
	case CT_G_CLIENT_ZONE:
	case CT_G_SERVER_ZONE:
		if (g->zone[0])
			snprintf(buf, len, "%s", g->zone);
		else
			ct_addr_str(g->key.addr[gr == CT_G_CLIENT_ZONE ? 0 : 1], g->v4, buf, len);
		break;
	case CT_G_TUNNEL:
		if (g->key.tun_type)
			ct_tunnel_str(g->key.tun_type, g->key.tun_id, buf, len);
		else
			snprintf(buf, len, "(no tunnel)");
		break;
	default:
		ct_endpoint_str(g->key.addr[0], g->key.port[0], g->v4, a, sizeof(a));
		ct_endpoint_str(g->key.addr[1], g->key.port[1], g->v4, b, sizeof(b));
		if (g->key.tun_type)
			snprintf(buf, len, "%s > %s %s", a, b,
				 ct_tunnel_str(g->key.tun_type, g->key.tun_id, t, sizeof(t)));
		else
			snprintf(buf, len, "%s > %s", a, b);
		break;
	}
}

/* A row's label: its group's, or (other)'s when @g is NULL. */
static void row_label(const struct ct_group *g, enum ct_grouping gr, char *buf, size_t len)
{
	if (g)
		group_label(g, gr, buf, len);
	else
		snprintf(buf, len, "(other)");
}

static const char *const group_titles[CT_G_MAX] = {
	[CT_G_SERVER] = "SERVER",
	[CT_G_SERVER_IP] = "SERVER IP",
	[CT_G_CLIENT_IP] = "CLIENT IP",
	[CT_G_FLOW] = "CLIENT > SERVER",
	[CT_G_APP] = "APP",
	[CT_G_UNIT] = "UNIT",
	[CT_G_CLIENT_ZONE] = "CLIENT ZONE",
	[CT_G_SERVER_ZONE] = "SERVER ZONE",
	[CT_G_TUNNEL] = "TUNNEL",
};

/* Column widths after the label, matching ct_col order. */
static const int col_width[CT_COL_MAX] = { 7, 7, 6, 7, 7, 7, 7, 8, 7, 7, 7, 6, 20 };

/*
 * The columns a narrow terminal leaves out, first to last: the least telling first. What
 * stays longest: the connections, RSTs per connection, refusals, unanswered SYNs, server
 * RSTs, and LAST (which is never left out: cut at the edge, it still starts).
 */
static const enum ct_col drop_order[] = {
	CT_COL_FIN_CLT, CT_COL_FIN_SRV, CT_COL_CT, CT_COL_SYN_PER, CT_COL_RST_CLT,
	CT_COL_FIN_RESET, CT_COL_RESETS, CT_COL_RST_SRV, CT_COL_UNANSWERED, CT_COL_REFUSED,
	CT_COL_FLOWS, CT_COL_RST_PER,
};
#define LAST_ROOM 24	/* what LAST needs to say something: "refused/no-socket 12s ago" */

/* Which columns fit @v's width after a label @lw wide; the sort column always. */
static void columns_shown(const struct ct_view *v, size_t lw, int shown[CT_COL_MAX])
{
	size_t need = lw + LAST_ROOM;

	for (int c = 0; c < CT_COL_MAX; c++) {
		shown[c] = 1;
		need += c == CT_COL_LAST ? 0 : (size_t)col_width[c];
	}
	for (size_t i = 0; v->width && need > v->width && i < sizeof(drop_order) /
	     sizeof(drop_order[0]); i++) {
		if (drop_order[i] == v->sort)
			continue;
		shown[drop_order[i]] = 0;
		need -= (size_t)col_width[drop_order[i]];
	}
}

/* A duration in a few characters: 45s, 12m, 3h, 2d. */
static void age_str(__u64 ns, char *buf, size_t len)
{
	__u64 s = ns / 1000000000ull;

	if (s < 120)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
}

static void cell(char *buf, size_t len, size_t *off, const struct ct_group *g, enum ct_col c,
		 __u64 now, int replay)
{
	/* live: how long ago; a capture: how long before its end (not before today) */
	const char *when = replay ? "before end" : "ago";
	int w = col_width[c];
	char last[96], age[16];

	switch (c) {
	case CT_COL_SYN_PER:
	case CT_COL_RST_PER:
		ct_put(buf, len, off, " %*.2f", w - 1, ct_group_value(g, c));
		break;
	case CT_COL_LAST:
		if (!g->last_abn_ns) {
			ct_put(buf, len, off, "  -");
			break;
		}
		age_str(now > g->last_abn_ns ? now - g->last_abn_ns : 0, age, sizeof(age));
		/* with why this host reset it, when the kernel said */
		if (strcmp(ct_rst_reason_name(g->last_reason), "-"))
			snprintf(last, sizeof(last), "%s/%s %s %s", ct_close_name(g->last_abn),
				 ct_rst_reason_name(g->last_reason), age, when);
		else
			snprintf(last, sizeof(last), "%s %s %s", ct_close_name(g->last_abn), age, when);
		ct_put(buf, len, off, "  %s", last);
		break;
	default:
		ct_put(buf, len, off, " %*.0f", w - 1, ct_group_value(g, c));
		break;
	}
}

/* Cut @s to @width display columns (UTF-8 aware); 0 leaves it whole. */
static void fit(char *s, size_t width)
{
	size_t cols = 0;

	if (!width)
		return;
	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;	/* a continuation byte: same column */
		if (cols++ == width) {
			*p = '\0';
			return;
		}
	}
}

static void emit_line(ct_line_fn emit, void *ctx, const struct ct_view *v,
		      enum ct_line_kind kind, char *line)
{
	fit(line, v->width);
	emit(ctx, kind, line, 0, 0);
}

/* Rates over the samples that cover the frame: the last interval, or the whole capture. */
static void rates(const struct ct_view *v, struct ct_agg *a, struct ct_sample *sum)
{
	const struct ct_sample *h;
	size_t n = ct_agg_history(a, &h, v->replay ? CT_HISTORY : 1);

	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < n; i++) {
		sum->dt_ns += h[i].dt_ns;
		sum->conns += h[i].conns;
		sum->rst[0] += h[i].rst[0];
		sum->rst[1] += h[i].rst[1];
		for (int k = 0; k < CT_CLOSE_MAX; k++)
			sum->closes[k] += h[i].closes[k];
	}
	if (v->replay)
		sum->dt_ns = v->span_ns;
	else if (!sum->dt_ns)	/* the first interval: it began when the view did */
		sum->dt_ns = v->delay_ns;
}

int ct_view_capped(struct ct_agg *a)
{
	struct ct_agg_stats st;

	ct_agg_stats(a, &st);
	return st.folded || st.groups_over;
}

/* What the caps did: flows folded into (other), groups summed into it. */
static void caps_line(const struct ct_view *v, struct ct_agg *a, ct_line_fn emit, void *ctx)
{
	char line[LINE_MAX_BYTES];
	struct ct_agg_stats st;
	size_t off = 0;

	ct_agg_stats(a, &st);
	if (st.summarised) {
		ct_put(line, sizeof(line), &off, "storm: %llu closes summarised in (other) "
		    "(--storm-rate)", (unsigned long long)st.summarised);
		emit_line(emit, ctx, v, CT_LINE_TEXT, line);
		off = 0;
	}
	if (!st.folded && !st.groups_over)
		return;
	ct_put(line, sizeof(line), &off, "over caps:");
	if (st.folded)
		ct_put(line, sizeof(line), &off, " flows folded %llu (--max-flows %u)",
		    (unsigned long long)st.folded, st.max_ended);
	if (st.folded_open)
		ct_put(line, sizeof(line), &off, " of which open %llu",
		    (unsigned long long)st.folded_open);
	if (st.groups_over)
		ct_put(line, sizeof(line), &off, "%s groups in (other) %llu (--max-groups %u)",
		    st.folded ? " " : "", (unsigned long long)st.groups_over, st.max_groups);
	emit_line(emit, ctx, v, CT_LINE_TEXT, line);
}

static void header(const struct ct_view *v, struct ct_agg *a, const struct ct_group *g,
		   size_t ng, ct_line_fn emit, void *ctx)
{
	char line[LINE_MAX_BYTES], ts[32], src[LINE_MAX_BYTES / 2];
	struct ct_sample s;
	size_t off = 0, kept, ended;
	double dt, rst_c = 0, rst_s = 0, flows = 0;
	time_t sec = (time_t)(v->now_ns / 1000000000ull);
	struct tm tm;
	__u64 other;

	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	/* a capture's or interface's name may hold terminal controls (batch mode prints raw) */
	ct_text_escape(v->source, src, sizeof(src));
	ct_put(line, sizeof(line), &off, "closetrace top - %s (%s) - %s UTC", src, v->mode, ts);
	if (v->replay)
		ct_put(line, sizeof(line), &off, " - capture of %.1f s", (double)v->span_ns / 1e9);
	else
		ct_put(line, sizeof(line), &off, " - every %.1f s - window %.0f s",
		    (double)v->delay_ns / 1e9, (double)v->window_ns / 1e9);
	if (v->paused)
		ct_put(line, sizeof(line), &off, " - PAUSED");
	emit_line(emit, ctx, v, CT_LINE_TITLE, line);

	rates(v, a, &s);
	/* live: rates over the last interval; a capture: its totals (a rate over a long,
	 * quiet capture reads 0.0 above a table of refusals) */
	dt = v->replay ? 1.0 : s.dt_ns ? (double)s.dt_ns / 1e9 : 1.0;
	other = 0;
	for (int k = 0; k < CT_CLOSE_MAX; k++)
		other += s.closes[k];
	off = 0;
	ct_put(line, sizeof(line), &off, v->replay ? "conn %.0f  closes %.0f:" :
		"conn/s %.1f  closes/s %.1f:", (double)s.conns / dt, (double)other / dt);
	other -= s.closes[CT_CLOSE_GRACEFUL] + s.closes[CT_CLOSE_REFUSED] +
		 s.closes[CT_CLOSE_RESET_CLIENT] + s.closes[CT_CLOSE_RESET_SERVER] +
		 s.closes[CT_CLOSE_FIN_RESET] + s.closes[CT_CLOSE_UNANSWERED];
	ct_put(line, sizeof(line), &off, v->replay ?
	    " graceful %.0f refused %.0f reset-client %.0f reset-server %.0f fin-reset %.0f"
	    " unanswered %.0f other %.0f" :
	    " graceful %.1f refused %.1f reset-client %.1f reset-server %.1f fin-reset %.1f"
	    " unanswered %.1f other %.1f",
	    (double)s.closes[CT_CLOSE_GRACEFUL] / dt, (double)s.closes[CT_CLOSE_REFUSED] / dt,
	    (double)s.closes[CT_CLOSE_RESET_CLIENT] / dt,
	    (double)s.closes[CT_CLOSE_RESET_SERVER] / dt, (double)s.closes[CT_CLOSE_FIN_RESET] / dt,
	    (double)s.closes[CT_CLOSE_UNANSWERED] / dt, (double)other / dt);
	emit_line(emit, ctx, v, CT_LINE_TEXT, line);

	/* the rows and (other): every flow of the frame */
	for (size_t i = 0; i <= ng; i++) {
		const struct ct_group *x = i < ng ? &g[i] : ct_agg_other(a);

		if (!x)
			continue;
		rst_c += (double)x->rst[0];
		rst_s += (double)x->rst[1];
		flows += (double)x->flows;
	}
	kept = ct_agg_flows(a, &ended);
	(void)kept;
	off = 0;
	ct_put(line, sizeof(line), &off, "RST/conn %.2f (clt %.2f srv %.2f) over %.0f conn",
	    flows ? (rst_c + rst_s) / flows : 0.0, flows ? rst_c / flows : 0.0,
	    flows ? rst_s / flows : 0.0, flows);
	if (v->replay)
		ct_put(line, sizeof(line), &off, "  flows %zu", kept);
	else
		ct_put(line, sizeof(line), &off, "  table %llu/%llu  ended kept %zu  events lost %llu",
		    (unsigned long long)v->table_flows, (unsigned long long)v->table_capacity,
		    ended, (unsigned long long)v->events_lost);
	if (v->evicted)
		ct_put(line, sizeof(line), &off, "  evicted %llu (%llu established)",
		    (unsigned long long)v->evicted, (unsigned long long)v->evicted_est);
	if (v->untracked)
		ct_put(line, sizeof(line), &off, "  untracked %llu", (unsigned long long)v->untracked);
	emit_line(emit, ctx, v, CT_LINE_TEXT, line);
	caps_line(v, a, emit, ctx);
}

/* How many intervals the sparkline shows at the view's width. */
static size_t spark_len(const struct ct_view *v)
{
	size_t width = v->width ? v->width : 80, n;

	n = width > sizeof(SPARK_LABEL) + SPARK_TAIL ? width - sizeof(SPARK_LABEL) - SPARK_TAIL : 8;
	return n > CT_HISTORY ? CT_HISTORY : n;
}

static void sparklines(const struct ct_view *v, struct ct_agg *a, ct_line_fn emit, void *ctx)
{
	double vals[2][CT_HISTORY], max = 0;
	const struct ct_sample *h;
	char line[LINE_MAX_BYTES];
	size_t n = ct_agg_history(a, &h, spark_len(v)), bytes;

	for (int side = 0; side < 2; side++)
		for (size_t i = 0; i < n; i++) {
			vals[side][i] = ct_sample_rst_per_conn(&h[i], side);
			max = vals[side][i] > max ? vals[side][i] : max;
		}
	for (int side = 0; side < 2; side++) {
		bytes = (size_t)snprintf(line, sizeof(line), "RST/conn %s [", side ? "srv" : "clt");
		bytes += ct_sparkline(vals[side], n, max, v->utf8, line + bytes,
				      sizeof(line) - bytes);
		snprintf(line + bytes, sizeof(line) - bytes, "] max %.2f", max);
		emit_line(emit, ctx, v, CT_LINE_SPARK, line);
	}
}

size_t ct_view_render(const struct ct_view *v, struct ct_agg *a, ct_line_fn emit, void *ctx)
{
	const struct ct_group *g, *other;
	size_t ng = ct_agg_groups(a, v->grouping, v->sort, &g), nrows;
	char line[LINE_MAX_BYTES], label[192], ftext[LINE_MAX_BYTES / 2];
	size_t off = 0, lw = strlen(group_titles[v->grouping]), start = 0, len = 0, rows;
	int shown[CT_COL_MAX];

	/* (other), when it holds anything, is the last row: ranked apart from the others */
	other = ct_agg_other(a);
	nrows = ng + !!other;
	/* a capture's history spans all of it, in as many intervals as the sparkline shows */
	if (v->replay)
		ct_agg_history_span(a, v->now_ns - v->span_ns, v->now_ns, spark_len(v));
	header(v, a, g, ng, emit, ctx);
	sparklines(v, a, emit, ctx);
	/* the filter is the user's text (-f, or typed at /): it may hold anything */
	if (v->batch)
		ct_put(line, sizeof(line), &off, "group %s  sort %s  filter ",
		       ct_grouping_name(v->grouping), ct_col_name(v->sort));
	else
		ct_put(line, sizeof(line), &off, "group %s (g)  sort %s (s < >)  filter%s ",
		       ct_grouping_name(v->grouping), ct_col_name(v->sort), v->edit ? ":" : "");
	if (v->edit) {
		/* the filter being typed, where its label is; the cursor after it */
		size_t at = off;

		ct_text_escape(v->edit, ftext, sizeof(ftext));
		ct_put(line, sizeof(line), &off, "%s", ftext);
		fit(line, v->width);
		emit(ctx, CT_LINE_EDIT, line, at, strlen(ftext));
		/* its error under it: a caret at the column, then what is wrong */
		off = 0;
		if (v->edit_err)
			ct_put(line, sizeof(line), &off, "%*s^ %s", (int)(at + v->edit_err_pos), "",
			       v->edit_err);
		line[off] = '\0';
		emit_line(emit, ctx, v, CT_LINE_NOTE, line);
	} else {
		ct_text_escape(v->filter_text ? v->filter_text : "none", ftext, sizeof(ftext));
		ct_put(line, sizeof(line), &off, "%s%s", ftext, v->batch ? "" : " (/)");
		emit_line(emit, ctx, v, CT_LINE_TEXT, line);
		snprintf(line, sizeof(line), "%s", v->note ? v->note : "");
		emit_line(emit, ctx, v, CT_LINE_NOTE, line);
	}

	rows = nrows - (v->first_row < nrows ? v->first_row : nrows);
	rows = v->max_rows && v->max_rows < rows ? v->max_rows : rows;
	for (size_t i = v->first_row; i < v->first_row + rows; i++) {
		row_label(i < ng ? &g[i] : NULL, v->grouping, label, sizeof(label));
		lw = strlen(label) > lw ? strlen(label) : lw;
	}
	columns_shown(v, lw, shown);
	off = 0;
	ct_put(line, sizeof(line), &off, "%-*s", (int)lw, group_titles[v->grouping]);
	for (int c = 0; c < CT_COL_MAX; c++) {
		size_t before = off;

		if (!shown[c])
			continue;
		if (c == CT_COL_LAST)
			ct_put(line, sizeof(line), &off, "  %s", ct_col_name(c));
		else
			ct_put(line, sizeof(line), &off, " %*s", col_width[c] - 1, ct_col_name(c));
		if (c == (int)v->sort) {
			start = before + 1;
			len = off - start;
		}
	}
	fit(line, v->width);
	emit(ctx, CT_LINE_TABLE_HEAD, line, start, len);
	for (size_t i = v->first_row; i < v->first_row + rows; i++) {
		const struct ct_group *x = i < ng ? &g[i] : other;

		row_label(i < ng ? x : NULL, v->grouping, label, sizeof(label));
		off = 0;
		ct_put(line, sizeof(line), &off, "%-*s", (int)lw, label);
		for (int c = 0; c < CT_COL_MAX; c++)
			if (shown[c])
				cell(line, sizeof(line), &off, x, c, v->now_ns, v->replay);
		emit_line(emit, ctx, v, CT_LINE_ROW, line);
	}
	return nrows;
}
