// SPDX-License-Identifier: BSD-3-Clause
/*
 * format.c - text and NDJSON rendering of close, flow, summary and loss records. A line is
 * appended field by field (append.h), not printed with snprintf: at a million closes a
 * second the formatting is the reader's budget. Pure: no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "append.h"
#include "classify.h"
#include "format.h"
#include "owner.h"
#include "zones.h"
#include "reasons.h"
#include "text.h"
#include "tunnel.h"

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
	/* the name: 6 bytes a byte as JSON escapes it, 4 as text does, padded to 256 */
	return LINE_FIXED + 6 * (r->iface ? strlen(r->iface) : 1) + 1024 +
	       (r->zones ? 2 * (CT_ZONE_TEXT_MAX + 16) : 0) + (r->key.tun_type ? 256 : 0) +
	       (r->cgroup || r->flow.own_flags || r->flow.own.cgroup ? ct_app_room(r) : 0);
}

/* "%7.3f " of the duration, narrow text: a longer one takes the room it needs */
static char *app_dur_narrow(char *p, const struct ct_record *r)
{
	__u64 ns = r->ts_ns > r->start_ns ? r->ts_ns - r->start_ns : 0;
	char t[CT_APP_SECS_MAX];

	p = ct_app_right(p, t, (size_t)(ct_app_secs(t, ns, 3) - t), 7);
	*p++ = ' ';
	return p;
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
#define F_IP(k, a) (JSON_KEY(k), JSON_QUOTED(ct_app_addr(p, (a), ct_addr_is_v4(a))))
#define F_HIST(k) (JSON_KEY(k), JSON_QUOTED(ct_app_mem(p, hist, ct_history_str(rf_f->history, \
							       rf_c, hist, sizeof(hist)))))
#define F_DUR(k) (JSON_KEY(k), p = app_dur(p, r, 0))
#define F_NULL(k) (JSON_KEY(k), p = CT_APP_LIT(p, "null"))
#define F_SECS(k, ns) (JSON_KEY(k), p = ct_app_secs(p, (ns), 3))
#define F_BEGIN(k) (JSON_KEY(k), sep = '{')
#define F_END() (sep == '{' ? (p = CT_APP_LIT(p, "{}")) : (*p++ = '}', p), sep = ',')
#include "record_fields.h"
	*p++ = '}';
	*p++ = '\n';
	return p;
}

int ct_format_fields(const struct ct_record *r, ct_field_fn fn, void *ctx)
{
	int v4 = ct_key_is_v4(&r->key);
	char hist[CT_HIST_MAX + 1], v[128], kb[64];
	const char *pre = NULL;

	/* each value as text in v[], but a string from outside, handed over as it is; an
	 * object's fields are named after it: listener_port */
#define KEY(k) (pre ? (snprintf(kb, sizeof(kb), "%s_%s", pre, k), kb) : (k))
#define FIELD(k, end) do { *(end) = '\0'; if (fn(ctx, KEY(k), v)) return -1; } while (0)
#define F_NUM(k, x) FIELD(k, ct_app_u64(v, (x)))
#define F_BOOL(k, b) FIELD(k, (b) ? CT_APP_LIT(v, "true") : CT_APP_LIT(v, "false"))
#define F_NAME(k, s) FIELD(k, ct_app_str(v, (s)))
#define F_STR(k, s) do { if (fn(ctx, KEY(k), (s))) return -1; } while (0)
#define F_TIME(k, ns) FIELD(k, ct_app_time(v, (ns)))
#define F_ADDR(k, ep) FIELD(k, app_key_addr(v, &r->key, (ep), v4))
#define F_IP(k, a) FIELD(k, ct_app_addr(v, (a), ct_addr_is_v4(a)))
#define F_HIST(k) FIELD(k, ct_app_mem(v, hist, ct_history_str(rf_f->history, rf_c, hist, \
							      sizeof(hist))))
#define F_DUR(k) FIELD(k, app_dur(v, r, 0))
#define F_NULL(k) FIELD(k, CT_APP_LIT(v, "null"))
#define F_SECS(k, ns) FIELD(k, ct_app_secs(v, (ns), 3))
#define F_BEGIN(k) (pre = (k))
#define F_END() (pre = NULL)
#include "record_fields.h"
#undef FIELD
#undef KEY
	return 0;
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

/*
 * The columns, narrow (what fits 120 columns with IPv4: what ended, who, the counts that
 * tell why, the kernel's reason, then the endpoints, last so that an IPv6 address moves
 * nothing) and wide (-w: every count, Zeek's view, full times, IPv6-wide endpoints).
 */
#define W_TIME(l) ((l)->wide ? 27 : 8)
#define W_ADDR(l) ((l)->wide ? 47 : 21)
#define W_REASON(l) ((l)->wide ? 27 : 14)

/* "%-*s " of @s, at least @width wide */
static char *col(char *p, const char *s, size_t width)
{
	p = ct_app_left(p, s, strlen(s), width);
	*p++ = ' ';
	return p;
}

size_t ct_format_text_header(const struct ct_text_layout *l, char *buf, size_t len)
{
	size_t off = 0;

	ct_put(buf, len, &off, "%-*s ", W_TIME(l), "TIME");
	if (l->iface)
		ct_put(buf, len, &off, "%-*s ", (int)l->iface, "IFACE");
	ct_put(buf, len, &off, "%-12s ", "CLOSE");
	if (l->wide)
		ct_put(buf, len, &off, "%-6s ", "ZEEK");
	ct_put(buf, len, &off, "%-3s %3s ", "BY", "SYN");
	if (l->wide)
		ct_put(buf, len, &off, "%6s %9s %9s %15s %10s %-12s ", "SYNACK", "FIN C:S",
		       "RST C:S", "PKTS C:S", "DUR", "HISTORY");
	else
		ct_put(buf, len, &off, "%7s %7s %7s ", "FIN C:S", "RST C:S", "DUR");
	if (l->reasons)
		ct_put(buf, len, &off, "%-*s ", W_REASON(l), "REASON");
	if (l->apps)
		ct_put(buf, len, &off, "%-*s %-*s %s\n", W_ADDR(l), "CLIENT", W_ADDR(l), "SERVER",
		       "APP");
	else
		ct_put(buf, len, &off, "%-*s %s\n", W_ADDR(l), "CLIENT", "SERVER");
	return off;
}

/* The interface (or file) name made safe for a terminal, @width wide, never cut. */
static char *app_text_iface(char *p, const struct ct_record *r, size_t width)
{
	const char *name = r->iface ? r->iface : "-";
	char esc[4 * 256 + 1];
	size_t n;

	/* a name that needs no escape is itself: the usual case, checked at once */
	for (n = 0; name[n] >= 0x20 && name[n] < 0x7f && name[n] != '\\'; n++)
		;
	if (name[n]) {
		n = ct_text_escape(name, esc, sizeof(esc));
		name = esc;
	}
	p = ct_app_left(p, name, n, width);
	*p++ = ' ';
	return p;
}

/* The time: "HH:MM:SS " narrow (UTC, the second), the RFC 3339 one, 27 wide, with -w */
static char *app_text_time(char *p, __u64 ns, int wide)
{
	char t[CT_APP_TIME_MAX], *e = ct_app_time(t, ns);

	if (wide)
		p = ct_app_left(p, t, (size_t)(e - t), 27);
	else
		p = ct_app_mem(p, t + 11, 8);	/* 2026-11-23T[10:00:00].123456Z */
	*p++ = ' ';
	return p;
}

/* "%Nu " */
static char *app_text_u32(char *p, __u32 v, size_t width)
{
	char t[20];

	p = ct_app_right(p, t, (size_t)(ct_app_u64(t, v) - t), width);
	*p++ = ' ';
	return p;
}

/* "%Ns " of "a:b", client:server */
static char *app_text_pair(char *p, __u64 a, __u64 b, size_t width)
{
	char t[48], *e = ct_app_u64(t, a);

	*e++ = ':';
	e = ct_app_u64(e, b);
	p = ct_app_right(p, t, (size_t)(e - t), width);
	*p++ = ' ';
	return p;
}

/* A summary's line: the close, then the count, the server and the time it spans. */
static char *text_summary(const struct ct_record *r, const struct ct_text_layout *l, char *p)
{
	p = app_text_time(p, r->ts_ns, l->wide);
	if (l->iface)
		p = app_text_iface(p, r, l->iface);
	p = col(p, ct_close_name(r->close), 12);
	p = CT_APP_LIT(p, "summary: ");
	p = ct_app_u64(p, r->count);
	p = CT_APP_LIT(p, " closes to ");
	if (r->unkeyed)
		p = CT_APP_LIT(p, "servers the summary table had no room for");
	else
		p = app_endpoint(p, r, ct_rec_srv(r), ct_key_is_v4(&r->key), 0);
	p = CT_APP_LIT(p, " since ");
	p = ct_app_time(p, r->start_ns);
	*p++ = '\n';
	return p;
}

/* What was lost, as one line (the JSON record has each count under its name). */
static char *text_loss(const struct ct_record *r, const struct ct_text_layout *l, char *p)
{
	p = app_text_time(p, r->ts_ns, l->wide);
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

/*
 * The REASON column: why this host sent a RST (with the socket's state, wide), or
 * "rst-received" when it sent none but a local socket took the peer's.
 */
static char *app_text_reason(char *p, const struct ct_flow *f, int wide, size_t width)
{
	char *start = p;

	if (!f->rst_reason && f->rst_accepted) {
		p = CT_APP_LIT(p, "rst-received");
	} else {
		p = ct_app_str(p, ct_rst_reason_name(f->rst_reason));
		if (wide && f->rst_state) {
			*p++ = '/';
			p = ct_app_str(p, ct_rst_state_name(f->rst_state));
		}
	}
	p = ct_app_left(p, "", 0, width > (size_t)(p - start) ? width - (size_t)(p - start) : 0);
	*p++ = ' ';
	return p;
}

/* The text line of @r at @p (ct_format_room() bytes there); returns its end. */
char *ct_format_text_at(const struct ct_record *r, const struct ct_text_layout *l, char *p)
{
	const struct ct_flow *f = &r->flow;
	int c = ct_rec_clt(r), s = ct_rec_srv(r), v4;
	char hist[CT_HIST_MAX + 1];
	size_t n;

	if (r->type == CT_REC_SUMMARY)
		return text_summary(r, l, p);
	if (r->type == CT_REC_LOSS)
		return text_loss(r, l, p);
	v4 = ct_key_is_v4(&r->key);
	p = app_text_time(p, r->ts_ns, l->wide);
	if (l->iface)
		p = app_text_iface(p, r, l->iface);
	p = col(p, ct_close_name(r->close), 12);
	if (l->wide)
		p = col(p, ct_zeek_state(f), 6);
	p = col(p, ct_rst_by_name(r->rst_by), 3);
	/* joined midstream, no SYN seen: "mid" says why, and that the roles are a guess */
	if (ct_flow_midstream(f))
		p = CT_APP_LIT(p, "mid ");
	else
		p = app_text_u32(p, f->syn[c] + f->syn[s], 3);
	if (l->wide) {
		p = app_text_u32(p, f->synack[c] + f->synack[s], 6);
		p = app_text_pair(p, f->fin[c], f->fin[s], 9);
		p = app_text_pair(p, f->rst[c], f->rst[s], 9);
		p = app_text_pair(p, f->pkts[c], f->pkts[s], 15);
		p = app_dur(p, r, 1);
		*p++ = ' ';
		n = ct_history_str(f->history, c, hist, sizeof(hist));
		p = n ? ct_app_left(p, hist, n, 12) : ct_app_left(p, "-", 1, 12);
		*p++ = ' ';
	} else {
		p = app_text_pair(p, f->fin[c], f->fin[s], 7);
		p = app_text_pair(p, f->rst[c], f->rst[s], 7);
		p = app_dur_narrow(p, r);
	}
	if (l->reasons)
		p = app_text_reason(p, f, l->wide, (size_t)W_REASON(l));
	p = app_endpoint(p, r, c, v4, (size_t)W_ADDR(l));
	*p++ = ' ';
	p = app_endpoint(p, r, s, v4, l->apps ? (size_t)W_ADDR(l) : 0);
	/* the tunnel it came in, after the endpoints it qualifies */
	if (r->key.tun_type) {
		char t[32];

		*p++ = ' ';
		p = ct_app_str(p, ct_tunnel_str(r->key.tun_type, ct_rec_tun_id(r, c), t, sizeof(t)));
	}
	if (l->apps) {
		*p++ = ' ';
		p = ct_app_text(p, r);
	}
	*p++ = '\n';
	return p;
}

/*
 * A line into @buf, cut to @len - 1 bytes and terminated as snprintf cut it: written in
 * place when it surely fits, else elsewhere first.
 */
static size_t format_cut(const struct ct_record *r, int json, const struct ct_text_layout *wide,
			 char *buf, size_t len)
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
	return format_cut(r, 1, NULL, buf, len);
}

size_t ct_format_text(const struct ct_record *r, const struct ct_text_layout *l, char *buf,
		      size_t len)
{
	return format_cut(r, 0, l, buf, len);
}

unsigned int ct_text_name_width(const char *name)
{
	char esc[4 * 256 + 1];

	return (unsigned int)ct_text_escape(name, esc, sizeof(esc));
}
