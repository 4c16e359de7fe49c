// SPDX-License-Identifier: BSD-3-Clause
/*
 * output.c - text and NDJSON rendering of close and flow records. Pure formatting into
 * caller buffers, plus ct_output_record(), which selects and writes whole lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "filter.h"
#include "log.h"
#include "options.h"
#include "reasons.h"
#include "output.h"
#include "sink.h"
#include "writer.h"

/* stdout's queue, live: a few seconds of a busy host's events */
#define CT_WRITER_QUEUE (4u << 20)

void ct_put(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off = *off + (size_t)n < len ? *off + (size_t)n : len - 1;
}

/*
 * The length of the well-formed UTF-8 character at @s, or 0 when it is not one or is a C1
 * control (U+0080-U+009F: some terminals take U+009B as a CSI). The ranges allowed for the
 * second byte rule out overlong forms, surrogates and code points past U+10FFFF. A NUL
 * fails the range check, so nothing past the string's end is read.
 */
static size_t utf8_char_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xc2 || s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

size_t ct_text_escape(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, in, out;
	char piece[4];

	if (!len)
		return 0;
	for (; *p; p += in) {
		in = 1;
		out = 2;
		if (*p == '\\') {
			memcpy(piece, "\\\\", 2);
		} else if (*p == '\t') {
			memcpy(piece, "\\t", 2);
		} else if (*p == '\n') {
			memcpy(piece, "\\n", 2);
		} else if (*p >= 0x20 && *p < 0x7f) {
			piece[0] = (char)*p;
			out = 1;
		} else if ((in = utf8_char_len(p)) != 0) {
			memcpy(piece, p, in);
			out = in;
		} else {
			/* a lone byte of a bad sequence: the rest is looked at on its own */
			in = 1;
			out = 4;
			piece[0] = '\\';
			piece[1] = 'x';
			piece[2] = hex[*p >> 4];
			piece[3] = hex[*p & 0xf];
		}
		/* a cut never leaves half an escape, which would read as something else */
		if (off + out >= len)
			break;
		memcpy(buf + off, piece, out);
		off += out;
	}
	buf[off] = '\0';
	return off;
}

/* A JSON string, escaped: quotes, backslash, control characters. */
static void put_json_str(char *buf, size_t len, size_t *off, const char *s)
{
	ct_put(buf, len, off, "\"");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			ct_put(buf, len, off, "\\%c", *c);
		else if (*c == '\n')
			ct_put(buf, len, off, "\\n");
		else if (*c == '\t')
			ct_put(buf, len, off, "\\t");
		else if (*c < 0x20 || *c >= 0x7f)	/* names need not be UTF-8: keep JSON valid */
			ct_put(buf, len, off, "\\u%04x", *c);
		else
			ct_put(buf, len, off, "%c", *c);
	}
	ct_put(buf, len, off, "\"");
}

size_t ct_format_time(__u64 ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;
	size_t off = 0;

	if (!gmtime_r(&sec, &tm)) {
		ct_put(buf, len, &off, "-");
		return off;
	}
	ct_put(buf, len, &off, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (unsigned int)(ns % 1000000000ull / 1000));
	return off;
}

static double rec_dur(const struct ct_record *r)
{
	return r->ts_ns > r->start_ns ? (double)(r->ts_ns - r->start_ns) / 1e9 : 0.0;
}

static const char *rec_type(const struct ct_record *r)
{
	return r->type == CT_REC_FLOW ? "flow" : "close";
}

/* A storm summary: its server and port (null when not known), count, first and last. */
static size_t json_summary(const struct ct_record *r, char *buf, size_t len)
{
	int s = ct_rec_srv(r);
	char ts[40], first[40], sip[64];
	size_t off = 0;

	ct_format_time(r->ts_ns, ts, sizeof(ts));
	ct_format_time(r->start_ns, first, sizeof(first));
	ct_put(buf, len, &off, "{\"v\":1,\"type\":\"summary\",\"ts\":\"%s\",\"iface\":", ts);
	put_json_str(buf, len, &off, r->iface ? r->iface : "");
	ct_put(buf, len, &off, ",\"close\":\"%s\",\"rst_by\":\"%s\",", ct_close_name(r->close),
	       ct_rst_by_name(r->rst_by));
	if (r->unkeyed) {
		ct_put(buf, len, &off, "\"srv_ip\":null,\"srv_port\":null,");
	} else {
		ct_key_addr_str(&r->key, s, sip, sizeof(sip));
		ct_put(buf, len, &off, "\"srv_ip\":\"%s\",\"srv_port\":%u,", sip, r->key.port[s]);
	}
	ct_put(buf, len, &off, "\"count\":%" PRIu64 ",\"first\":\"%s\",\"last\":\"%s\"}\n",
	       (uint64_t)r->count, first, ts);
	return off;
}

static size_t json_loss(const struct ct_record *r, char *buf, size_t len)
{
	char ts[40];
	size_t off = 0;

	ct_format_time(r->ts_ns, ts, sizeof(ts));
	ct_put(buf, len, &off,
	       "{\"v\":1,\"type\":\"loss\",\"ts\":\"%s\",\"evicted_embryonic\":%" PRIu64
	       ",\"evicted_established\":%" PRIu64 ",\"untracked\":%" PRIu64
	       ",\"events_lost\":%" PRIu64 "}\n", ts, (uint64_t)r->loss.evicted_embryonic,
	       (uint64_t)r->loss.evicted_established, (uint64_t)r->loss.untracked,
	       (uint64_t)r->loss.events_lost);
	return off;
}

size_t ct_format_json(const struct ct_record *r, char *buf, size_t len)
{
	const struct ct_flow *f = &r->flow;
	int c = ct_rec_clt(r), s = ct_rec_srv(r);
	char ts[40], start[40], cip[64], sip[64], hist[CT_HIST_MAX + 1];
	size_t off = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (r->type == CT_REC_SUMMARY)
		return json_summary(r, buf, len);
	if (r->type == CT_REC_LOSS)
		return json_loss(r, buf, len);
	ct_format_time(r->ts_ns, ts, sizeof(ts));
	ct_format_time(r->start_ns, start, sizeof(start));
	ct_key_addr_str(&r->key, c, cip, sizeof(cip));
	ct_key_addr_str(&r->key, s, sip, sizeof(sip));
	ct_history_str(f->history, c, hist, sizeof(hist));

	ct_put(buf, len, &off, "{\"v\":1,\"type\":\"%s\",\"ts\":\"%s\",\"iface\":", rec_type(r), ts);
	put_json_str(buf, len, &off, r->iface ? r->iface : "");
	ct_put(buf, len, &off,
	    ",\"close\":\"%s\",\"zeek\":\"%s\",\"rst_by\":\"%s\",\"history\":\"%s\","
	    "\"clt_ip\":\"%s\",\"clt_port\":%u,\"srv_ip\":\"%s\",\"srv_port\":%u,",
	    ct_close_name(r->close), ct_zeek_state(f), ct_rst_by_name(r->rst_by), hist, cip,
	    r->key.port[c], sip, r->key.port[s]);
	ct_put(buf, len, &off,
	    "\"syn\":%u,\"synack\":%u,\"ct\":%u,\"fin_clt\":%u,\"fin_srv\":%u,"
	    "\"rst_clt\":%u,\"rst_srv\":%u,",
	    f->syn[c] + f->syn[s], f->synack[c] + f->synack[s], !!(f->state & CT_ST_CT),
	    f->fin[c], f->fin[s], f->rst[c], f->rst[s]);
	ct_put(buf, len, &off,
	    "\"pkts_clt\":%" PRIu64 ",\"pkts_srv\":%" PRIu64 ",\"bytes_clt\":%" PRIu64
	    ",\"bytes_srv\":%" PRIu64 ",\"vlan\":%u,\"start\":\"%s\",\"dur\":%.6f,"
	    "\"rst_reason\":\"%s\",\"rst_state\":\"%s\",\"rst_accepted\":%s}\n",
	    (uint64_t)f->pkts[c], (uint64_t)f->pkts[s], (uint64_t)f->bytes[c],
	    (uint64_t)f->bytes[s], CT_IFVLAN_VLAN(r->key.ifvlan), start, rec_dur(r),
	    ct_rst_reason_name(f->rst_reason), ct_rst_state_name(f->rst_state),
	    f->rst_accepted ? "true" : "false");
	return off;
}

/*
 * The reset reason, with the socket's state when known: "abort-on-close/established";
 * "accepted" when none was sent here but a local socket took the peer's RST.
 */
static const char *reason_text(const struct ct_flow *f)
{
	static char buf[64];

	if (!f->rst_reason && f->rst_accepted)
		return "accepted";
	if (!f->rst_state)
		return ct_rst_reason_name(f->rst_reason);
	snprintf(buf, sizeof(buf), "%s/%s", ct_rst_reason_name(f->rst_reason),
		 ct_rst_state_name(f->rst_state));
	return buf;
}

static void endpoint(const struct ct_record *r, int ep, char *buf, size_t len)
{
	ct_endpoint_str(r->key.addr[ep], r->key.port[ep], ct_key_is_v4(&r->key), buf, len);
}

size_t ct_format_text_header(int wide, char *buf, size_t len)
{
	int w = wide ? 47 : 21;
	size_t off = 0;

	ct_put(buf, len, &off,
	    "%-27s %-15s %-*s %-*s %-12s %-6s %-3s %4s %4s %7s %7s %15s %10s %-12s %-17s\n",
	    "TIME", "IFACE", w, "CLIENT", w, "SERVER", "CLOSE", "ZEEK", "BY", "SYN", "SYNA",
	    "FIN c/s", "RST c/s", "PKTS c/s", "DUR(s)", "HISTORY", "REASON");
	return off;
}

/* A summary's line: the close columns, then the count and the time it spans. */
static size_t text_summary(const struct ct_record *r, const char *ts, const char *ifc, int w,
			   char *buf, size_t len)
{
	char sv[80] = "*", first[40];
	size_t off = 0;

	if (!r->unkeyed)
		endpoint(r, ct_rec_srv(r), sv, sizeof(sv));
	ct_format_time(r->start_ns, first, sizeof(first));
	ct_put(buf, len, &off, "%-27s %-15.15s %-*s %-*s %-12s summary: %" PRIu64
	       " closes since %s\n", ts, ifc, w, "*", w, sv, ct_close_name(r->close),
	       (uint64_t)r->count, first);
	return off;
}

/* What was lost, as one line (the JSON record has each count under its name). */
static size_t text_loss(const struct ct_record *r, const char *ts, char *buf, size_t len)
{
	size_t off = 0;

	ct_put(buf, len, &off, "%-27s loss: %" PRIu64 " embryonic and %" PRIu64
	       " established flows evicted, %" PRIu64 " untracked, %" PRIu64 " events lost\n",
	       ts, (uint64_t)r->loss.evicted_embryonic, (uint64_t)r->loss.evicted_established,
	       (uint64_t)r->loss.untracked, (uint64_t)r->loss.events_lost);
	return off;
}

size_t ct_format_text(const struct ct_record *r, int wide, char *buf, size_t len)
{
	const struct ct_flow *f = &r->flow;
	int c = ct_rec_clt(r), s = ct_rec_srv(r), w = wide ? 47 : 21;
	char ts[40], cl[80], sv[80], hist[CT_HIST_MAX + 1], fin[24], rst[24], pk[48], ifc[16];
	size_t off = 0;

	/* a file or interface name may hold terminal controls; the cut keeps escapes whole */
	ct_text_escape(r->iface ? r->iface : "-", ifc, sizeof(ifc));
	ct_format_time(r->ts_ns, ts, sizeof(ts));
	if (r->type == CT_REC_SUMMARY)
		return text_summary(r, ts, ifc, w, buf, len);
	if (r->type == CT_REC_LOSS)
		return text_loss(r, ts, buf, len);
	endpoint(r, c, cl, sizeof(cl));
	endpoint(r, s, sv, sizeof(sv));
	ct_history_str(f->history, c, hist, sizeof(hist));
	snprintf(fin, sizeof(fin), "%u/%u", f->fin[c], f->fin[s]);
	snprintf(rst, sizeof(rst), "%u/%u", f->rst[c], f->rst[s]);
	snprintf(pk, sizeof(pk), "%" PRIu64 "/%" PRIu64, (uint64_t)f->pkts[c],
		 (uint64_t)f->pkts[s]);
	ct_put(buf, len, &off,
	    "%-27s %-15.15s %-*s %-*s %-12s %-6s %-3s %4u %4u %7s %7s %15s %10.3f %-12s %s\n",
	    ts, ifc, w, cl, w, sv, ct_close_name(r->close),
	    ct_zeek_state(f), ct_rst_by_name(r->rst_by), f->syn[c] + f->syn[s],
	    f->synack[c] + f->synack[s], fin, rst, pk, rec_dur(r), hist[0] ? hist : "-",
	    reason_text(f));
	return off;
}

int ct_output_open(struct ct_output *o, const struct ct_config *c, int live)
{
	char err[512];

	*o = (struct ct_output){ .out = stdout, .fmt = (enum ct_format)c->format, .all = c->all,
				 .flows = c->final, .wide = c->wide, .filter = c->filter };
	/* started with the first record: after the capabilities were dropped */
	o->queue = live && !c->output_file && (o->fmt == CT_FMT_TEXT || o->fmt == CT_FMT_JSON);
	if (!c->output_file)
		return 0;
	o->file = ct_file_open(c->output_file, c->rotate_size, c->rotate_keep, c->user, c->uid,
			       c->gid, err, sizeof(err));
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

int ct_output_record(struct ct_output *o, const struct ct_record *r)
{
	char line[4096];	/* the longest record, an escaped 255-byte file name in it */
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
		ct_format_text(r, 1, line, sizeof(line));
		o->printed += !ct_journal_write(r, line);
		return 0;
	}
	if (o->queue && !o->writer && start_queue(o))
		return -1;
	if (o->fmt == CT_FMT_TEXT && (o->file ? ct_file_empty(o->file) : !o->header_done)) {
		n = ct_format_text_header(o->wide, line, sizeof(line));
		if (o->file)
			ct_file_write(o->file, line, n);
		else if (o->writer)
			ct_writer_line(o->writer, line, n);
		else if (fwrite(line, 1, n, o->out) != n)
			o->error = 1;
		o->header_done = 1;
	}
	if (o->fmt == CT_FMT_JSON)
		n = ct_format_json(r, line, sizeof(line));
	else
		n = ct_format_text(r, o->wide, line, sizeof(line));
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
