// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_diagnose.c - each rule of closetrace-diagnose(8) on records made for it: it speaks
 * at its threshold and not below, at the severity it should; normal traffic raises
 * nothing at warning or above; findings come most severe first; JSON escapes what it
 * quotes.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "closetrace.h"
#include "diagnose.h"
#include "record.h"
#include "zones.h"

#define SEC 1000000000ull
#define T0 (1700000000ull * SEC)

/* A close from client 10.0.0.C:P to server 10.0.1.S:PORT; the client is endpoint LO. */
static struct ct_record close_of(int c, __u16 cport, int s, __u16 port, __u8 kind)
{
	struct ct_record r;

	memset(&r, 0, sizeof(r));
	r.type = CT_REC_CLOSE;
	r.close = kind;
	r.flow.close = kind;
	for (int i = 0; i < 2; i++)
		r.key.addr[i][2] = htonl(CT_V4MAPPED);
	r.key.addr[CT_EP_LO][3] = htonl(0x0a000000u | (__u32)c);
	r.key.addr[CT_EP_HI][3] = htonl(0x0a000100u | (__u32)s);
	r.key.port[CT_EP_LO] = cport;
	r.key.port[CT_EP_HI] = port;
	r.client_ep = CT_EP_LO;
	r.flow.state = CT_ST_ROLE | CT_ST_ENDED;
	r.flow.syn[CT_EP_LO] = 1;
	r.start_ns = T0;
	r.ts_ns = T0 + SEC;
	switch (kind) {
	case CT_CLOSE_REFUSED:
		r.rst_by = CT_BY_SRV;
		r.flow.rst[CT_EP_HI] = 1;
		break;
	case CT_CLOSE_UNANSWERED:
		r.flow.syn[CT_EP_LO] = 3;
		break;
	case CT_CLOSE_RESET_SERVER:
		r.rst_by = CT_BY_SRV;
		r.flow.rst[CT_EP_HI] = 1;
		r.flow.state |= CT_ST_CT;
		r.flow.bytes[CT_EP_LO] = 100;
		break;
	case CT_CLOSE_GRACEFUL:
		r.flow.state |= CT_ST_CT;
		r.flow.fin[0] = r.flow.fin[1] = 1;
		r.flow.bytes[CT_EP_LO] = 300;
		r.flow.bytes[CT_EP_HI] = 9000;
		break;
	case CT_CLOSE_ORPHAN_RST:
		r.flow.syn[CT_EP_LO] = 0;
		r.flow.rst[CT_EP_LO] = 1;
		break;
	}
	return r;
}

/* History letters of @n (endpoint, letter) pairs, in order */
static __u64 history(int n, const int *ep_letter)
{
	__u64 h = 0;

	for (int i = 0; i < n; i++)
		h |= (__u64)(1 + ep_letter[2 * i] * CT_L_MAX + ep_letter[2 * i + 1]) << (4 * i);
	return h;
}

static struct ct_diag *fresh(void)
{
	struct ct_diag_opts o;
	struct ct_diag *d;

	ct_diag_opts_default(&o);
	d = ct_diag_new(&o);
	assert_non_null(d);
	return d;
}

/* The one finding of rule @rule, or NULL; *@n the findings' count */
static const struct ct_finding *find(struct ct_diag *d, const char *rule, size_t *n)
{
	const struct ct_finding *f;
	size_t k = ct_diag_findings(d, &f);

	if (n)
		*n = k;
	for (size_t i = 0; i < k; i++)
		if (!strcmp(f[i].rule, rule))
			return &f[i];
	return NULL;
}

static void feed(struct ct_diag *d, struct ct_record r, int times)
{
	for (int i = 0; i < times; i++) {
		r.key.port[CT_EP_LO] = (__u16)(40000 + i);
		ct_diag_feed(d, &r);
	}
}

static void t_refused(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	struct ct_record r;

	(void)state;
	feed(d, close_of(1, 0, 2, 1194, CT_CLOSE_REFUSED), 2);
	assert_null(find(d, "refused", NULL));		/* 2: below the threshold */
	feed(d, close_of(1, 0, 2, 1194, CT_CLOSE_REFUSED), 1);
	f = find(d, "refused", NULL);
	assert_non_null(f);
	assert_int_equal(f->sev, CT_SEV_CRITICAL);	/* all attempts */
	assert_string_equal(f->summary, "10.0.1.2:1194 refuses connections: 3 of 3 attempts "
					"refused (REJ), from 1 client");
	/* the same refusals among many good connections: a warning */
	feed(d, close_of(3, 0, 2, 1194, CT_CLOSE_GRACEFUL), 10);
	f = find(d, "refused", NULL);
	assert_int_equal(f->sev, CT_SEV_WARNING);
	ct_diag_free(d);
	/* live, with the port's listener gone: said */
	d = fresh();
	r = close_of(1, 0, 2, 8080, CT_CLOSE_REFUSED);
	r.cgroup = "/system.slice/nginx.service";
	r.flow.own_flags = CT_OWN_NOSOCK | CT_OWN_LISTENER | CT_OWN_PID;
	r.flow.own.pid = 4242;
	r.flow.own.cgroup = 9;
	r.flow.own.closed_ms = 12000;
	memcpy(r.flow.own.comm, "ng\"inx", 6);
	feed(d, r, 3);
	f = find(d, "refused", NULL);
	assert_non_null(f);
	assert_string_equal(f->summary, "10.0.1.2:8080 refuses connections: 3 of 3 attempts "
					"refused (REJ), from 1 client; its listener went away "
					"(listener of :8080 gone 12s: ng\"inx[4242] nginx.service)");
	/* its JSON escapes the quote */
	{
		char line[4096];

		ct_finding_json(f, line, sizeof(line));
		assert_non_null(strstr(line, "\"listener\":\"listener of :8080 gone 12s: "
					     "ng\\\"inx[4242] nginx.service\"}"));
		assert_non_null(strstr(line, "{\"severity\":\"critical\",\"rule\":\"refused\","));
	}
	ct_diag_free(d);
	/* live, nothing ever listened */
	d = fresh();
	r = close_of(1, 0, 2, 8009, CT_CLOSE_REFUSED);
	r.flow.own_flags = CT_OWN_NOSOCK;
	feed(d, r, 3);
	assert_non_null(strstr(find(d, "refused", NULL)->summary,
			       "; nothing listened there since closetrace started"));
	ct_diag_free(d);
}

static void t_unanswered(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;

	(void)state;
	feed(d, close_of(1, 0, 9, 80, CT_CLOSE_UNANSWERED), 2);
	assert_null(find(d, "unanswered", NULL));
	feed(d, close_of(2, 0, 9, 80, CT_CLOSE_UNANSWERED), 1);
	f = find(d, "unanswered", NULL);
	assert_non_null(f);
	assert_int_equal(f->sev, CT_SEV_WARNING);
	assert_string_equal(f->summary, "10.0.1.9:80 never answers: 3 connection attempts got "
					"no reply (S0), 3.0 SYNs each, from 2 clients");
	assert_string_equal(f->evidence, "server 10.0.1.9:80, unanswered 3, SYNs 9, clients 2");
	ct_diag_free(d);
}

static void t_resets_sessions(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	struct ct_record r = close_of(1, 0, 2, 8080, CT_CLOSE_RESET_SERVER);

	(void)state;
	r.flow.rst_reason = 3;		/* a reason byte: its name is the reasons table's */
	feed(d, r, 4);
	feed(d, close_of(1, 0, 2, 8080, CT_CLOSE_GRACEFUL), 1);
	f = find(d, "resets-sessions", NULL);
	assert_non_null(f);		/* 4 of 5: 80 % */
	assert_int_equal(f->sev, CT_SEV_WARNING);
	assert_non_null(strstr(f->summary, "the server 10.0.1.2:8080 ends every session with a "
					   "RST: 4 of 5 established connections (reasons: "));
	feed(d, close_of(1, 0, 2, 8080, CT_CLOSE_GRACEFUL), 1);
	assert_null(find(d, "resets-sessions", NULL));	/* 4 of 6 */
	ct_diag_free(d);
	/* a capture: no reason known, said */
	d = fresh();
	feed(d, close_of(1, 0, 2, 8080, CT_CLOSE_RESET_SERVER), 3);
	assert_non_null(strstr(find(d, "resets-sessions", NULL)->summary,
			       "(reasons: not known: a capture, or a kernel before 6.10)"));
	ct_diag_free(d);
}

static void t_orphans_and_interrupts(void **state)
{
	static const int fin_then_rst[] = { 0, CT_L_SYN, 1, CT_L_SYNACK, 0, CT_L_ACK, 1, CT_L_DATA,
					    0, CT_L_FIN, 0, CT_L_RST };
	static const int rst_then_fin[] = { 0, CT_L_SYN, 1, CT_L_SYNACK, 0, CT_L_ACK, 1, CT_L_DATA,
					    0, CT_L_RST, 0, CT_L_FIN };
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	struct ct_record r;

	(void)state;
	feed(d, close_of(1, 0, 2, 80, CT_CLOSE_ORPHAN_RST), 3);
	f = find(d, "orphan-rst", NULL);
	assert_non_null(f);
	assert_int_equal(f->sev, CT_SEV_WARNING);
	/* a user interrupt: client FIN then RST, the server sending: info, once is enough */
	r = close_of(1, 0, 3, 443, CT_CLOSE_FIN_RESET);
	r.rst_by = CT_BY_CLT;
	r.flow.state |= CT_ST_CT;
	r.flow.bytes[CT_EP_HI] = 50000;
	r.flow.bytes[CT_EP_LO] = 200;
	r.flow.history = history(6, fin_then_rst);
	feed(d, r, 1);
	f = find(d, "user-interrupt", NULL);
	assert_non_null(f);
	assert_int_equal(f->sev, CT_SEV_INFO);
	ct_diag_free(d);
	/* RST before the FIN, or the client sending most: not one */
	d = fresh();
	r.flow.history = history(6, rst_then_fin);
	feed(d, r, 3);
	r.flow.history = history(6, fin_then_rst);
	r.flow.bytes[CT_EP_LO] = 90000;
	feed(d, r, 3);
	assert_null(find(d, "user-interrupt", NULL));
	ct_diag_free(d);
}

static void t_scan(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	struct ct_record r;

	(void)state;
	/* 14 ports of one host refused: no scan; the 15th: one */
	for (int p = 0; p < 14; p++) {
		r = close_of(7, 50000, 2, (__u16)(1000 + p), CT_CLOSE_REFUSED);
		r.ts_ns = T0 + (__u64)p * SEC;
		ct_diag_feed(d, &r);
	}
	assert_null(find(d, "scan", NULL));
	r = close_of(7, 50000, 2, 2000, CT_CLOSE_REFUSED);
	r.ts_ns = T0 + 20 * SEC;
	ct_diag_feed(d, &r);
	f = find(d, "scan", NULL);
	assert_non_null(f);
	assert_string_equal(f->summary, "10.0.0.7 scans: refused or unanswered on 15 ports of "
					"10.0.1.2");
	ct_diag_free(d);
	/* the same 15 ports, but over an hour: not within 5 minutes, no scan */
	d = fresh();
	for (int p = 0; p < 15; p++) {
		r = close_of(7, 50000, 2, (__u16)(1000 + p), CT_CLOSE_REFUSED);
		r.ts_ns = T0 + (__u64)p * 240 * SEC;
		ct_diag_feed(d, &r);
	}
	assert_null(find(d, "scan", NULL));
	ct_diag_free(d);
	/* 25 hosts unanswered */
	d = fresh();
	for (int h = 0; h < 25; h++) {
		r = close_of(8, 50000, 10 + h, 22, CT_CLOSE_UNANSWERED);
		ct_diag_feed(d, &r);
	}
	f = find(d, "scan", NULL);
	assert_non_null(f);
	assert_string_equal(f->summary, "10.0.0.8 scans: refused or unanswered by 25 hosts");
	ct_diag_free(d);
}

/* Live, with the socket tracepoints: a refusal no socket of this host took part in */
static void t_refused_elsewhere(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;

	(void)state;
	ct_diag_set_owners(d, 1);
	feed(d, close_of(1, 0, 2, 8016, CT_CLOSE_REFUSED), 3);
	f = find(d, "refused", NULL);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "; not by a socket of this host: a firewall's REJECT "
					   "here or beyond, or traffic this host forwards"));
	assert_non_null(strstr(f->next, "nft list ruleset"));
	ct_diag_free(d);
	/* a capture (no tracepoints): nothing said of it */
	d = fresh();
	feed(d, close_of(1, 0, 2, 8016, CT_CLOSE_REFUSED), 3);
	assert_null(strstr(find(d, "refused", NULL)->summary, "not by a socket"));
	ct_diag_free(d);
}

/* Clients told apart past a few, each counted once; their zones named with counts */
static void t_clients_and_zones(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	struct ct_zones zs;
	char err[128];

	(void)state;
	ct_zones_init(&zs);
	assert_int_equal(ct_zones_parse(&zs, "10.0.0.0/29 lab\n", "z", err, sizeof(err)), 0);
	for (int c = 1; c <= 10; c++) {
		struct ct_record r = close_of(c, 0, 2, 1194, CT_CLOSE_REFUSED);

		r.zones = &zs;
		feed(d, r, 3);
	}
	f = find(d, "refused", NULL);
	assert_non_null(f);
	assert_string_equal(f->summary, "10.0.1.2:1194 refuses connections: 30 of 30 attempts "
					"refused (REJ), from 10 clients (zones lab 21, "
					"10.0.0.0/24 9)");
	ct_diag_free(d);
	ct_zones_free(&zs);
}

/* Normal traffic: graceful closes, a few resets and refusals below the thresholds,
 * health checks: nothing at warning or above */
static void t_normal(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	struct ct_record r;
	size_t n;

	(void)state;
	for (int c = 1; c < 50; c++)
		feed(d, close_of(c, 0, 2, 443, CT_CLOSE_GRACEFUL), 20);
	feed(d, close_of(1, 0, 2, 443, CT_CLOSE_RESET_SERVER), 2);
	feed(d, close_of(1, 0, 2, 8443, CT_CLOSE_REFUSED), 1);
	r = close_of(9, 0, 2, 80, CT_CLOSE_GRACEFUL);
	r.flow.bytes[0] = r.flow.bytes[1] = 0;	/* a health check */
	feed(d, r, 30);
	n = ct_diag_findings(d, &f);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(f[i].sev, CT_SEV_INFO);
	assert_non_null(find(d, "no-data", NULL));
	ct_diag_free(d);
}

/* Most severe first, heaviest first within a severity */
static void t_ranking(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	size_t n;

	(void)state;
	feed(d, close_of(1, 0, 9, 80, CT_CLOSE_UNANSWERED), 3);
	feed(d, close_of(1, 0, 8, 80, CT_CLOSE_UNANSWERED), 6);
	feed(d, close_of(1, 0, 2, 1194, CT_CLOSE_REFUSED), 3);

	{
		struct ct_record r = close_of(9, 0, 2, 80, CT_CLOSE_GRACEFUL);

		r.flow.bytes[0] = r.flow.bytes[1] = 0;
		feed(d, r, 3);
	}
	n = ct_diag_findings(d, &f);
	assert_int_equal(n, 4);
	assert_string_equal(f[0].rule, "refused");
	assert_string_equal(f[1].rule, "unanswered");
	assert_non_null(strstr(f[1].summary, "10.0.1.8:80"));	/* 6 before 3 */
	assert_string_equal(f[2].rule, "unanswered");
	assert_string_equal(f[3].rule, "no-data");
	assert_int_equal(ct_severity_parse("warning"), CT_SEV_WARNING);
	assert_int_equal(ct_severity_parse("fatal"), -1);
	ct_diag_free(d);
}

/*
 * A storm is connections open together, ended at once. Long sessions ended one by one at a
 * steady rate (each open long before) make none, as many a second as they may be; the
 * same sessions all ended within 10 ms do; and the storm outranks a refusal as critical.
 */
static void t_storm(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	struct ct_record r = close_of(1, 0, 6, 6379, CT_CLOSE_RESET_SERVER);
	size_t n;

	(void)state;
	/* 20 a second for 100 s, each open 30 s: 600 open together at any time */
	for (int i = 0; i < 2000; i++) {
		r.key.port[CT_EP_LO] = (__u16)(20000 + i);
		r.key.addr[CT_EP_LO][3] = htonl(0x0a000000u | (__u32)(1 + i % 200));
		r.ts_ns = T0 + 100 * SEC + (__u64)i * SEC / 20;
		r.start_ns = r.ts_ns - 30 * SEC;
		ct_diag_feed(d, &r);
	}
	assert_null(find(d, "reset-storm", NULL));
	assert_non_null(find(d, "resets-sessions", NULL));
	ct_diag_free(d);

	d = fresh();
	feed(d, close_of(1, 0, 6, 6379, CT_CLOSE_GRACEFUL), 40);
	for (int i = 0; i < 12; i++) {
		r.key.port[CT_EP_LO] = (__u16)(20000 + i);
		r.key.addr[CT_EP_LO][3] = htonl(0x0a000000u | (__u32)(1 + i % 4));
		r.start_ns = T0 + (__u64)i * SEC;
		r.ts_ns = T0 + 60 * SEC + (__u64)i * SEC / 1000;
		ct_diag_feed(d, &r);
	}
	r = close_of(1, 0, 6, 6379, CT_CLOSE_REFUSED);
	r.ts_ns = T0 + 61 * SEC;
	feed(d, r, 30);
	n = ct_diag_findings(d, &f);
	assert_true(n >= 2);
	assert_string_equal(f[0].rule, "reset-storm");
	assert_int_equal(f[0].sev, CT_SEV_CRITICAL);
	assert_non_null(strstr(f[0].summary, "ended 12 connections open together within "
					     "0.011 s at 2023-11-14T22:14:20Z, 12 by a RST, "
					     "from 4 clients"));
	assert_string_equal(f[1].rule, "refused");
	assert_non_null(strstr(f[1].summary, "refused since it ended its connections"));
	ct_diag_free(d);
}

/*
 * The spike rule: an interval against the mean of those before it, with 6 of history at
 * least; a gap longer than the intervals kept, records a little late, and an interval
 * that the findings judge while it is still open.
 */
static void t_spike(void **state)
{
	struct ct_diag *d = fresh();
	const struct ct_finding *f;
	struct ct_record g = close_of(1, 0, 2, 80, CT_CLOSE_GRACEFUL);
	struct ct_record r = close_of(1, 0, 3, 1194, CT_CLOSE_REFUSED);

	(void)state;
	/* 50 s of history, then 12 refusals in one interval: too little history */
	for (int i = 0; i < 50; i++) {
		g.ts_ns = T0 + (__u64)i * SEC;
		ct_diag_feed(d, &g);
	}
	for (int i = 0; i < 12; i++) {
		r.ts_ns = T0 + 50 * SEC + (__u64)i * SEC / 2;
		ct_diag_feed(d, &r);
	}
	assert_null(find(d, "spike", NULL));
	/* 70 s later (7 intervals of history): 12 more, one of them a little late */
	for (int i = 0; i < 12; i++) {
		r.ts_ns = T0 + 120 * SEC + (__u64)i * SEC / 2;
		ct_diag_feed(d, &r);
		if (i == 5) {
			g.ts_ns = T0 + 131 * SEC;	/* the next interval begins */
			ct_diag_feed(d, &g);
		}
	}
	f = find(d, "spike", NULL);
	assert_non_null(f);
	assert_int_equal(f->sev, CT_SEV_WARNING);
	assert_int_equal(f->cls, CT_FC_CONTEXT);
	/* the earlier 12 over the 12 intervals before: a baseline of 1.0, 12 times that */
	assert_non_null(strstr(f->summary, "failed closes rose to 12 in the 10 s from "
					   "2023-11-14T22:15:20Z, 12 times this host's baseline of "
					   "1.0 (refused 12,"));
	assert_non_null(strstr(f->summary, "most toward 10.0.1.3 (12)"));
	/* an hour later, past the intervals kept: a steady trickle makes no other spike */
	for (int i = 0; i < 200; i++) {
		r.ts_ns = T0 + 3600 * SEC + (__u64)i * 5 * SEC;
		ct_diag_feed(d, &r);
	}
	f = find(d, "spike", NULL);
	assert_non_null(f);
	assert_null(strstr(f->summary, "other spikes"));
	/* then a burst of 30 that the findings judge while its interval is open */
	for (int i = 0; i < 30; i++) {
		r.ts_ns = T0 + 4700 * SEC + (__u64)i * SEC / 10;
		ct_diag_feed(d, &r);
	}
	f = find(d, "spike", NULL);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "failed closes rose to 30"));
	assert_non_null(strstr(f->summary, "and other spikes"));
	ct_diag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_refused),
		cmocka_unit_test(t_unanswered),
		cmocka_unit_test(t_resets_sessions),
		cmocka_unit_test(t_orphans_and_interrupts),
		cmocka_unit_test(t_scan),
		cmocka_unit_test(t_clients_and_zones),
		cmocka_unit_test(t_refused_elsewhere),
		cmocka_unit_test(t_normal),
		cmocka_unit_test(t_ranking),
		cmocka_unit_test(t_storm),
		cmocka_unit_test(t_spike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
