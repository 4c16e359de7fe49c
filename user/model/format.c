// SPDX-License-Identifier: BSD-3-Clause
/*
 * format.c - text and NDJSON rendering of close, flow, summary and loss records. A line is
 * appended field by field (append.h), not printed with snprintf: at a million closes a
 * second the formatting is the reader's budget. Pure: no I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "append.h"
#include "classify.h"
#include "format.h"
#include "reasons.h"
#include "text.h"

size_t ct_format_time(__u64 ns, char *buf, size_t len)
{
	char t[CT_APP_TIME_MAX];
	size_t n = (size_t)(ct_app_time(t, ns) - t);

	if (!len)
		return 0;
	n = n < len ? n : len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
	return n;
}

/*
 * A line is written straight into the room it goes to, unchecked: this is the most room
 * one can take. Every field but the interface name is bounded (numbers, addresses, times,
 * names from tables of at most 28 bytes: under 900 bytes in all); the name, escaped for
 * JSON, takes up to 6 bytes a byte.
 */
#define LINE_FIXED 1536

size_t ct_format_room(const struct ct_record *r)
{
	return LINE_FIXED + 6 * (r->iface ? strlen(r->iface) : 1);
}

/* "%.6f" of the duration; "%10.3f" in text */
static char *app_dur(char *p, const struct ct_record *r, int text)
{
	__u64 ns = r->ts_ns > r->start_ns ? r->ts_ns - r->start_ns : 0;
	char t[CT_APP_SECS_MAX];

	if (!text)
		return ct_app_secs(p, ns, 6);
	return ct_app_right(p, t, (size_t)(ct_app_secs(t, ns, 3) - t), 10);
}

/* A key's address for endpoint @ep: ct_key_addr_str() */
static char *app_key_addr(char *p, const struct ct_flow_key *k, int ep, int v4)
{
	return ct_app_addr(p, k->addr[ep], v4);
}

static char *app_json_time(char *p, __u64 ns)
{
	*p++ = '"';
	p = ct_app_time(p, ns);
	*p++ = '"';
	return p;
}

/* A key and the separator before it: '{' before the first, ',' before the others. */
#define JSON_KEY(k) (*p++ = sep, sep = ',', p = CT_APP_LIT(p, "\"" k "\":"))
#define JSON_QUOTED(expr) (*p++ = '"', p = (expr), *p++ = '"')

/* The JSON line of @r at @p (ct_format_room() bytes there); returns its end. */
char *ct_format_json_at(const struct ct_record *r, char *p)
{
	int v4 = ct_key_is_v4(&r->key);
	char hist[CT_HIST_MAX + 1], sep = '{';

#define F_NUM(k, v) (JSON_KEY(k), p = ct_app_u64(p, (v)))
#define F_BOOL(k, b) (JSON_KEY(k), p = (b) ? CT_APP_LIT(p, "true") : CT_APP_LIT(p, "false"))
#define F_NAME(k, s) (JSON_KEY(k), JSON_QUOTED(ct_app_str(p, (s))))
#define F_STR(k, s) (JSON_KEY(k), p = ct_app_json_str(p, (s)))
#define F_TIME(k, ns) (JSON_KEY(k), p = app_json_time(p, (ns)))
#define F_ADDR(k, ep) (JSON_KEY(k), JSON_QUOTED(app_key_addr(p, &r->key, (ep), v4)))
#define F_HIST(k) (JSON_KEY(k), JSON_QUOTED(ct_app_mem(p, hist, ct_history_str(rf_f->history, \
							       rf_c, hist, sizeof(hist)))))
#define F_DUR(k) (JSON_KEY(k), p = app_dur(p, r, 0))
#define F_NULL(k) (JSON_KEY(k), p = CT_APP_LIT(p, "null"))
#include "record_fields.h"
	*p++ = '}';
	*p++ = '\n';
	return p;
}

int ct_format_fields(const struct ct_record *r, ct_field_fn fn, void *ctx)
{
	int v4 = ct_key_is_v4(&r->key);
	char hist[CT_HIST_MAX + 1], v[128];

	/* each value as text in v[], but a string from outside, handed over as it is */
#define FIELD(k, end) do { *(end) = '\0'; if (fn(ctx, k, v)) return -1; } while (0)
#define F_NUM(k, x) FIELD(k, ct_app_u64(v, (x)))
#define F_BOOL(k, b) FIELD(k, (b) ? CT_APP_LIT(v, "true") : CT_APP_LIT(v, "false"))
#define F_NAME(k, s) FIELD(k, ct_app_str(v, (s)))
#define F_STR(k, s) do { if (fn(ctx, k, (s))) return -1; } while (0)
#define F_TIME(k, ns) FIELD(k, ct_app_time(v, (ns)))
#define F_ADDR(k, ep) FIELD(k, app_key_addr(v, &r->key, (ep), v4))
#define F_HIST(k) FIELD(k, ct_app_mem(v, hist, ct_history_str(rf_f->history, rf_c, hist, \
							      sizeof(hist))))
#define F_DUR(k) FIELD(k, app_dur(v, r, 0))
#define F_NULL(k) FIELD(k, CT_APP_LIT(v, "null"))
#include "record_fields.h"
#undef FIELD
	return 0;
}

/*
 * The reset reason, with the socket's state when known: "abort-on-close/established";
 * "accepted" when none was sent here but a local socket took the peer's RST.
 */
static char *app_reason(char *p, const struct ct_flow *f)
{
	if (!f->rst_reason && f->rst_accepted)
		return CT_APP_LIT(p, "accepted");
	p = ct_app_str(p, ct_rst_reason_name(f->rst_reason));
	if (!f->rst_state)
		return p;
	*p++ = '/';
	return ct_app_str(p, ct_rst_state_name(f->rst_state));
}

/* ct_endpoint_str(): 192.0.2.1:80, [2001:db8::1]:80; @width columns at least */
static char *app_endpoint(char *p, const struct ct_record *r, int ep, int v4, size_t width)
{
	char *start = p;

	if (!v4)
		*p++ = '[';
	p = app_key_addr(p, &r->key, ep, v4);
	p = v4 ? CT_APP_LIT(p, ":") : CT_APP_LIT(p, "]:");
	p = ct_app_u64(p, r->key.port[ep]);
	return ct_app_left(p, "", 0, width > (size_t)(p - start) ? width - (size_t)(p - start) : 0);
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

/* "%-15.15s" of the interface (or file) name made safe for a terminal, and a space */
static char *app_text_iface(char *p, const struct ct_record *r)
{
	const char *name = r->iface ? r->iface : "-";
	char ifc[16];
	size_t n;

	/* a name that needs no escape is itself: the usual case, checked at once */
	for (n = 0; n < sizeof(ifc) - 1 && name[n] >= 0x20 && name[n] < 0x7f && name[n] != '\\';
	     n++)
		;
	if (name[n] || n == sizeof(ifc) - 1) {
		/* the cut keeps escapes whole */
		n = ct_text_escape(name, ifc, sizeof(ifc));
		name = ifc;
	}
	p = ct_app_left(p, name, n, 15);
	*p++ = ' ';
	return p;
}

/* "%-27s " of a time */
static char *app_text_time(char *p, __u64 ns)
{
	char *start = p;

	p = ct_app_time(p, ns);
	p = ct_app_left(p, "", 0, (size_t)(p - start) < 27 ? 27 - (size_t)(p - start) : 0);
	*p++ = ' ';
	return p;
}

/* "%-12s " of a close kind's name */
static char *app_text_close(char *p, unsigned int close)
{
	const char *name = ct_close_name(close);

	p = ct_app_left(p, name, strlen(name), 12);
	*p++ = ' ';
	return p;
}

/* A summary's line: the close columns, then the count and the time it spans. */
static char *text_summary(const struct ct_record *r, char *p, int w)
{
	p = app_text_time(p, r->ts_ns);
	p = app_text_iface(p, r);
	p = ct_app_left(p, "*", 1, (size_t)w);
	*p++ = ' ';
	if (r->unkeyed)
		p = ct_app_left(p, "*", 1, (size_t)w);
	else
		p = app_endpoint(p, r, ct_rec_srv(r), ct_key_is_v4(&r->key), (size_t)w);
	*p++ = ' ';
	p = app_text_close(p, r->close);
	p = CT_APP_LIT(p, "summary: ");
	p = ct_app_u64(p, r->count);
	p = CT_APP_LIT(p, " closes since ");
	p = ct_app_time(p, r->start_ns);
	*p++ = '\n';
	return p;
}

/* What was lost, as one line (the JSON record has each count under its name). */
static char *text_loss(const struct ct_record *r, char *p)
{
	p = app_text_time(p, r->ts_ns);
	p = CT_APP_LIT(p, "loss: ");
	p = ct_app_u64(p, r->loss.evicted_embryonic);
	p = CT_APP_LIT(p, " embryonic and ");
	p = ct_app_u64(p, r->loss.evicted_established);
	p = CT_APP_LIT(p, " established flows evicted, ");
	p = ct_app_u64(p, r->loss.untracked);
	p = CT_APP_LIT(p, " untracked, ");
	p = ct_app_u64(p, r->loss.events_lost);
	return CT_APP_LIT(p, " events lost\n");
}

/* "%Nu" */
static char *app_text_u32(char *p, __u32 v, size_t width)
{
	char t[20];

	return ct_app_right(p, t, (size_t)(ct_app_u64(t, v) - t), width);
}

/* "%Ns" of "a/b" */
static char *app_text_pair(char *p, __u64 a, __u64 b, size_t width)
{
	char t[48], *e = ct_app_u64(t, a);

	*e++ = '/';
	e = ct_app_u64(e, b);
	return ct_app_right(p, t, (size_t)(e - t), width);
}

/* The text line of @r at @p (ct_format_room() bytes there); returns its end. */
char *ct_format_text_at(const struct ct_record *r, int wide, char *p)
{
	const struct ct_flow *f = &r->flow;
	int c = ct_rec_clt(r), s = ct_rec_srv(r), w = wide ? 47 : 21, v4;
	char hist[CT_HIST_MAX + 1];
	const char *z;
	size_t n;

	if (r->type == CT_REC_SUMMARY)
		return text_summary(r, p, w);
	if (r->type == CT_REC_LOSS)
		return text_loss(r, p);
	v4 = ct_key_is_v4(&r->key);
	p = app_text_time(p, r->ts_ns);
	p = app_text_iface(p, r);
	p = app_endpoint(p, r, c, v4, (size_t)w);
	*p++ = ' ';
	p = app_endpoint(p, r, s, v4, (size_t)w);
	*p++ = ' ';
	p = app_text_close(p, r->close);
	z = ct_zeek_state(f);
	p = ct_app_left(p, z, strlen(z), 6);
	*p++ = ' ';
	z = ct_rst_by_name(r->rst_by);
	p = ct_app_left(p, z, strlen(z), 3);
	*p++ = ' ';
	p = app_text_u32(p, f->syn[c] + f->syn[s], 4);
	*p++ = ' ';
	p = app_text_u32(p, f->synack[c] + f->synack[s], 4);
	*p++ = ' ';
	p = app_text_pair(p, f->fin[c], f->fin[s], 7);
	*p++ = ' ';
	p = app_text_pair(p, f->rst[c], f->rst[s], 7);
	*p++ = ' ';
	p = app_text_pair(p, f->pkts[c], f->pkts[s], 15);
	*p++ = ' ';
	p = app_dur(p, r, 1);
	*p++ = ' ';
	n = ct_history_str(f->history, c, hist, sizeof(hist));
	p = n ? ct_app_left(p, hist, n, 12) : ct_app_left(p, "-", 1, 12);
	*p++ = ' ';
	p = app_reason(p, f);
	*p++ = '\n';
	return p;
}

/*
 * A line into @buf, cut to @len - 1 bytes and terminated as snprintf cut it: written in
 * place when it surely fits, else elsewhere first.
 */
static size_t format_cut(const struct ct_record *r, int json, int wide, char *buf, size_t len)
{
	size_t room = ct_format_room(r), n;
	char stack[8192], *t = stack;

	if (!len)
		return 0;
	if (len > room) {
		n = (size_t)((json ? ct_format_json_at(r, buf) : ct_format_text_at(r, wide, buf)) - buf);
		buf[n] = '\0';
		return n;
	}
	if (room > sizeof(stack) && !(t = malloc(room))) {
		buf[0] = '\0';
		return 0;
	}
	n = (size_t)((json ? ct_format_json_at(r, t) : ct_format_text_at(r, wide, t)) - t);
	n = n < len ? n : len - 1;
	memcpy(buf, t, n);
	buf[n] = '\0';
	if (t != stack)
		free(t);
	return n;
}

size_t ct_format_json(const struct ct_record *r, char *buf, size_t len)
{
	return format_cut(r, 1, 0, buf, len);
}

size_t ct_format_text(const struct ct_record *r, int wide, char *buf, size_t len)
{
	return format_cut(r, 0, wide, buf, len);
}
