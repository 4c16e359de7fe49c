/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * output_ref.h - the record formatter as it was before it was rewritten without printf:
 * snprintf for every field, inet_ntop() for addresses, gmtime_r() for every time. Slow
 * and plainly right, it is the reference the fast one must equal byte for byte
 * (test_output.c). Only the names changed (ref_*).
 */
#ifndef CT_OUTPUT_REF_H
#define CT_OUTPUT_REF_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "format.h"
#include "reasons.h"
#include "record.h"
#include "text.h"

/* A JSON string, escaped: quotes, backslash, control characters. */
static void ref_json_str(char *buf, size_t len, size_t *off, const char *s)
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

static size_t ref_format_time(__u64 ns, char *buf, size_t len)
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

static double ref_dur(const struct ct_record *r)
{
	return r->ts_ns > r->start_ns ? (double)(r->ts_ns - r->start_ns) / 1e9 : 0.0;
}

static const char *ref_type(const struct ct_record *r)
{
	return r->type == CT_REC_FLOW ? "flow" : "close";
}

/* A storm summary: its server and port (null when not known), count, first and last. */
static size_t ref_json_summary(const struct ct_record *r, char *buf, size_t len)
{
	int s = ct_rec_srv(r);
	char ts[40], first[40], sip[64];
	size_t off = 0;

	ref_format_time(r->ts_ns, ts, sizeof(ts));
	ref_format_time(r->start_ns, first, sizeof(first));
	ct_put(buf, len, &off, "{\"v\":1,\"type\":\"summary\",\"ts\":\"%s\",\"iface\":", ts);
	ref_json_str(buf, len, &off, r->iface ? r->iface : "");
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

static size_t ref_json_loss(const struct ct_record *r, char *buf, size_t len)
{
	char ts[40];
	size_t off = 0;

	ref_format_time(r->ts_ns, ts, sizeof(ts));
	ct_put(buf, len, &off,
	       "{\"v\":1,\"type\":\"loss\",\"ts\":\"%s\",\"evicted_embryonic\":%" PRIu64
	       ",\"evicted_established\":%" PRIu64 ",\"untracked\":%" PRIu64
	       ",\"events_lost\":%" PRIu64 "}\n", ts, (uint64_t)r->loss.evicted_embryonic,
	       (uint64_t)r->loss.evicted_established, (uint64_t)r->loss.untracked,
	       (uint64_t)r->loss.events_lost);
	return off;
}

static size_t ref_format_json(const struct ct_record *r, char *buf, size_t len)
{
	const struct ct_flow *f = &r->flow;
	int c = ct_rec_clt(r), s = ct_rec_srv(r);
	char ts[40], start[40], cip[64], sip[64], hist[CT_HIST_MAX + 1];
	size_t off = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	if (r->type == CT_REC_SUMMARY)
		return ref_json_summary(r, buf, len);
	if (r->type == CT_REC_LOSS)
		return ref_json_loss(r, buf, len);
	ref_format_time(r->ts_ns, ts, sizeof(ts));
	ref_format_time(r->start_ns, start, sizeof(start));
	ct_key_addr_str(&r->key, c, cip, sizeof(cip));
	ct_key_addr_str(&r->key, s, sip, sizeof(sip));
	ct_history_str(f->history, c, hist, sizeof(hist));

	ct_put(buf, len, &off, "{\"v\":1,\"type\":\"%s\",\"ts\":\"%s\",\"iface\":", ref_type(r), ts);
	ref_json_str(buf, len, &off, r->iface ? r->iface : "");
	ct_put(buf, len, &off,
	    ",\"close\":\"%s\",\"zeek\":\"%s\",\"rst_by\":\"%s\",\"history\":\"%s\","
	    "\"clt_ip\":\"%s\",\"clt_port\":%u,\"srv_ip\":\"%s\",\"srv_port\":%u,",
	    ct_close_name(r->close), ct_zeek_state(f), ct_rst_by_name(r->rst_by), hist, cip,
	    r->key.port[c], sip, r->key.port[s]);
	ct_put(buf, len, &off,
	    "\"syn\":%u,\"synack\":%u,\"ct\":%u,\"midstream\":%s,\"fin_clt\":%u,"
	    "\"fin_srv\":%u,\"rst_clt\":%u,\"rst_srv\":%u,",
	    f->syn[c] + f->syn[s], f->synack[c] + f->synack[s], !!(f->state & CT_ST_CT),
	    ct_flow_midstream(f) ? "true" : "false",
	    f->fin[c], f->fin[s], f->rst[c], f->rst[s]);
	ct_put(buf, len, &off,
	    "\"pkts_clt\":%" PRIu64 ",\"pkts_srv\":%" PRIu64 ",\"bytes_clt\":%" PRIu64
	    ",\"bytes_srv\":%" PRIu64 ",\"vlan\":%u,\"start\":\"%s\",\"dur\":%.6f,"
	    "\"rst_reason\":\"%s\",\"rst_reason_kernel\":\"%s\",\"rst_state\":\"%s\","
	    "\"rst_accepted\":%s}\n",
	    (uint64_t)f->pkts[c], (uint64_t)f->pkts[s], (uint64_t)f->bytes[c],
	    (uint64_t)f->bytes[s], CT_IFVLAN_VLAN(r->key.ifvlan), start, ref_dur(r),
	    ct_rst_reason_name(f->rst_reason), ct_rst_reason_kernel(f->rst_reason),
	    ct_rst_state_name(f->rst_state), f->rst_accepted ? "true" : "false");
	return off;
}

/* The REASON column's text: the reason (with the state, wide), or "rst-received". */
static const char *ref_reason_text(const struct ct_flow *f, int wide)
{
	static char buf[64];

	if (!f->rst_reason && f->rst_accepted)
		return "rst-received";
	if (!wide || !f->rst_state)
		return ct_rst_reason_name(f->rst_reason);
	snprintf(buf, sizeof(buf), "%s/%s", ct_rst_reason_name(f->rst_reason),
		 ct_rst_state_name(f->rst_state));
	return buf;
}

static void ref_endpoint(const struct ct_record *r, int ep, char *buf, size_t len)
{
	ct_endpoint_str(r->key.addr[ep], r->key.port[ep], ct_key_is_v4(&r->key), buf, len);
}

/* The time as the text has it: HH:MM:SS narrow, RFC 3339 with -w. */
static void ref_text_time(__u64 ns, int wide, char *buf, size_t len)
{
	char t[40];

	ref_format_time(ns, t, sizeof(t));
	snprintf(buf, len, wide ? "%-27s" : "%.8s", wide ? t : t + 11);
}

/* TIME and IFACE, as every text line starts. */
static void ref_text_lead(const struct ct_record *r, const struct ct_text_layout *l, char *buf,
			  size_t len, size_t *off)
{
	char ts[40], ifc[4 * 256 + 1];

	ref_text_time(r->ts_ns, l->wide, ts, sizeof(ts));
	ct_put(buf, len, off, "%s ", ts);
	if (l->iface) {
		ct_text_escape(r->iface ? r->iface : "-", ifc, sizeof(ifc));
		ct_put(buf, len, off, "%-*s ", (int)l->iface, ifc);
	}
}

static size_t ref_text_summary(const struct ct_record *r, const struct ct_text_layout *l,
			       char *buf, size_t len)
{
	char sv[80] = "servers the summary table had no room for", first[40];
	size_t off = 0;

	if (!r->unkeyed)
		ref_endpoint(r, ct_rec_srv(r), sv, sizeof(sv));
	ref_format_time(r->start_ns, first, sizeof(first));
	ref_text_lead(r, l, buf, len, &off);
	ct_put(buf, len, &off, "%-12s summary: %" PRIu64 " closes to %s since %s\n",
	       ct_close_name(r->close), (uint64_t)r->count, sv, first);
	return off;
}

static size_t ref_text_loss(const struct ct_record *r, const struct ct_text_layout *l,
			    char *buf, size_t len)
{
	char ts[40];
	size_t off = 0;

	ref_text_time(r->ts_ns, l->wide, ts, sizeof(ts));
	ct_put(buf, len, &off, "%s loss: %" PRIu64 " embryonic and %" PRIu64
	       " established flows evicted, %" PRIu64 " untracked, %" PRIu64 " events lost\n",
	       ts, (uint64_t)r->loss.evicted_embryonic, (uint64_t)r->loss.evicted_established,
	       (uint64_t)r->loss.untracked, (uint64_t)r->loss.events_lost);
	return off;
}

static size_t ref_format_text(const struct ct_record *r, const struct ct_text_layout *l,
			      char *buf, size_t len)
{
	const struct ct_flow *f = &r->flow;
	int c = ct_rec_clt(r), s = ct_rec_srv(r);
	char cl[80], sv[80], hist[CT_HIST_MAX + 1], fin[48], rst[48], pk[48];
	size_t off = 0;

	if (r->type == CT_REC_SUMMARY)
		return ref_text_summary(r, l, buf, len);
	if (r->type == CT_REC_LOSS)
		return ref_text_loss(r, l, buf, len);
	ref_endpoint(r, c, cl, sizeof(cl));
	ref_endpoint(r, s, sv, sizeof(sv));
	ct_history_str(f->history, c, hist, sizeof(hist));
	snprintf(fin, sizeof(fin), "%u:%u", f->fin[c], f->fin[s]);
	snprintf(rst, sizeof(rst), "%u:%u", f->rst[c], f->rst[s]);
	snprintf(pk, sizeof(pk), "%" PRIu64 ":%" PRIu64, (uint64_t)f->pkts[c],
		 (uint64_t)f->pkts[s]);
	ref_text_lead(r, l, buf, len, &off);
	ct_put(buf, len, &off, "%-12s ", ct_close_name(r->close));
	if (l->wide)
		ct_put(buf, len, &off, "%-6s ", ct_zeek_state(f));
	if (ct_flow_midstream(f))
		ct_put(buf, len, &off, "%-3s mid ", ct_rst_by_name(r->rst_by));
	else
		ct_put(buf, len, &off, "%-3s %3u ", ct_rst_by_name(r->rst_by), f->syn[c] + f->syn[s]);
	if (l->wide)
		ct_put(buf, len, &off, "%6u %9s %9s %15s %10.3f %-12s ", f->synack[c] + f->synack[s],
		       fin, rst, pk, ref_dur(r), hist[0] ? hist : "-");
	else
		ct_put(buf, len, &off, "%7s %7s %7.3f ", fin, rst, ref_dur(r));
	if (l->reasons)
		ct_put(buf, len, &off, "%-*s ", l->wide ? 27 : 14, ref_reason_text(f, l->wide));
	ct_put(buf, len, &off, "%-*s %s\n", l->wide ? 47 : 21, cl, sv);
	return off;
}

#endif /* CT_OUTPUT_REF_H */
