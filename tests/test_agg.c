// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_agg.c - unit tests, no privileges: top's model. Grouping by server, server IP,
 * client IP and flow; every ranking column; per-interval samples and the rates drawn from
 * them; the window for ended flows; evicted and restarted flows; the filter applied to
 * groups and samples; the sparkline; a whole batch frame rendered line by line.
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

#include "agg.h"
#include "classify.h"
#include "closetrace.h"
#include "filter.h"
#include "record.h"
#include "topview.h"

#define SEC 1000000000ull
#define T0 (1700000000ull * SEC)

struct spec {
	const char *cip, *sip;
	__u16 cport, sport;
	__u32 syn, fin_c, fin_s, rst_c, rst_s;
	int ct;
	__u8 close;
	__u64 first, ts;	/* ns after T0 */
};

/* A record of a flow as top is fed it: client in the HI endpoint, IPv4 or IPv6. */
static struct ct_record rec(const struct spec *s, enum ct_rec_type type)
{
	struct ct_record r = { 0 };
	int c = CT_EP_HI, v = CT_EP_LO, v6 = !!strchr(s->cip, ':');

	r.type = type;
	if (v6) {
		inet_pton(AF_INET6, s->cip, r.key.addr[c]);
		inet_pton(AF_INET6, s->sip, r.key.addr[v]);
	} else {
		r.key.addr[c][2] = r.key.addr[v][2] = htonl(0xffff);
		inet_pton(AF_INET, s->cip, &r.key.addr[c][3]);
		inet_pton(AF_INET, s->sip, &r.key.addr[v][3]);
	}
	r.key.port[c] = s->cport;
	r.key.port[v] = s->sport;
	r.key.ifvlan = CT_IFVLAN(2, 0);
	r.client_ep = (__u8)c;
	r.flow.state = CT_ST_ROLE | CT_ST_CLIENT_HI | (s->ct ? CT_ST_CT : 0) |
		       (s->close ? CT_ST_ENDED : 0);
	r.flow.syn[c] = s->syn;
	r.flow.fin[c] = s->fin_c;
	r.flow.fin[v] = s->fin_s;
	r.flow.rst[c] = s->rst_c;
	r.flow.rst[v] = s->rst_s;
	r.flow.first_ns = 1000 + s->first;	/* the kernel's clock: any */
	r.flow.close = s->close;
	r.close = s->close;
	r.start_ns = T0 + s->first;
	r.ts_ns = T0 + s->ts;
	r.iface = "eth0";
	return r;
}

static void feed(struct ct_agg *a, const struct spec *s, enum ct_rec_type type, __u64 now)
{
	struct ct_record r = rec(s, type);

	assert_int_equal(ct_agg_feed(a, &r, T0 + now), 0);
}

/* Three servers: web answers and gets reset by clients, db refuses, dns never answers. */
static const struct spec mix[] = {
	{ "10.0.0.1", "10.0.1.1", 40001, 80, 1, 1, 1, 0, 0, 1, CT_CLOSE_GRACEFUL, 0, SEC },
	{ "10.0.0.2", "10.0.1.1", 40002, 80, 1, 0, 0, 0, 3, 1, CT_CLOSE_RESET_SERVER, 0, 2 * SEC },
	{ "10.0.0.2", "10.0.1.1", 40003, 80, 1, 1, 0, 0, 1, 1, CT_CLOSE_FIN_RESET, 0, 2 * SEC },
	{ "10.0.0.1", "10.0.1.2", 40004, 5432, 2, 0, 0, 0, 1, 0, CT_CLOSE_REFUSED, 0, SEC },
	{ "10.0.0.1", "10.0.1.2", 40005, 5432, 1, 0, 0, 0, 1, 0, CT_CLOSE_REFUSED, 0, 3 * SEC },
	{ "10.0.0.3", "10.0.1.3", 40006, 53, 3, 0, 0, 0, 0, 0, CT_CLOSE_UNANSWERED, 0, 10 * SEC },
	{ "10.0.0.3", "10.0.1.1", 40007, 443, 1, 0, 0, 2, 0, 1, CT_CLOSE_RESET_CLIENT, 0, 4 * SEC },
};
#define NMIX (sizeof(mix) / sizeof(mix[0]))

static struct ct_agg *fed_mix(void)
{
	struct ct_agg *a = ct_agg_new(0);

	assert_non_null(a);
	for (size_t i = 0; i < NMIX; i++)
		feed(a, &mix[i], CT_REC_FLOW, mix[i].ts);
	return a;
}

static const struct ct_group *find(const struct ct_group *g, size_t n, const char *ip,
				   int side, __u16 port)
{
	__u32 want;

	inet_pton(AF_INET, ip, &want);
	for (size_t i = 0; i < n; i++)
		if (g[i].key.addr[side][3] == want && g[i].key.port[side] == port)
			return &g[i];
	return NULL;
}

static void test_group_by_server(void **state)
{
	struct ct_agg *a = fed_mix();
	const struct ct_group *g, *web, *db, *dns;
	size_t n = ct_agg_groups(a, CT_G_SERVER, CT_COL_RST_SRV, NULL, &g);

	(void)state;
	assert_int_equal(n, 4);
	web = find(g, n, "10.0.1.1", 1, 80);
	db = find(g, n, "10.0.1.2", 1, 5432);
	dns = find(g, n, "10.0.1.3", 1, 53);
	assert_non_null(web);
	assert_non_null(db);
	assert_non_null(dns);
	assert_int_equal(web->flows, 3);
	assert_int_equal(web->ct, 3);
	assert_int_equal(web->syn, 3);
	assert_int_equal(web->fin[0], 2);
	assert_int_equal(web->fin[1], 1);
	assert_int_equal(web->rst[0], 0);
	assert_int_equal(web->rst[1], 4);
	assert_int_equal(web->closes[CT_CLOSE_RESET_SERVER], 1);
	assert_int_equal(web->closes[CT_CLOSE_FIN_RESET], 1);
	assert_int_equal(web->closes[CT_CLOSE_GRACEFUL], 1);
	assert_int_equal(web->last_abn, CT_CLOSE_FIN_RESET);	/* both at 2 s: the later fed */
	assert_true(web->last_abn_ns == T0 + 2 * SEC);
	assert_int_equal(db->closes[CT_CLOSE_REFUSED], 2);
	assert_int_equal(db->ct, 0);
	assert_int_equal(db->last_abn, CT_CLOSE_REFUSED);
	assert_true(db->last_abn_ns == T0 + 3 * SEC);
	assert_int_equal(dns->closes[CT_CLOSE_UNANSWERED], 1);
	assert_int_equal(dns->syn, 3);
	/* ranked by server RST: web (4), db (2), then the two with none, busier first */
	assert_ptr_equal(&g[0], web);
	assert_ptr_equal(&g[1], db);
	ct_agg_free(a);
}

static void test_group_by_ip_and_flow(void **state)
{
	struct ct_agg *a = fed_mix();
	const struct ct_group *g, *x;
	size_t n;

	(void)state;
	n = ct_agg_groups(a, CT_G_SERVER_IP, CT_COL_FLOWS, NULL, &g);
	assert_int_equal(n, 3);
	x = find(g, n, "10.0.1.1", 1, 0);
	assert_non_null(x);
	assert_int_equal(x->flows, 4);	/* ports 80 and 443 together */
	assert_ptr_equal(&g[0], x);
	assert_int_equal(x->rst[0], 2);
	assert_int_equal(x->closes[CT_CLOSE_RESET_CLIENT], 1);

	n = ct_agg_groups(a, CT_G_CLIENT_IP, CT_COL_REFUSED, NULL, &g);
	assert_int_equal(n, 3);
	x = find(g, n, "10.0.0.1", 0, 0);
	assert_non_null(x);
	assert_int_equal(x->flows, 3);
	assert_int_equal(x->closes[CT_CLOSE_REFUSED], 2);
	assert_ptr_equal(&g[0], x);

	n = ct_agg_groups(a, CT_G_FLOW, CT_COL_FLOWS, NULL, &g);
	assert_int_equal(n, NMIX);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(g[i].flows, 1);
	ct_agg_free(a);
}

/* Every column ranks: the group on top has the largest value of it. */
static void test_rank_every_column(void **state)
{
	struct ct_agg *a = fed_mix();
	const struct ct_group *g;

	(void)state;
	for (int c = 0; c < CT_COL_MAX; c++) {
		size_t n = ct_agg_groups(a, CT_G_SERVER, (enum ct_col)c, NULL, &g);

		assert_int_equal(n, 4);
		for (size_t i = 1; i < n; i++)
			assert_true(ct_group_value(&g[i - 1], c) >= ct_group_value(&g[i], c));
	}
	/* the values themselves, for the web server */
	ct_agg_groups(a, CT_G_SERVER, CT_COL_RST_SRV, NULL, &g);
	assert_true(ct_group_value(&g[0], CT_COL_SYN_PER) == 1.0);
	assert_true(ct_group_value(&g[0], CT_COL_RST_PER) == 4.0 / 3.0);
	assert_true(ct_group_value(&g[0], CT_COL_RESETS) == 1.0);
	assert_true(ct_group_value(&g[0], CT_COL_FIN_RESET) == 1.0);
	ct_agg_groups(a, CT_G_SERVER, CT_COL_SYN_PER, NULL, &g);
	assert_int_equal(g[0].key.port[1], 53);	/* 3 SYNs for one connection */
	assert_true(ct_group_value(&g[0], CT_COL_SYN_PER) == 3.0);
	ct_agg_groups(a, CT_G_SERVER, CT_COL_LAST, NULL, &g);
	assert_int_equal(g[0].key.port[1], 53);	/* the latest abnormal close, at 10 s */
	assert_true(ct_ratio(5, 0) == 0.0);
	ct_agg_free(a);
}

static void test_filter_applies_to_groups(void **state)
{
	struct ct_filter_error err;
	struct ct_filter *f = ct_filter_parse("rst.count > 0 and fin.count = 0", &err);
	struct ct_agg *a = fed_mix();
	const struct ct_group *g;
	size_t n;

	(void)state;
	assert_non_null(f);
	n = ct_agg_groups(a, CT_G_SERVER, CT_COL_FLOWS, f, &g);
	/* reset-server on 80, two refusals on 5432, reset-client on 443 */
	assert_int_equal(n, 3);
	assert_int_equal(g[0].key.port[1], 5432);
	assert_int_equal(g[0].flows, 2);
	ct_filter_free(f);
	ct_agg_free(a);
}

/* Samples: new connections, RSTs by side as they grow, closes once each. */
static void test_tick_samples(void **state)
{
	struct ct_agg *a = ct_agg_new(60 * SEC);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
	struct spec o = { "10.0.0.9", "10.0.1.1", 40009, 80, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
	const struct ct_sample *x, *h;

	(void)state;
	feed(a, &s, CT_REC_OPEN, 0);
	feed(a, &o, CT_REC_OPEN, 0);
	x = ct_agg_tick(a, T0 + SEC, NULL, 1);
	assert_int_equal(x->conns, 2);
	assert_int_equal(x->rst[0] + x->rst[1], 0);
	assert_int_equal(x->dt_ns, 0);	/* the first interval has no known start */

	s.rst_s = 2;	/* the server resets: close decided, RSTs counted once */
	s.close = CT_CLOSE_RESET_SERVER;
	s.ts = SEC + SEC / 2;
	feed(a, &s, CT_REC_CLOSE, SEC + SEC / 2);
	feed(a, &s, CT_REC_OPEN, 2 * SEC);
	feed(a, &o, CT_REC_OPEN, 2 * SEC);
	x = ct_agg_tick(a, T0 + 2 * SEC, NULL, 1);
	assert_int_equal(x->conns, 0);
	assert_int_equal(x->rst[1], 2);
	assert_int_equal(x->rst[0], 0);
	assert_int_equal(x->closes[CT_CLOSE_RESET_SERVER], 1);
	assert_true(x->dt_ns == SEC);
	assert_true(ct_sample_rst_per_conn(x, 1) == 2.0);	/* no new connection: over one */

	s.rst_s = 3;	/* one more RST on the ended flow: counted, the close is not again */
	feed(a, &s, CT_REC_OPEN, 3 * SEC);
	feed(a, &o, CT_REC_OPEN, 3 * SEC);
	x = ct_agg_tick(a, T0 + 3 * SEC, NULL, 1);
	assert_int_equal(x->rst[1], 1);
	assert_int_equal(x->closes[CT_CLOSE_RESET_SERVER], 0);
	assert_int_equal(ct_agg_history(a, &h, 10), 3);
	assert_int_equal(h[0].conns, 2);
	assert_int_equal(h[2].rst[1], 1);
	ct_agg_free(a);
}

/* A tick without a whole scan evicts nothing; a flow seen again is the same flow. */
static void test_missed_scan(void **state)
{
	struct ct_agg *a = ct_agg_new(SEC);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 1, 0, 0, 0, 3, 1, 0, 0, 0 };
	const struct ct_sample *x;
	__u64 conns = 0, rst = 0;

	(void)state;
	feed(a, &s, CT_REC_OPEN, 0);
	x = ct_agg_tick(a, T0 + SEC, NULL, 1);
	conns += x->conns;
	rst += x->rst[1];
	x = ct_agg_tick(a, T0 + 2 * SEC, NULL, 0);	/* the scan failed */
	assert_int_equal(ct_agg_flows(a, NULL), 1);
	x = ct_agg_tick(a, T0 + 3 * SEC, NULL, 1);	/* not fed: evicted, it seems */
	feed(a, &s, CT_REC_OPEN, 3 * SEC + 1);	/* ... but the next scan sees it */
	x = ct_agg_tick(a, T0 + 5 * SEC, NULL, 1);
	conns += x->conns;
	rst += x->rst[1];
	assert_int_equal(ct_agg_flows(a, NULL), 1);
	assert_int_equal(conns, 1);
	assert_int_equal(rst, 3);
	ct_agg_free(a);
}

/* A flow that passes the filter only later brings its connection along. */
static void test_filter_passes_later(void **state)
{
	struct ct_filter_error err;
	struct ct_filter *f = ct_filter_parse("close = reset-server", &err);
	struct ct_agg *a = ct_agg_new(60 * SEC);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
	const struct ct_sample *x;

	(void)state;
	assert_non_null(f);
	feed(a, &s, CT_REC_OPEN, 0);
	x = ct_agg_tick(a, T0 + SEC, f, 1);
	assert_int_equal(x->conns, 0);
	s.rst_s = 1;
	s.close = CT_CLOSE_RESET_SERVER;
	feed(a, &s, CT_REC_CLOSE, 2 * SEC);
	x = ct_agg_tick(a, T0 + 2 * SEC, f, 1);
	assert_int_equal(x->conns, 1);
	assert_int_equal(x->rst[1], 1);
	assert_int_equal(x->closes[CT_CLOSE_RESET_SERVER], 1);
	ct_filter_free(f);
	ct_agg_free(a);
}

/* The client learnt late (a guess, then the SYN-ACK): RSTs are counted once each. */
static void test_role_learnt_late(void **state)
{
	struct ct_agg *a = ct_agg_new(60 * SEC);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 0, 0, 0, 2, 0, 1, 0, 0, 0 };
	struct ct_record r = rec(&s, CT_REC_OPEN);
	const struct ct_sample *x;

	(void)state;
	/* guessed the other way round: the HI endpoint's 2 RSTs look like the server's */
	r.client_ep = CT_EP_LO;
	assert_int_equal(ct_agg_feed(a, &r, T0), 0);
	x = ct_agg_tick(a, T0 + SEC, NULL, 1);
	assert_int_equal(x->rst[1], 2);
	r.client_ep = CT_EP_HI;	/* now known; one more RST from the same endpoint */
	r.flow.rst[CT_EP_HI] = 3;
	assert_int_equal(ct_agg_feed(a, &r, T0 + 2 * SEC), 0);
	x = ct_agg_tick(a, T0 + 2 * SEC, NULL, 1);
	assert_int_equal(x->rst[0], 1);
	assert_int_equal(x->rst[1], 0);
	ct_agg_free(a);
}

/* Ended flows count for the window, then go; flows the scan stops seeing were evicted. */
static void test_window_and_eviction(void **state)
{
	struct ct_agg *a = ct_agg_new(10 * SEC);
	struct spec r = { "10.0.0.1", "10.0.1.2", 40004, 5432, 1, 0, 0, 0, 1, 0,
			  CT_CLOSE_REFUSED, 0, 0 };
	struct spec o = { "10.0.0.9", "10.0.1.1", 40009, 80, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
	const struct ct_group *g;
	size_t ended;

	(void)state;
	feed(a, &r, CT_REC_CLOSE, 0);
	feed(a, &r, CT_REC_FLOW, 0);	/* removed from the table at once */
	feed(a, &o, CT_REC_OPEN, 0);
	ct_agg_tick(a, T0 + SEC, NULL, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 2);
	assert_int_equal(ended, 1);
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER, CT_COL_REFUSED, NULL, &g), 2);
	assert_int_equal(g[0].closes[CT_CLOSE_REFUSED], 1);
	/* 9 s later the refusal still counts; the open flow is not fed: evicted */
	ct_agg_tick(a, T0 + 10 * SEC, NULL, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 2);
	assert_int_equal(ended, 2);
	ct_agg_tick(a, T0 + 10 * SEC + SEC / 2, NULL, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 1);	/* the refusal left the window */
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER, CT_COL_REFUSED, NULL, &g), 1);
	assert_int_equal(g[0].closes[CT_CLOSE_REFUSED], 0);
	ct_agg_tick(a, T0 + 21 * SEC, NULL, 1);
	assert_int_equal(ct_agg_flows(a, NULL), 0);
	ct_agg_free(a);
}

/* A new SYN on the 5-tuple of an ended flow is another flow; reset forgets ended ones. */
static void test_restart_and_reset(void **state)
{
	struct ct_agg *a = ct_agg_new(60 * SEC);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 1, 0, 0, 0, 1, 1,
			  CT_CLOSE_RESET_SERVER, 0, SEC };
	const struct ct_group *g;
	const struct ct_sample *h;

	(void)state;
	feed(a, &s, CT_REC_CLOSE, SEC);
	feed(a, &s, CT_REC_FLOW, 2 * SEC);	/* replaced */
	s.first = 2 * SEC;
	s.rst_s = 0;
	s.close = CT_CLOSE_NONE;
	feed(a, &s, CT_REC_OPEN, 2 * SEC);
	ct_agg_tick(a, T0 + 3 * SEC, NULL, 1);
	assert_int_equal(ct_agg_groups(a, CT_G_FLOW, CT_COL_FLOWS, NULL, &g), 1);
	assert_int_equal(g[0].flows, 2);
	assert_int_equal(g[0].closes[CT_CLOSE_RESET_SERVER], 1);
	ct_agg_reset(a);
	assert_int_equal(ct_agg_history(a, &h, 10), 0);
	assert_int_equal(ct_agg_flows(a, NULL), 1);
	assert_int_equal(ct_agg_groups(a, CT_G_FLOW, CT_COL_FLOWS, NULL, &g), 1);
	assert_int_equal(g[0].flows, 1);
	ct_agg_free(a);
}

/* Many flows: the hash grows, removal keeps chains intact. */
static void test_many_flows(void **state)
{
	struct ct_agg *a = ct_agg_new(SEC);
	struct spec s = { "10.0.0.1", "10.0.1.1", 0, 80, 1, 1, 1, 0, 0, 1, CT_CLOSE_GRACEFUL,
			  0, 0 };
	const struct ct_group *g;
	size_t ended;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		s.cport = (__u16)(1024 + i);
		feed(a, &s, i % 2 ? CT_REC_FLOW : CT_REC_OPEN, 0);
	}
	assert_int_equal(ct_agg_flows(a, NULL), 5000);
	ct_agg_tick(a, T0 + SEC / 2, NULL, 1);	/* the open half: unseen since, evicted */
	for (int i = 0; i < 5000; i += 4) {	/* a quarter seen again */
		s.cport = (__u16)(1024 + i);
		feed(a, &s, CT_REC_OPEN, SEC);
	}
	assert_int_equal(ct_agg_flows(a, NULL), 5000);
	/* the ended half leaves the 1 s window; the open ones not seen again were evicted */
	ct_agg_tick(a, T0 + 3 * SEC, NULL, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 2500);
	assert_int_equal(ended, 1250);
	for (int i = 0; i < 5000; i += 4) {
		s.cport = (__u16)(1024 + i);
		feed(a, &s, CT_REC_OPEN, 4 * SEC);
	}
	ct_agg_tick(a, T0 + 5 * SEC, NULL, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 1250);
	assert_int_equal(ended, 0);
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER, CT_COL_FLOWS, NULL, &g), 1);
	assert_int_equal(g[0].flows, 1250);
	ct_agg_free(a);
}

static void test_history_span(void **state)
{
	struct ct_agg *a = fed_mix();
	const struct ct_sample *h;
	__u64 conns = 0, rst = 0;

	(void)state;
	ct_agg_history_span(a, T0, T0 + 10 * SEC, 5, NULL);
	assert_int_equal(ct_agg_history(a, &h, 100), 5);
	for (int i = 0; i < 5; i++) {
		conns += h[i].conns;
		rst += h[i].rst[0] + h[i].rst[1];
	}
	assert_int_equal(conns, NMIX);
	assert_int_equal(rst, 3 + 1 + 1 + 1 + 2);
	assert_int_equal(h[0].conns, NMIX);	/* all start at 0 */
	assert_int_equal(h[4].closes[CT_CLOSE_UNANSWERED], 1);	/* at 10 s: the last */
	/* steps of 2 s + 1 ns: closes at 1 and 2 s in the first, 3 and 4 s in the second */
	assert_int_equal(h[0].rst[1], 1 + 3 + 1);
	assert_int_equal(h[1].rst[1], 1);
	assert_int_equal(h[1].rst[0], 2);
	ct_agg_free(a);
}

static void test_sparkline(void **state)
{
	double v[] = { 0, 0.125, 0.5, 1.0, 2.0 };
	char buf[64];

	(void)state;
	ct_sparkline(v, 5, 2.0, 0, buf, sizeof(buf));
	assert_string_equal(buf, " _.:#");
	ct_sparkline(v, 5, 0, 1, buf, sizeof(buf));
	assert_string_equal(buf, " \u2581\u2582\u2584\u2588");
	ct_sparkline(v, 5, 0, 1, buf, 7);	/* cut, still terminated */
	assert_true(strlen(buf) < 7);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ct_grouping_name(CT_G_CLIENT_IP), "client-ip");
	assert_string_equal(ct_col_name(CT_COL_RST_SRV), "RST.S");
	assert_string_equal(ct_col_name(CT_COL_MAX), "?");
}

struct lines {
	char text[64][256];
	int kind[64];
	size_t start, len;
	int n;
};

static void collect(void *ctx, enum ct_line_kind kind, const char *text, size_t s, size_t l)
{
	struct lines *L = ctx;

	if (L->n >= 64)
		return;
	snprintf(L->text[L->n], sizeof(L->text[0]), "%s", text);
	L->kind[L->n++] = kind;
	if (kind == CT_LINE_TABLE_HEAD) {
		L->start = s;
		L->len = l;
	}
}

/* A whole frame over the mix: header, rates over the span, sparklines, ranked rows. */
static void test_render_frame(void **state)
{
	struct ct_agg *a = fed_mix();
	struct ct_view v = { .source = "t.pcap", .mode = "replay", .replay = 1,
			     .now_ns = T0 + 10 * SEC, .span_ns = 10 * SEC,
			     .grouping = CT_G_SERVER, .sort = CT_COL_RST_SRV, .width = 0 };
	static struct lines L;
	size_t n;

	(void)state;
	n = ct_view_render(&v, a, collect, &L);
	assert_int_equal(n, 4);
	assert_int_equal(L.n, 8 + 4);
	assert_string_equal(L.text[0], "closetrace top - t.pcap (replay) - 2023-11-14 22:13:30 UTC"
				       " - capture of 10.0 s");
	assert_string_equal(L.text[1], "conn/s 0.7  closes/s 0.7: graceful 0.1 refused 0.2 "
				       "reset-client 0.1 reset-server 0.1 fin-reset 0.1 "
				       "unanswered 0.1 other 0.0");
	assert_string_equal(L.text[2], "RST/conn 1.14 (clt 0.29 srv 0.86) over 7 conn  flows 7");
	assert_int_equal(L.kind[3], CT_LINE_SPARK);
	assert_true(!strncmp(L.text[3], "RST/conn clt [", 14));
	assert_true(!strncmp(L.text[4], "RST/conn srv [", 14));
	assert_string_equal(L.text[5], "group server (g)  sort RST.S (< >)  filter none (/)");
	assert_int_equal(L.kind[7], CT_LINE_TABLE_HEAD);
	assert_string_equal(L.text[7] + L.start, " RST.S REFUSED RESETS FINRST  UNANS RST/C  LAST");
	assert_int_equal(L.len, 6);
	assert_string_equal(L.text[8], "10.0.1.1:80        3      3  1.00      2      1      0"
				       "      4       0      1      1      0  1.33  fin-reset 8s ago");
	assert_string_equal(L.text[9], "10.0.1.2:5432      2      0  1.50      0      0      0"
				       "      2       2      0      0      0  1.00  refused 7s ago");
	/* narrow: every line cut to the width */
	v.width = 40;
	L.n = 0;
	ct_view_render(&v, a, collect, &L);
	for (int i = 0; i < L.n; i++)
		assert_true(strlen(L.text[i]) <= 40 || L.kind[i] == CT_LINE_SPARK);
	ct_agg_free(a);
}

/* The title names the capture or the interfaces, and the filter line the user's filter:
 * terminal controls in them are shown escaped, as batch mode prints lines raw. */
static void test_render_escapes_names(void **state)
{
	struct ct_agg *a = fed_mix();
	struct ct_view v = { .source = "a\x1b[31mb\xc2\x9b.pcap", .mode = "replay", .replay = 1,
			     .now_ns = T0 + 10 * SEC, .span_ns = 10 * SEC,
			     .grouping = CT_G_SERVER, .sort = CT_COL_RST_SRV,
			     .filter_text = "port\a 80" };
	static struct lines L;

	(void)state;
	ct_view_render(&v, a, collect, &L);
	assert_string_equal(L.text[0], "closetrace top - a\\x1b[31mb\\xc2\\x9b.pcap (replay) - "
				       "2023-11-14 22:13:30 UTC - capture of 10.0 s");
	assert_string_equal(L.text[5],
			    "group server (g)  sort RST.S (< >)  filter port\\x07 80 (/)");
	for (int i = 0; i < L.n; i++)
		for (const char *p = L.text[i]; *p; p++)
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	/* live: the interfaces' list */
	v.source = "eth0,e\x1bth1";
	v.mode = "tc";
	v.replay = 0;
	L.n = 0;
	ct_view_render(&v, a, collect, &L);
	assert_non_null(strstr(L.text[0], "closetrace top - eth0,e\\x1bth1 (tc) - "));
	ct_agg_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_by_server),
		cmocka_unit_test(test_group_by_ip_and_flow),
		cmocka_unit_test(test_rank_every_column),
		cmocka_unit_test(test_filter_applies_to_groups),
		cmocka_unit_test(test_tick_samples),
		cmocka_unit_test(test_missed_scan),
		cmocka_unit_test(test_filter_passes_later),
		cmocka_unit_test(test_role_learnt_late),
		cmocka_unit_test(test_window_and_eviction),
		cmocka_unit_test(test_restart_and_reset),
		cmocka_unit_test(test_many_flows),
		cmocka_unit_test(test_history_span),
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_render_frame),
		cmocka_unit_test(test_render_escapes_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
