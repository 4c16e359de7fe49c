// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_agg.c - unit tests, no privileges: top's model. Grouping by server, server IP,
 * client IP and flow; every ranking column; per-interval samples and the rates drawn from
 * them; the window for ended flows; evicted and restarted flows; the filter applied to
 * groups and samples; the sparkline; a whole batch frame rendered line by line. The caps:
 * a million sources fed through caps of a few thousand flows and a hundred groups keep
 * the memory bounded and every total exact, with what overflowed counted; (other) leaves
 * with the window; open flows folded, then closed, count once (embryonic ones forgotten
 * first past the table's capacity); SipHash against the reference vectors.
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
#include "siphash.h"
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
	struct ct_agg *a = ct_agg_new(0, NULL);

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
	size_t n = ct_agg_groups(a, CT_G_SERVER, CT_COL_RST_SRV, &g);

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
	n = ct_agg_groups(a, CT_G_SERVER_IP, CT_COL_FLOWS, &g);
	assert_int_equal(n, 3);
	x = find(g, n, "10.0.1.1", 1, 0);
	assert_non_null(x);
	assert_int_equal(x->flows, 4);	/* ports 80 and 443 together */
	assert_ptr_equal(&g[0], x);
	assert_int_equal(x->rst[0], 2);
	assert_int_equal(x->closes[CT_CLOSE_RESET_CLIENT], 1);

	n = ct_agg_groups(a, CT_G_CLIENT_IP, CT_COL_REFUSED, &g);
	assert_int_equal(n, 3);
	x = find(g, n, "10.0.0.1", 0, 0);
	assert_non_null(x);
	assert_int_equal(x->flows, 3);
	assert_int_equal(x->closes[CT_CLOSE_REFUSED], 2);
	assert_ptr_equal(&g[0], x);

	n = ct_agg_groups(a, CT_G_FLOW, CT_COL_FLOWS, &g);
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
		size_t n = ct_agg_groups(a, CT_G_SERVER, (enum ct_col)c, &g);

		assert_int_equal(n, 4);
		for (size_t i = 1; i < n; i++)
			assert_true(ct_group_value(&g[i - 1], c) >= ct_group_value(&g[i], c));
	}
	/* the values themselves, for the web server */
	ct_agg_groups(a, CT_G_SERVER, CT_COL_RST_SRV, &g);
	assert_true(ct_group_value(&g[0], CT_COL_SYN_PER) == 1.0);
	assert_true(ct_group_value(&g[0], CT_COL_RST_PER) == 4.0 / 3.0);
	assert_true(ct_group_value(&g[0], CT_COL_RESETS) == 1.0);
	assert_true(ct_group_value(&g[0], CT_COL_FIN_RESET) == 1.0);
	ct_agg_groups(a, CT_G_SERVER, CT_COL_SYN_PER, &g);
	assert_int_equal(g[0].key.port[1], 53);	/* 3 SYNs for one connection */
	assert_true(ct_group_value(&g[0], CT_COL_SYN_PER) == 3.0);
	ct_agg_groups(a, CT_G_SERVER, CT_COL_LAST, &g);
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
	ct_agg_set_filter(a, f);
	n = ct_agg_groups(a, CT_G_SERVER, CT_COL_FLOWS, &g);
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
	struct ct_agg *a = ct_agg_new(60 * SEC, NULL);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
	struct spec o = { "10.0.0.9", "10.0.1.1", 40009, 80, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
	const struct ct_sample *x, *h;

	(void)state;
	feed(a, &s, CT_REC_OPEN, 0);
	feed(a, &o, CT_REC_OPEN, 0);
	x = ct_agg_tick(a, T0 + SEC, 1);
	assert_int_equal(x->conns, 2);
	assert_int_equal(x->rst[0] + x->rst[1], 0);
	assert_int_equal(x->dt_ns, 0);	/* the first interval has no known start */

	s.rst_s = 2;	/* the server resets: close decided, RSTs counted once */
	s.close = CT_CLOSE_RESET_SERVER;
	s.ts = SEC + SEC / 2;
	feed(a, &s, CT_REC_CLOSE, SEC + SEC / 2);
	feed(a, &s, CT_REC_OPEN, 2 * SEC);
	feed(a, &o, CT_REC_OPEN, 2 * SEC);
	x = ct_agg_tick(a, T0 + 2 * SEC, 1);
	assert_int_equal(x->conns, 0);
	assert_int_equal(x->rst[1], 2);
	assert_int_equal(x->rst[0], 0);
	assert_int_equal(x->closes[CT_CLOSE_RESET_SERVER], 1);
	assert_true(x->dt_ns == SEC);
	assert_true(ct_sample_rst_per_conn(x, 1) == 2.0);	/* no new connection: over one */

	s.rst_s = 3;	/* one more RST on the ended flow: counted, the close is not again */
	feed(a, &s, CT_REC_OPEN, 3 * SEC);
	feed(a, &o, CT_REC_OPEN, 3 * SEC);
	x = ct_agg_tick(a, T0 + 3 * SEC, 1);
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
	struct ct_agg *a = ct_agg_new(SEC, NULL);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 1, 0, 0, 0, 3, 1, 0, 0, 0 };
	const struct ct_sample *x;
	__u64 conns = 0, rst = 0;

	(void)state;
	feed(a, &s, CT_REC_OPEN, 0);
	x = ct_agg_tick(a, T0 + SEC, 1);
	conns += x->conns;
	rst += x->rst[1];
	x = ct_agg_tick(a, T0 + 2 * SEC, 0);	/* the scan failed */
	assert_int_equal(ct_agg_flows(a, NULL), 1);
	x = ct_agg_tick(a, T0 + 3 * SEC, 1);	/* not fed: evicted, it seems */
	feed(a, &s, CT_REC_OPEN, 3 * SEC + 1);	/* ... but the next scan sees it */
	x = ct_agg_tick(a, T0 + 5 * SEC, 1);
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
	struct ct_agg *a = ct_agg_new(60 * SEC, NULL);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
	const struct ct_sample *x;

	(void)state;
	assert_non_null(f);
	ct_agg_set_filter(a, f);
	feed(a, &s, CT_REC_OPEN, 0);
	x = ct_agg_tick(a, T0 + SEC, 1);
	assert_int_equal(x->conns, 0);
	s.rst_s = 1;
	s.close = CT_CLOSE_RESET_SERVER;
	feed(a, &s, CT_REC_CLOSE, 2 * SEC);
	x = ct_agg_tick(a, T0 + 2 * SEC, 1);
	assert_int_equal(x->conns, 1);
	assert_int_equal(x->rst[1], 1);
	assert_int_equal(x->closes[CT_CLOSE_RESET_SERVER], 1);
	ct_filter_free(f);
	ct_agg_free(a);
}

/* The client learnt late (a guess, then the SYN-ACK): RSTs are counted once each. */
static void test_role_learnt_late(void **state)
{
	struct ct_agg *a = ct_agg_new(60 * SEC, NULL);
	struct spec s = { "10.0.0.1", "10.0.1.1", 40001, 80, 0, 0, 0, 2, 0, 1, 0, 0, 0 };
	struct ct_record r = rec(&s, CT_REC_OPEN);
	const struct ct_sample *x;

	(void)state;
	/* guessed the other way round: the HI endpoint's 2 RSTs look like the server's */
	r.client_ep = CT_EP_LO;
	assert_int_equal(ct_agg_feed(a, &r, T0), 0);
	x = ct_agg_tick(a, T0 + SEC, 1);
	assert_int_equal(x->rst[1], 2);
	r.client_ep = CT_EP_HI;	/* now known; one more RST from the same endpoint */
	r.flow.rst[CT_EP_HI] = 3;
	assert_int_equal(ct_agg_feed(a, &r, T0 + 2 * SEC), 0);
	x = ct_agg_tick(a, T0 + 2 * SEC, 1);
	assert_int_equal(x->rst[0], 1);
	assert_int_equal(x->rst[1], 0);
	ct_agg_free(a);
}

/* Ended flows count for the window, then go; flows the scan stops seeing were evicted. */
static void test_window_and_eviction(void **state)
{
	struct ct_agg *a = ct_agg_new(10 * SEC, NULL);
	struct spec r = { "10.0.0.1", "10.0.1.2", 40004, 5432, 1, 0, 0, 0, 1, 0,
			  CT_CLOSE_REFUSED, 0, 0 };
	struct spec o = { "10.0.0.9", "10.0.1.1", 40009, 80, 1, 0, 0, 0, 0, 1, 0, 0, 0 };
	const struct ct_group *g;
	size_t ended;

	(void)state;
	feed(a, &r, CT_REC_CLOSE, 0);
	feed(a, &r, CT_REC_FLOW, 0);	/* removed from the table at once */
	feed(a, &o, CT_REC_OPEN, 0);
	ct_agg_tick(a, T0 + SEC, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 2);
	assert_int_equal(ended, 1);
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER, CT_COL_REFUSED, &g), 2);
	assert_int_equal(g[0].closes[CT_CLOSE_REFUSED], 1);
	/* 9 s later the refusal still counts; the open flow is not fed: evicted */
	ct_agg_tick(a, T0 + 10 * SEC, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 2);
	assert_int_equal(ended, 2);
	ct_agg_tick(a, T0 + 10 * SEC + SEC / 2, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 1);	/* the refusal left the window */
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER, CT_COL_REFUSED, &g), 1);
	assert_int_equal(g[0].closes[CT_CLOSE_REFUSED], 0);
	ct_agg_tick(a, T0 + 21 * SEC, 1);
	assert_int_equal(ct_agg_flows(a, NULL), 0);
	ct_agg_free(a);
}

/* A new SYN on the 5-tuple of an ended flow is another flow; reset forgets ended ones. */
static void test_restart_and_reset(void **state)
{
	struct ct_agg *a = ct_agg_new(60 * SEC, NULL);
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
	ct_agg_tick(a, T0 + 3 * SEC, 1);
	assert_int_equal(ct_agg_groups(a, CT_G_FLOW, CT_COL_FLOWS, &g), 1);
	assert_int_equal(g[0].flows, 2);
	assert_int_equal(g[0].closes[CT_CLOSE_RESET_SERVER], 1);
	ct_agg_reset(a);
	assert_int_equal(ct_agg_history(a, &h, 10), 0);
	assert_int_equal(ct_agg_flows(a, NULL), 1);
	assert_int_equal(ct_agg_groups(a, CT_G_FLOW, CT_COL_FLOWS, &g), 1);
	assert_int_equal(g[0].flows, 1);
	ct_agg_free(a);
}

/* Many flows: the hash grows, removal keeps chains intact. */
static void test_many_flows(void **state)
{
	struct ct_agg *a = ct_agg_new(SEC, NULL);
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
	ct_agg_tick(a, T0 + SEC / 2, 1);	/* the open half: unseen since, evicted */
	for (int i = 0; i < 5000; i += 4) {	/* a quarter seen again */
		s.cport = (__u16)(1024 + i);
		feed(a, &s, CT_REC_OPEN, SEC);
	}
	assert_int_equal(ct_agg_flows(a, NULL), 5000);
	/* the ended half leaves the 1 s window; the open ones not seen again were evicted */
	ct_agg_tick(a, T0 + 3 * SEC, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 2500);
	assert_int_equal(ended, 1250);
	for (int i = 0; i < 5000; i += 4) {
		s.cport = (__u16)(1024 + i);
		feed(a, &s, CT_REC_OPEN, 4 * SEC);
	}
	ct_agg_tick(a, T0 + 5 * SEC, 1);
	assert_int_equal(ct_agg_flows(a, &ended), 1250);
	assert_int_equal(ended, 0);
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER, CT_COL_FLOWS, &g), 1);
	assert_int_equal(g[0].flows, 1250);
	ct_agg_free(a);
}

static void test_history_span(void **state)
{
	struct ct_agg *a = fed_mix();
	const struct ct_sample *h;
	__u64 conns = 0, rst = 0;

	(void)state;
	ct_agg_history_span(a, T0, T0 + 10 * SEC, 5);
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
	/* a capture: its totals, not rates over its span */
	assert_string_equal(L.text[1], "conn 7  closes 7: graceful 1 refused 2 reset-client 1 "
				       "reset-server 1 fin-reset 1 unanswered 1 other 0");
	assert_string_equal(L.text[2], "RST/conn 1.14 (clt 0.29 srv 0.86) over 7 conn  flows 7");
	assert_int_equal(L.kind[3], CT_LINE_SPARK);
	assert_true(!strncmp(L.text[3], "RST/conn clt [", 14));
	assert_true(!strncmp(L.text[4], "RST/conn srv [", 14));
	assert_string_equal(L.text[5], "group server (g)  sort RST.S (s < >)  filter none (/)");
	assert_int_equal(L.kind[7], CT_LINE_TABLE_HEAD);
	assert_string_equal(L.text[7] + L.start, " RST.S REFUSED RESETS FINRST  UNANS RST/C  LAST");
	assert_int_equal(L.len, 6);
	assert_string_equal(L.text[8], "10.0.1.1:80        3      3  1.00      2      1      0"
				       "      4       0      1      1      0  1.33  fin-reset 8s before end");
	assert_string_equal(L.text[9], "10.0.1.2:5432      2      0  1.50      0      0      0"
				       "      2       2      0      0      0  1.00  refused 7s before end");
	/* narrow: every line cut to the width */
	v.width = 40;
	L.n = 0;
	ct_view_render(&v, a, collect, &L);
	for (int i = 0; i < L.n; i++)
		assert_true(strlen(L.text[i]) <= 40 || L.kind[i] == CT_LINE_SPARK);
	ct_agg_free(a);
}

/* This host's applications: by process and cgroup (-g app), by cgroup (-g unit); a
 * refusal under its port's listener, or "no listener"; flows with no socket of ours. */
static void test_group_by_app(void **state)
{
	struct ct_agg *a = ct_agg_new(0, NULL);
	struct ct_view v = { .source = "eth0", .mode = "tc", .now_ns = T0 + 10 * SEC,
			     .span_ns = 10 * SEC, .grouping = CT_G_APP, .sort = CT_COL_FLOWS };
	static struct lines L;
	const struct ct_group *g;
	struct ct_record r;

	(void)state;
	for (size_t i = 0; i < NMIX; i++) {
		r = rec(&mix[i], CT_REC_FLOW);
		if (!strcmp(mix[i].sip, "10.0.1.1")) {	/* web: nginx, two processes */
			r.cgroup = "/system.slice/nginx.service";
			r.flow.own.cgroup = 12;
			r.flow.own_flags = CT_OWN_PID;
			memcpy(r.flow.own.comm, i == 1 ? "nginx-worker" : "nginx", i == 1 ? 12 : 5);
			r.flow.own.pid = 100 + (__u32)i;
		} else if (mix[i].sport == 5432) {	/* db refused: one with a listener gone */
			r.flow.own_flags = CT_OWN_NOSOCK;
			if (i == 4) {
				r.cgroup = "/system.slice/postgresql.service";
				r.flow.own.cgroup = 13;
				r.flow.own_flags |= CT_OWN_LISTENER | CT_OWN_PID;
				memcpy(r.flow.own.comm, "postgres", 8);
			}
		}
		assert_int_equal(ct_agg_feed(a, &r, T0 + mix[i].ts), 0);
	}
	/* by app: nginx (3), nginx-worker (1)... by unit: nginx.service holds both */
	assert_int_equal(ct_agg_groups(a, CT_G_APP, CT_COL_FLOWS, &g), 5);
	assert_int_equal(ct_agg_groups(a, CT_G_UNIT, CT_COL_FLOWS, &g), 4);
	assert_int_equal(g[0].flows, 4);
	assert_string_equal(g[0].cgroup, "/system.slice/nginx.service");
	ct_view_render(&v, a, collect, &L);
	/* the label column as wide as the longest: the gone listener's */
	assert_true(!strncmp(L.text[7], "APP ", 4));
	assert_int_equal(strstr(L.text[7], " CONN") - L.text[7],
			 strlen("listener of :5432 gone: postgres postgresql.service") + 2);
	assert_true(!strncmp(L.text[8], "nginx nginx.service ", 20));
	L.n = 0;
	v.grouping = CT_G_UNIT;
	ct_view_render(&v, a, collect, &L);
	assert_true(!strncmp(L.text[8], "nginx.service ", 14));
	for (int i = 9; i < L.n; i++)
		assert_true(!strncmp(L.text[i], "- (no local socket) ", 20) ||
			    !strncmp(L.text[i], "no listener on :5432 ", 21) ||
			    !strncmp(L.text[i], "listener of :5432 gone: postgresql.service ", 43));
	assert_int_equal(L.n, 8 + 4);
	ct_agg_free(a);
}

/* Batch frames: no key hints. A terminal narrower than every column: the least telling
 * go first, the sort column stays. The filter edited beside its label, its error under. */
static void test_render_batch_narrow_edit(void **state)
{
	struct ct_agg *a = fed_mix();
	struct ct_view v = { .source = "t.pcap", .mode = "replay", .replay = 1,
			     .now_ns = T0 + 10 * SEC, .span_ns = 10 * SEC, .batch = 1,
			     .grouping = CT_G_SERVER, .sort = CT_COL_RST_SRV };
	static struct lines L;

	(void)state;
	ct_view_render(&v, a, collect, &L);
	assert_string_equal(L.text[5], "group server  sort RST.S  filter none");
	/* 80 columns: CONN, RST.S, REFUSED, RESETS, UNANS, RST/C and LAST stay */
	v.batch = 0;
	v.width = 80;
	L.n = 0;
	ct_view_render(&v, a, collect, &L);
	assert_string_equal(L.text[7], "SERVER          CONN  RST.S REFUSED RESETS  UNANS RST/C  LAST");
	assert_string_equal(L.text[8], "10.0.1.1:80        3      4       0      1      0  1.33  "
				       "fin-reset 8s before end");
	/* the sort column is never left out, however narrow */
	v.sort = CT_COL_FIN_CLT;
	v.width = 40;
	L.n = 0;
	ct_view_render(&v, a, collect, &L);
	assert_non_null(strstr(L.text[7], " FIN.C"));
	assert_string_equal(L.text[7] + L.start, " FIN.C  LAST");
	/* editing: the text where the label is, the cursor's column given; the error under */
	v.sort = CT_COL_RST_SRV;
	v.width = 0;
	v.edit = "port.srv = 70000";
	v.edit_err = "port.srv takes 0 to 65535";
	v.edit_err_pos = 11;
	L.n = 0;
	ct_view_render(&v, a, collect, &L);
	assert_int_equal(L.kind[5], CT_LINE_EDIT);
	assert_string_equal(L.text[5], "group server (g)  sort RST.S (s < >)  filter: port.srv = 70000");
	assert_int_equal(L.kind[6], CT_LINE_NOTE);
	assert_int_equal(strchr(L.text[6], '^') - L.text[6],
			 strstr(L.text[5], "70000") - L.text[5]);
	assert_string_equal(strchr(L.text[6], '^'), "^ port.srv takes 0 to 65535");
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
			    "group server (g)  sort RST.S (s < >)  filter port\\x07 80 (/)");
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


/* --- the caps -------------------------------------------------------------------------- */

/* SipHash-2-4's reference vectors: key 00..0f, message i the bytes 00..i-1 (the paper's
 * reference implementation's vectors.h), outputs as the little-endian bytes it prints. */
static const __u8 sip_vectors[64][8] = {
	{ 0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72 },
	{ 0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74 },
	{ 0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d },
	{ 0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85 },
	{ 0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf },
	{ 0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18 },
	{ 0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb },
	{ 0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab },
	{ 0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93 },
	{ 0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e },
	{ 0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a },
	{ 0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4 },
	{ 0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75 },
	{ 0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14 },
	{ 0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7 },
	{ 0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1 },
	{ 0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f },
	{ 0x94, 0x47, 0xbe, 0x2c, 0xf5, 0xe9, 0x9a, 0x69 },
	{ 0x9c, 0xd3, 0x8d, 0x96, 0xf0, 0xb3, 0xc1, 0x4b },
	{ 0xbd, 0x61, 0x79, 0xa7, 0x1d, 0xc9, 0x6d, 0xbb },
	{ 0x98, 0xee, 0xa2, 0x1a, 0xf2, 0x5c, 0xd6, 0xbe },
	{ 0xc7, 0x67, 0x3b, 0x2e, 0xb0, 0xcb, 0xf2, 0xd0 },
	{ 0x88, 0x3e, 0xa3, 0xe3, 0x95, 0x67, 0x53, 0x93 },
	{ 0xc8, 0xce, 0x5c, 0xcd, 0x8c, 0x03, 0x0c, 0xa8 },
	{ 0x94, 0xaf, 0x49, 0xf6, 0xc6, 0x50, 0xad, 0xb8 },
	{ 0xea, 0xb8, 0x85, 0x8a, 0xde, 0x92, 0xe1, 0xbc },
	{ 0xf3, 0x15, 0xbb, 0x5b, 0xb8, 0x35, 0xd8, 0x17 },
	{ 0xad, 0xcf, 0x6b, 0x07, 0x63, 0x61, 0x2e, 0x2f },
	{ 0xa5, 0xc9, 0x1d, 0xa7, 0xac, 0xaa, 0x4d, 0xde },
	{ 0x71, 0x65, 0x95, 0x87, 0x66, 0x50, 0xa2, 0xa6 },
	{ 0x28, 0xef, 0x49, 0x5c, 0x53, 0xa3, 0x87, 0xad },
	{ 0x42, 0xc3, 0x41, 0xd8, 0xfa, 0x92, 0xd8, 0x32 },
	{ 0xce, 0x7c, 0xf2, 0x72, 0x2f, 0x51, 0x27, 0x71 },
	{ 0xe3, 0x78, 0x59, 0xf9, 0x46, 0x23, 0xf3, 0xa7 },
	{ 0x38, 0x12, 0x05, 0xbb, 0x1a, 0xb0, 0xe0, 0x12 },
	{ 0xae, 0x97, 0xa1, 0x0f, 0xd4, 0x34, 0xe0, 0x15 },
	{ 0xb4, 0xa3, 0x15, 0x08, 0xbe, 0xff, 0x4d, 0x31 },
	{ 0x81, 0x39, 0x62, 0x29, 0xf0, 0x90, 0x79, 0x02 },
	{ 0x4d, 0x0c, 0xf4, 0x9e, 0xe5, 0xd4, 0xdc, 0xca },
	{ 0x5c, 0x73, 0x33, 0x6a, 0x76, 0xd8, 0xbf, 0x9a },
	{ 0xd0, 0xa7, 0x04, 0x53, 0x6b, 0xa9, 0x3e, 0x0e },
	{ 0x92, 0x59, 0x58, 0xfc, 0xd6, 0x42, 0x0c, 0xad },
	{ 0xa9, 0x15, 0xc2, 0x9b, 0xc8, 0x06, 0x73, 0x18 },
	{ 0x95, 0x2b, 0x79, 0xf3, 0xbc, 0x0a, 0xa6, 0xd4 },
	{ 0xf2, 0x1d, 0xf2, 0xe4, 0x1d, 0x45, 0x35, 0xf9 },
	{ 0x87, 0x57, 0x75, 0x19, 0x04, 0x8f, 0x53, 0xa9 },
	{ 0x10, 0xa5, 0x6c, 0xf5, 0xdf, 0xcd, 0x9a, 0xdb },
	{ 0xeb, 0x75, 0x09, 0x5c, 0xcd, 0x98, 0x6c, 0xd0 },
	{ 0x51, 0xa9, 0xcb, 0x9e, 0xcb, 0xa3, 0x12, 0xe6 },
	{ 0x96, 0xaf, 0xad, 0xfc, 0x2c, 0xe6, 0x66, 0xc7 },
	{ 0x72, 0xfe, 0x52, 0x97, 0x5a, 0x43, 0x64, 0xee },
	{ 0x5a, 0x16, 0x45, 0xb2, 0x76, 0xd5, 0x92, 0xa1 },
	{ 0xb2, 0x74, 0xcb, 0x8e, 0xbf, 0x87, 0x87, 0x0a },
	{ 0x6f, 0x9b, 0xb4, 0x20, 0x3d, 0xe7, 0xb3, 0x81 },
	{ 0xea, 0xec, 0xb2, 0xa3, 0x0b, 0x22, 0xa8, 0x7f },
	{ 0x99, 0x24, 0xa4, 0x3c, 0xc1, 0x31, 0x57, 0x24 },
	{ 0xbd, 0x83, 0x8d, 0x3a, 0xaf, 0xbf, 0x8d, 0xb7 },
	{ 0x0b, 0x1a, 0x2a, 0x32, 0x65, 0xd5, 0x1a, 0xea },
	{ 0x13, 0x50, 0x79, 0xa3, 0x23, 0x1c, 0xe6, 0x60 },
	{ 0x93, 0x2b, 0x28, 0x46, 0xe4, 0xd7, 0x06, 0x66 },
	{ 0xe1, 0x91, 0x5f, 0x5c, 0xb1, 0xec, 0xa4, 0x6c },
	{ 0xf3, 0x25, 0x96, 0x5c, 0xa1, 0x6d, 0x62, 0x9f },
	{ 0x57, 0x5f, 0xf2, 0x8e, 0x60, 0x38, 0x1b, 0xe5 },
	{ 0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95 },
};

static void test_siphash_vectors(void **state)
{
	struct ct_sipkey key, k1, k2;
	__u8 kb[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		kb[i] = (__u8)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (__u8)i;
	ct_sipkey_from_bytes(&key, kb);
	for (size_t len = 0; len < 64; len++) {
		__u64 want = 0;

		for (int b = 0; b < 8; b++)
			want |= (__u64)sip_vectors[len][b] << (8 * b);
		assert_true(ct_siphash(&key, msg, len) == want);
	}
	/* two random keys differ, and so do the hashes of one key under them */
	assert_int_equal(ct_sipkey_random(&k1), 0);
	assert_int_equal(ct_sipkey_random(&k2), 0);
	assert_true(k1.k[0] != k2.k[0] || k1.k[1] != k2.k[1]);
	assert_true(ct_siphash(&k1, msg, 40) != ct_siphash(&k2, msg, 40));
}

/* A flow from @src (IPv4, host order) to one of 16 servers, ended one of four ways. */
static struct ct_record random_flow(__u32 src, __u32 n, __u64 t)
{
	static const __u8 kinds[4] = { CT_CLOSE_REFUSED, CT_CLOSE_RESET_SERVER,
				       CT_CLOSE_GRACEFUL, CT_CLOSE_UNANSWERED };
	struct ct_record r = { 0 };
	int c = CT_EP_HI, v = CT_EP_LO;
	__u8 k = kinds[n % 4];

	r.type = CT_REC_FLOW;
	r.key.addr[c][2] = r.key.addr[v][2] = htonl(0xffff);
	r.key.addr[c][3] = htonl(src);
	r.key.addr[v][3] = htonl(0x0a000100 + (n >> 2) % 16);
	r.key.port[c] = (__u16)(1024 + n % 60000);
	r.key.port[v] = 80;
	r.key.ifvlan = CT_IFVLAN(2, 0);
	r.client_ep = (__u8)c;
	r.flow.state = CT_ST_ROLE | CT_ST_CLIENT_HI | CT_ST_ENDED |
		       (k == CT_CLOSE_RESET_SERVER || k == CT_CLOSE_GRACEFUL ? CT_ST_CT : 0);
	r.flow.syn[c] = 1 + n % 3;
	r.flow.rst[v] = k == CT_CLOSE_REFUSED ? 1 : k == CT_CLOSE_RESET_SERVER ? 2 : 0;
	r.flow.rst[c] = n % 7 == 0;
	r.flow.fin[c] = r.flow.fin[v] = k == CT_CLOSE_GRACEFUL;
	r.flow.first_ns = 1000 + n;
	r.flow.close = k;
	r.close = k;
	r.start_ns = t;
	r.ts_ns = t + 1000;
	r.iface = "eth0";
	return r;
}

struct totals {
	__u64 flows, ct, syn, fin[2], rst[2], closes[CT_CLOSE_MAX];
};

static void total_rec(struct totals *t, const struct ct_record *r)
{
	t->flows++;
	t->ct += !!(r->flow.state & CT_ST_CT);
	t->syn += r->flow.syn[CT_EP_HI];
	t->fin[0] += r->flow.fin[CT_EP_HI];
	t->fin[1] += r->flow.fin[CT_EP_LO];
	t->rst[0] += r->flow.rst[CT_EP_HI];
	t->rst[1] += r->flow.rst[CT_EP_LO];
	t->closes[r->close]++;
}

static void total_group(struct totals *t, const struct ct_group *g)
{
	t->flows += g->flows;
	t->ct += g->ct;
	t->syn += g->syn;
	for (int i = 0; i < 2; i++) {
		t->fin[i] += g->fin[i];
		t->rst[i] += g->rst[i];
	}
	for (int k = 0; k < CT_CLOSE_MAX; k++)
		t->closes[k] += g->closes[k];
}

/* Rows and (other) of grouping @gr: their sum must be the whole. */
static void assert_rows_sum(struct ct_agg *a, enum ct_grouping gr, const struct totals *want,
			    size_t max_rows)
{
	const struct ct_group *g, *o;
	size_t n = ct_agg_groups(a, gr, CT_COL_FLOWS, &g);
	struct totals got = { 0 };

	assert_true(n <= max_rows);
	for (size_t i = 0; i < n; i++)
		total_group(&got, &g[i]);
	o = ct_agg_other(a);
	if (o)
		total_group(&got, o);
	assert_memory_equal(&got, want, sizeof(got));
}

/* Resident memory, in bytes. */
static size_t rss(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * 4096;
}

/*
 * A million flows from random sources through caps of 10000 ended flows, 1000 open and
 * 100 groups: the model stays within its bound, every total is exact, and the overflow
 * is counted: flows folded, groups past the cap.
 */
static void test_caps_million_sources(void **state)
{
	struct ct_agg_caps caps = { .max_ended = 10000, .max_open = 1000, .max_groups = 100 };
	struct ct_agg *a = ct_agg_new(0, &caps);
	const __u32 N = 1000000;
	struct totals want = { 0 };
	struct ct_agg_stats st;
	const struct ct_sample *h;
	size_t before = rss(), bound;
	__u64 conns = 0, rst = 0;
	__u32 x = 2463534242u;

	(void)state;
	assert_non_null(a);
	for (__u32 n = 0; n < N; n++) {
		struct ct_record r;

		x ^= x << 13;	/* xorshift32: a new source, nearly every time */
		x ^= x >> 17;
		x ^= x << 5;
		r = random_flow(x, n, T0 + (__u64)n * 1000);
		total_rec(&want, &r);
		assert_int_equal(ct_agg_feed(a, &r, r.ts_ns), 0);
	}
	ct_agg_stats(a, &st);
	assert_int_equal(st.kept, 10000);
	assert_int_equal(st.ended, 10000);
	assert_int_equal(st.folded, N - 10000);
	assert_int_equal(st.folded_open, 0);
	/* the model's own account: the flows' array stops at the cap, groups are made of them */
	bound = (caps.max_ended + caps.max_open) * ct_agg_flow_bytes() + (1u << 20);
	assert_true(st.bytes <= bound);
	/* 16 servers: all ranked; (other) holds the folded flows */
	assert_rows_sum(a, CT_G_SERVER, &want, 16);
	ct_agg_stats(a, &st);
	assert_int_equal(st.groups_over, 0);
	assert_non_null(ct_agg_other(a));
	assert_int_equal(ct_agg_other(a)->flows, N - 10000);
	/* clients: a hundred rows, the rest (nearly 10000 groups) summed in (other) */
	assert_rows_sum(a, CT_G_CLIENT_IP, &want, 100);
	ct_agg_stats(a, &st);
	assert_true(st.groups_over > 9000 && st.groups_over <= 10000 - 100);
	assert_rows_sum(a, CT_G_FLOW, &want, 100);
	ct_agg_stats(a, &st);
	assert_int_equal(st.groups_over, 10000 - 100);
	assert_true(st.bytes <= bound);
	/* what the process took: tens of MB at most, where holding all would take hundreds */
	assert_true(rss() < before + (64u << 20));
	/* the capture's history has every flow, folded or not */
	ct_agg_history_span(a, T0, T0 + (__u64)N * 1000 + 1000, 50);
	assert_int_equal(ct_agg_history(a, &h, 100), 50);
	for (int i = 0; i < 50; i++) {
		conns += h[i].conns;
		rst += h[i].rst[0] + h[i].rst[1];
	}
	assert_true(conns == N);
	assert_true(rst == want.rst[0] + want.rst[1]);
	ct_agg_free(a);
}

/* Live: the folded flows' connections still reach the samples, and (other) leaves with
 * the window like the flows kept. */
static void test_caps_window(void **state)
{
	struct ct_agg_caps caps = { .max_ended = 1000, .max_open = 1000, .max_groups = 20 };
	struct ct_agg *a = ct_agg_new(64 * SEC, &caps);
	const struct ct_sample *x;
	const struct ct_group *g;
	struct totals want = { 0 };
	struct ct_agg_stats st;
	__u64 closes = 0;

	(void)state;
	for (__u32 n = 0; n < 5000; n++) {
		struct ct_record r = random_flow(0xc0000200 + n, n, T0 + SEC);

		total_rec(&want, &r);
		assert_int_equal(ct_agg_feed(a, &r, T0 + SEC), 0);
	}
	x = ct_agg_tick(a, T0 + 2 * SEC, 1);
	assert_int_equal(x->conns, 5000);
	assert_int_equal(x->rst[0], want.rst[0]);
	assert_int_equal(x->rst[1], want.rst[1]);
	for (int k = 0; k < CT_CLOSE_MAX; k++)
		closes += x->closes[k];
	assert_int_equal(closes, 5000);
	ct_agg_stats(a, &st);
	assert_int_equal(st.folded, 4000);
	assert_rows_sum(a, CT_G_SERVER, &want, 20);
	assert_int_equal(ct_agg_other(a)->flows, 4000);
	/* the window (64 s) after the end: the flows kept go; (other)'s bin, which ends 1 s
	 * later, goes a second later */
	ct_agg_tick(a, T0 + 65 * SEC + SEC / 2, 1);
	assert_int_equal(ct_agg_flows(a, NULL), 0);
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER, CT_COL_FLOWS, &g), 0);
	assert_non_null(ct_agg_other(a));
	assert_int_equal(ct_agg_other(a)->flows, 4000);
	ct_agg_tick(a, T0 + 66 * SEC + SEC / 2, 1);
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER, CT_COL_FLOWS, &g), 0);
	assert_null(ct_agg_other(a));
	/* reset forgets the counts of what was folded */
	ct_agg_stats(a, &st);
	assert_int_equal(st.folded, 4000);
	ct_agg_reset(a);
	ct_agg_stats(a, &st);
	assert_int_equal(st.folded, 0);
	ct_agg_free(a);
}

/* More flows open than the table holds (it lost some unseen): the least recently fed
 * goes, counted apart; and a new filter empties (other). */
static void test_caps_open_and_filter(void **state)
{
	struct ct_agg_caps caps = { .max_ended = 100, .max_open = 100, .max_groups = 20 };
	struct ct_agg *a = ct_agg_new(60 * SEC, &caps);
	struct ct_filter_error err;
	struct ct_filter *f = ct_filter_parse("close = refused", &err);
	struct totals want = { 0 };
	struct ct_agg_stats st;
	const struct ct_group *g;
	__u64 sum = 0;
	size_t n;

	(void)state;
	assert_non_null(f);
	for (__u32 n = 0; n < 300; n++) {
		struct ct_record r = random_flow(0xc0000200 + n, n, T0);

		r.type = CT_REC_OPEN;
		total_rec(&want, &r);
		assert_int_equal(ct_agg_feed(a, &r, T0), 0);
	}
	ct_agg_stats(a, &st);
	assert_int_equal(st.kept, 200);
	assert_int_equal(st.folded, 100);
	assert_int_equal(st.folded_open, 100);
	assert_rows_sum(a, CT_G_SERVER, &want, 20);
	assert_int_equal(ct_agg_other(a)->flows, 100);
	/* folded under no filter: a filter empties (other), and counts the 200 held only */
	ct_agg_set_filter(a, f);
	n = ct_agg_groups(a, CT_G_SERVER, CT_COL_FLOWS, &g);
	for (size_t i = 0; i < n; i++)
		sum += g[i].flows;
	assert_int_equal(sum, 50);	/* a quarter of them are refusals */
	assert_null(ct_agg_other(a));
	ct_agg_set_filter(a, NULL);
	ct_filter_free(f);
	ct_agg_free(a);
}

/* Flow @n of random_flow() as a scan sees it before its end: no RST, FIN or close yet. */
static struct ct_record open_flow(__u32 n)
{
	struct ct_record r = random_flow(0xc0000200 + n, n, T0);

	r.type = CT_REC_OPEN;
	r.close = r.flow.close = CT_CLOSE_NONE;
	r.flow.state &= ~CT_ST_ENDED;
	memset(r.flow.rst, 0, sizeof(r.flow.rst));
	memset(r.flow.fin, 0, sizeof(r.flow.fin));
	r.ts_ns = T0;
	return r;
}

/*
 * Open flows folded past the table's capacity, then their closes and final states: each
 * flow counts once, its RSTs and close once, in (other) and in the samples.
 */
static void test_caps_fold_open_then_close(void **state)
{
	struct ct_agg_caps caps = { .max_ended = 100, .max_open = 100, .max_groups = 20 };
	struct ct_agg *a = ct_agg_new(60 * SEC, &caps);
	struct totals want = { 0 };
	const struct ct_sample *x;
	struct ct_agg_stats st;
	__u64 closes = 0;

	(void)state;
	assert_non_null(a);
	for (__u32 n = 0; n < 300; n++) {
		struct ct_record r = open_flow(n);

		assert_int_equal(ct_agg_feed(a, &r, T0), 0);
	}
	ct_agg_stats(a, &st);
	assert_int_equal(st.folded_open, 100);
	/* the first hundred, folded while open, end now: the close, then the final state */
	for (__u32 n = 0; n < 300; n++) {
		struct ct_record r = random_flow(0xc0000200 + n, n, T0);

		r.ts_ns = T0 + SEC;
		total_rec(&want, &r);
		r.type = CT_REC_CLOSE;
		assert_int_equal(ct_agg_feed(a, &r, T0 + SEC), 0);
		r.type = CT_REC_FLOW;
		assert_int_equal(ct_agg_feed(a, &r, T0 + SEC), 0);
	}
	assert_int_equal(want.flows, 300);
	assert_rows_sum(a, CT_G_SERVER, &want, 20);
	assert_rows_sum(a, CT_G_CLIENT_IP, &want, 20);
	ct_agg_stats(a, &st);
	assert_int_equal(st.folded, 200);	/* 100 open, then 100 ended past the cap */
	assert_int_equal(st.folded_open, 100);
	assert_int_equal(st.kept, 100);
	x = ct_agg_tick(a, T0 + 2 * SEC, 1);
	assert_int_equal(x->conns, 300);
	assert_int_equal(x->rst[0], want.rst[0]);
	assert_int_equal(x->rst[1], want.rst[1]);
	for (int k = 0; k < CT_CLOSE_MAX; k++)
		closes += x->closes[k];
	assert_int_equal(closes, 300);
	ct_agg_free(a);
}

/* The open flows of test_caps_open_forgotten() with no handshake: odd ones, then 100..149. */
static int embryonic(__u32 n)
{
	return n < 100 ? n & 1 : n < 150;
}

/*
 * More folded open flows than the table holds: the embryonic ones, which the kernel
 * evicts first, are forgotten first (counted), and the established ones' closes still
 * count once. A scan that no longer sees a folded flow forgets it; so does a new filter.
 */
static void test_caps_open_forgotten(void **state)
{
	struct ct_agg_caps caps = { .max_ended = 100, .max_open = 100, .max_groups = 20 };
	struct ct_agg *a = ct_agg_new(60 * SEC, &caps);
	struct ct_filter_error err;
	struct ct_filter *f = ct_filter_parse("close = refused", &err);
	struct totals want = { 0 };
	struct ct_agg_stats st;

	(void)state;
	assert_non_null(a);
	assert_non_null(f);
	/* 0..199 are folded; of them, the embryonic ones are forgotten, not the oldest */
	for (__u32 n = 0; n < 400; n++) {
		struct ct_record r = open_flow(n);

		r.flow.state = (r.flow.state & ~CT_ST_CT) | (embryonic(n) ? 0 : CT_ST_CT);
		if (n < 200)
			total_rec(&want, &r);
		assert_int_equal(ct_agg_feed(a, &r, T0), 0);
	}
	ct_agg_stats(a, &st);
	assert_int_equal(st.folded_open, 200);
	assert_int_equal(st.forgotten, 100);
	assert_int_equal(st.open_folded, 100);
	assert_true(st.bytes >= 100 * 2 * sizeof(__u64));
	/* the established ones of 0..199 end; 200..399 stay open */
	for (__u32 n = 0; n < 400; n++) {
		struct ct_record r = n < 200 ? random_flow(0xc0000200 + n, n, T0) : open_flow(n);

		r.flow.state |= CT_ST_CT;
		r.ts_ns = T0 + SEC;
		if (n >= 200) {
			total_rec(&want, &r);
			continue;
		}
		if (embryonic(n))
			continue;
		/* what the open record had counted goes: the final state replaces it */
		want.flows--;
		want.ct--;
		want.syn -= r.flow.syn[CT_EP_HI];
		total_rec(&want, &r);
		r.type = CT_REC_CLOSE;
		assert_int_equal(ct_agg_feed(a, &r, T0 + SEC), 0);
		r.type = CT_REC_FLOW;
		assert_int_equal(ct_agg_feed(a, &r, T0 + SEC), 0);
	}
	assert_int_equal(want.flows, 400);
	want.closes[CT_CLOSE_NONE] = 0;	/* not a close: no group counts it */
	assert_rows_sum(a, CT_G_SERVER, &want, 20);
	ct_agg_stats(a, &st);
	assert_int_equal(st.open_folded, 0);
	assert_int_equal(st.folded, 200);
	/* a tick, then 400..499 open: 200..299 folded, and unseen by the next scan */
	ct_agg_tick(a, T0 + 2 * SEC, 0);
	for (__u32 n = 400; n < 500; n++) {
		struct ct_record r = open_flow(n);

		assert_int_equal(ct_agg_feed(a, &r, T0 + 2 * SEC), 0);
	}
	ct_agg_stats(a, &st);
	assert_int_equal(st.open_folded, 100);
	ct_agg_tick(a, T0 + 3 * SEC, 1);
	ct_agg_stats(a, &st);
	assert_int_equal(st.open_folded, 0);
	/* 300..399 went (ended, folded first), then 400..499 while open; then a filter:
	 * their counts left with (other), so they go too */
	for (__u32 n = 500; n < 700; n++) {
		struct ct_record r = open_flow(n);

		assert_int_equal(ct_agg_feed(a, &r, T0 + 3 * SEC), 0);
	}
	ct_agg_stats(a, &st);
	assert_int_equal(st.open_folded, 100);
	ct_agg_set_filter(a, f);
	ct_agg_stats(a, &st);
	assert_int_equal(st.open_folded, 0);
	ct_agg_set_filter(a, NULL);
	ct_filter_free(f);
	ct_agg_free(a);
}

/* A frame past the caps: the caps' line under the totals, (other) the last row. */
static void test_render_caps(void **state)
{
	struct ct_agg_caps caps = { .max_ended = 100, .max_open = 100, .max_groups = 10 };
	struct ct_agg *a = ct_agg_new(0, &caps);
	struct ct_view v = { .source = "t.pcap", .mode = "replay", .replay = 1,
			     .now_ns = T0 + 10 * SEC, .span_ns = 10 * SEC,
			     .grouping = CT_G_CLIENT_IP, .sort = CT_COL_FLOWS };
	static struct lines L;
	size_t n;

	(void)state;
	for (__u32 n = 0; n < 1000; n++) {
		struct ct_record r = random_flow(0xc0000200 + n, n, T0 + n * 1000000ull);

		assert_int_equal(ct_agg_feed(a, &r, r.ts_ns), 0);
	}
	n = ct_view_render(&v, a, collect, &L);
	assert_int_equal(n, 11);
	assert_int_equal(L.n, 9 + 11);
	assert_string_equal(L.text[2], "RST/conn 0.89 (clt 0.14 srv 0.75) over 1000 conn  flows 100");
	assert_string_equal(L.text[3], "over caps: flows folded 900 (--max-flows 100)  groups in "
				       "(other) 90 (--max-groups 10)");
	assert_true(!strncmp(L.text[L.n - 1], "(other) ", 8));
	assert_true(sscanf(L.text[L.n - 1] + 8, "%zu", &n) == 1 && n == 990);
	assert_true(ct_view_capped(a));
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
		cmocka_unit_test(test_group_by_app),
		cmocka_unit_test(test_render_batch_narrow_edit),
		cmocka_unit_test(test_render_escapes_names),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_caps_million_sources),
		cmocka_unit_test(test_caps_window),
		cmocka_unit_test(test_caps_open_and_filter),
		cmocka_unit_test(test_caps_fold_open_then_close),
		cmocka_unit_test(test_caps_open_forgotten),
		cmocka_unit_test(test_render_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
