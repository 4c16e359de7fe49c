// SPDX-License-Identifier: BSD-3-Clause
/*
 * report.c - the HTML report: tables and SVG charts, escaped, nothing loaded.
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "format.h"
#include "report.h"

#define W 900			/* a chart's width and height, in SVG units */
#define H 260
#define PAD 40

/* @s with & < > " escaped */
static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			if ((unsigned char)*s < 0x20)
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static double rst_per(const struct ct_sample *s, int side)
{
	return s->conns ? (double)s->rst[side] / (double)s->conns : 0.0;
}

/* x of bucket @i of @n */
static double xpos(size_t i, size_t n)
{
	return PAD + (n > 1 ? (double)i * (W - 2 * PAD) / (double)(n - 1) : 0);
}

/* The Figure 5: RST per connection, client and server, each bucket with connections a point */
static void time_axis(FILE *f, const char *t0, const char *t1)
{
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"tick\">%s</text><text x=\"%d\" y=\"%d\" "
		"class=\"tick\" text-anchor=\"end\">%s</text>\n", PAD, H - PAD + 16, t0, W - PAD,
		H - PAD + 16, t1);
}

static void chart_rst(FILE *f, const struct ct_sample *h, size_t n, const char *t0,
		      const char *t1)
{
	double max = 0.0;
	size_t points = 0;

	for (size_t i = 0; i < n; i++)
		if (h[i].conns) {
			points++;
			for (int s = 0; s < 2; s++)
				if (rst_per(&h[i], s) > max)
					max = rst_per(&h[i], s);
		}
	if (max <= 0)
		max = 1;
	fprintf(f, "<svg id=\"rst-per-conn\" data-points=\"%zu\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" role=\"img\" aria-label=\"RST per connection over time\">\n", points,
		W, H, W, H);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", PAD, H - PAD,
		W - PAD, H - PAD, PAD, PAD, PAD, H - PAD);
	fprintf(f, "<text x=\"4\" y=\"%d\" class=\"tick\">%.2f</text><text x=\"4\" y=\"%d\" "
		"class=\"tick\">0</text>\n", PAD + 4, max, H - PAD);
	time_axis(f, t0, t1);
	for (int s = 0; s < 2; s++) {
		fprintf(f, "<polyline class=\"%s\" points=\"", s ? "srv" : "clt");
		for (size_t i = 0; i < n; i++)
			if (h[i].conns)
				fprintf(f, "%.1f,%.1f ", xpos(i, n),
					H - PAD - rst_per(&h[i], s) / max * (H - 2 * PAD));
		fputs("\"/>\n", f);
		for (size_t i = 0; i < n; i++)
			if (h[i].conns)
				fprintf(f, "<circle class=\"pt-%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\">"
					"<title>%s: %.2f RST/conn over %llu conn</title></circle>\n",
					s ? "srv" : "clt", xpos(i, n),
					H - PAD - rst_per(&h[i], s) / max * (H - 2 * PAD),
					s ? "server" : "client", rst_per(&h[i], s),
					(unsigned long long)h[i].conns);
	}
	fputs("</svg>\n<p class=\"legend\"><span class=\"clt\">&#9632;</span> client RSTs per "
	      "connection &nbsp; <span class=\"srv\">&#9632;</span> server RSTs per connection"
	      "</p>\n", f);
}

/* The kinds a chart of closes stacks, in this order */
static const __u8 kinds[] = {
	CT_CLOSE_GRACEFUL, CT_CLOSE_REFUSED, CT_CLOSE_RESET_CLIENT, CT_CLOSE_RESET_SERVER,
	CT_CLOSE_FIN_RESET, CT_CLOSE_UNANSWERED,
};

static void chart_closes(FILE *f, const struct ct_sample *h, size_t n, const char *t0,
			 const char *t1)
{
	__u64 max = 1;
	size_t bars = 0;
	double bw = (double)(W - 2 * PAD) / (double)(n ? n : 1);

	for (size_t i = 0; i < n; i++) {
		__u64 t = 0;

		for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++)
			t += h[i].closes[k];
		if (t > max)
			max = t;
	}
	for (size_t i = 0; i < n; i++) {
		__u64 t = 0;

		for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++)
			t += h[i].closes[k];
		bars += t > 0;
	}
	fprintf(f, "<svg id=\"closes-by-kind\" data-bars=\"%zu\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" role=\"img\" aria-label=\"closes by kind over time\">\n", bars, W, H,
		W, H);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n<text x=\"4\" "
		"y=\"%d\" class=\"tick\">%llu</text>\n", PAD, H - PAD, W - PAD, H - PAD, PAD + 4,
		(unsigned long long)max);
	time_axis(f, t0, t1);
	for (size_t i = 0; i < n; i++) {
		double y = H - PAD;
		__u64 other = 0;

		for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++)
			other += h[i].closes[k];
		for (size_t j = 0; j <= sizeof(kinds); j++) {
			__u64 c = j < sizeof(kinds) ? h[i].closes[kinds[j]] : other;
			double hh;

			if (j < sizeof(kinds))
				other -= c;
			if (!c)
				continue;
			hh = (double)c / (double)max * (H - 2 * PAD);
			y -= hh;
			fprintf(f, "<rect class=\"k%zu\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
				"<title>%s: %llu</title></rect>\n", j, PAD + (double)i * bw, y,
				bw > 2 ? bw - 1 : bw, hh,
				j < sizeof(kinds) ? ct_close_name(kinds[j]) : "other",
				(unsigned long long)c);
		}
	}
	fputs("</svg>\n<p class=\"legend\">", f);
	for (size_t j = 0; j <= sizeof(kinds); j++)
		fprintf(f, "<span class=\"k%zu\">&#9632;</span> %s &nbsp; ", j,
			j < sizeof(kinds) ? ct_close_name(kinds[j]) : "other");
	fputs("</p>\n", f);
}

static void label(const struct ct_group *g, enum ct_grouping gr, char *buf, size_t len)
{
	if (gr == CT_G_SERVER)
		ct_endpoint_str(g->key.addr[1], g->key.port[1], g->v4, buf, len);
	else if (g->zone[0])
		snprintf(buf, len, "%s", g->zone);
	else
		ct_addr_str(g->key.addr[0], g->v4, buf, len);
}

static void table_top(FILE *f, struct ct_agg *a, enum ct_grouping gr, const char *id,
		      const char *what)
{
	const struct ct_group *g;
	size_t n = ct_agg_groups(a, gr, CT_COL_RST_SRV, &g);
	char l[128];

	fprintf(f, "<table id=\"%s\"><tr><th>%s</th><th>connections</th><th>server RSTs</th>"
		"<th>client RSTs</th><th>refused</th><th>resets</th><th>unanswered</th>"
		"<th>RST/conn</th></tr>\n", id, what);
	for (size_t i = 0; i < n && i < 10; i++) {
		label(&g[i], gr, l, sizeof(l));
		fputs("<tr><td>", f);
		esc(f, l);
		fprintf(f, "</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>"
			"<td>%llu</td><td>%.2f</td></tr>\n", (unsigned long long)g[i].flows,
			(unsigned long long)g[i].rst[1], (unsigned long long)g[i].rst[0],
			(unsigned long long)g[i].closes[CT_CLOSE_REFUSED],
			(unsigned long long)(g[i].closes[CT_CLOSE_RESET_CLIENT] +
					     g[i].closes[CT_CLOSE_RESET_SERVER]),
			(unsigned long long)g[i].closes[CT_CLOSE_UNANSWERED],
			ct_group_value(&g[i], CT_COL_RST_PER));
	}
	fputs("</table>\n", f);
}

int ct_report_html(FILE *f, const struct ct_report_in *in)
{
	const struct ct_sample *h;
	unsigned long long closes[CT_CLOSE_MAX] = { 0 }, conns = 0;
	char t0[64], t1[64], sum[512];
	size_t n;

	ct_agg_history_span(in->agg, in->t0, in->t1, CT_REPORT_BUCKETS);
	n = ct_agg_history(in->agg, &h, CT_REPORT_BUCKETS);
	for (size_t i = 0; i < n; i++) {
		conns += h[i].conns;
		for (int k = 0; k < CT_CLOSE_MAX; k++)
			closes[k] += h[i].closes[k];
	}
	ct_closes_summary(closes, sum, sizeof(sum));
	ct_format_time(in->t0, t0, sizeof(t0));
	ct_format_time(in->t1, t1, sizeof(t1));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n<title>closetrace report: ", f);
	esc(f, in->source);
	fputs("</title>\n<style>\n"
	      "body{font:14px/1.4 sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
	      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\n"
	      "td:first-child,th:first-child{text-align:left}\n"
	      "#findings td{text-align:left}\n"
	      ".critical{color:#b00;font-weight:bold}.warning{color:#a60}.info{color:#357}\n"
	      "svg{border:1px solid #ddd;max-width:100%;height:auto}\n"
	      ".axis{stroke:#888}.tick{font-size:11px;fill:#555}\n"
	      "polyline{fill:none;stroke-width:1.5}\n"
	      "polyline.clt,.pt-clt{stroke:#1f77b4;fill:#1f77b4}.legend .clt{color:#1f77b4}\n"
	      "polyline.srv,.pt-srv{stroke:#d62728;fill:#d62728}.legend .srv{color:#d62728}\n"
	      "polyline.clt,polyline.srv{fill:none}\n"
	      ".k0{fill:#2ca02c;color:#2ca02c}.k1{fill:#d62728;color:#d62728}"
	      ".k2{fill:#1f77b4;color:#1f77b4}.k3{fill:#ff7f0e;color:#ff7f0e}"
	      ".k4{fill:#9467bd;color:#9467bd}.k5{fill:#8c564b;color:#8c564b}"
	      ".k6{fill:#999;color:#999}\n"
	      "</style></head><body>\n<h1>closetrace report</h1>\n<p id=\"summary\">", f);
	esc(f, in->source);
	fprintf(f, ": %s to %s; %llu connections; ", t0, t1, conns);
	esc(f, sum);
	fprintf(f, ". closetrace %s.</p>\n<h2>Findings</h2>\n", in->version ? in->version : "");
	if (!in->nfindings)
		fputs("<p id=\"findings\">No finding: nothing abnormal enough to report.</p>\n", f);
	else
		fputs("<table id=\"findings\"><tr><th>severity</th><th>rule</th><th>finding</th>"
		      "<th>evidence</th><th>next</th></tr>\n", f);
	for (size_t i = 0; i < in->nfindings; i++) {
		const struct ct_finding *x = &in->findings[i];

		fprintf(f, "<tr><td class=\"%s\">%s</td><td>%s</td><td>", ct_severity_name(x->sev),
			ct_severity_name(x->sev), x->rule);
		esc(f, x->summary);
		fputs("</td><td>", f);
		esc(f, x->evidence);
		fputs("</td><td>", f);
		esc(f, x->next);
		fputs("</td></tr>\n", f);
	}
	if (in->nfindings)
		fputs("</table>\n", f);
	fputs("<h2>RST per connection over time</h2>\n", f);
	chart_rst(f, h, n, t0, t1);
	fputs("<h2>Closes by kind over time</h2>\n", f);
	chart_closes(f, h, n, t0, t1);
	fputs("<h2>Top servers by server RST</h2>\n", f);
	table_top(f, in->agg, CT_G_SERVER, "top-servers", "server");
	fputs("<h2>Top client zones by server RST</h2>\n", f);
	table_top(f, in->agg, CT_G_CLIENT_ZONE, "top-client-zones", "client zone");
	fputs("</body></html>\n", f);
	return ferror(f) ? -1 : 0;
}
