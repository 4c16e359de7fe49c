// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_zones.c - client and server zones: a list's longest prefix wins, IPv4 and IPv6
 * apart, one name one key, default prefixes, --zone-prefix, each error in one sentence
 * naming the line; the zones in JSON and in filters; top's zone groupings.
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
#include "closetrace.h"
#include "filter.h"
#include "format.h"
#include "record.h"
#include "zones.h"

static const char list[] =
	"# the office and its lab\n"
	"10.0.0.0/8     corp\n"
	"10.1.0.0/16    lab     # a comment\n"
	"\n"
	"192.0.2.0/24   corp\n"
	"2001:db8::/32  corp-v6\n"
	"2001:db8:1::/48 lab\n"
	"198.51.100.7   one-host\n";

static void addr_of(const char *s, __u32 a[4])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, &a[3]) == 1)
		a[2] = htonl(0xffff);
	else
		assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static const char *zone(const struct ct_zones *zs, const char *ip, char *buf, int want)
{
	__u32 a[4], net[4];
	__u8 plen;

	addr_of(ip, a);
	assert_int_equal(ct_zone_of(zs, a, buf, CT_ZONE_TEXT_MAX, net, &plen), want);
	return buf;
}

static void t_lookup(void **state)
{
	struct ct_zones zs;
	char err[256], b[CT_ZONE_TEXT_MAX];

	(void)state;
	ct_zones_init(&zs);
	assert_int_equal(ct_zones_parse(&zs, list, "z.txt", err, sizeof(err)), 0);
	assert_int_equal(zs.n, 6);
	assert_string_equal(zone(&zs, "10.9.9.9", b, 1), "corp");
	assert_string_equal(zone(&zs, "10.1.2.3", b, 1), "lab");	/* the longest prefix */
	assert_string_equal(zone(&zs, "192.0.2.200", b, 1), "corp");
	assert_string_equal(zone(&zs, "198.51.100.7", b, 1), "one-host");
	assert_string_equal(zone(&zs, "2001:db8:1::5", b, 1), "lab");
	assert_string_equal(zone(&zs, "2001:db8:2::5", b, 1), "corp-v6");
	/* none holds it: the default prefixes */
	assert_string_equal(zone(&zs, "198.51.100.8", b, 2), "198.51.100.0/24");
	assert_string_equal(zone(&zs, "2001:db9:1:2:3::1", b, 2), "2001:db9:1:2::/64");
	/* an IPv4 address is never in an IPv6 list entry, nor the other way */
	assert_string_equal(zone(&zs, "::ffff:10.1.2.3", b, 1), "lab");
	assert_string_equal(zone(&zs, "::a01:203", b, 2), "::/64");
	/* --zone-prefix */
	assert_int_equal(ct_zones_parse_prefix(&zs, "16,48", err, sizeof(err)), 0);
	assert_string_equal(zone(&zs, "198.51.100.8", b, 2), "198.51.0.0/16");
	assert_string_equal(zone(&zs, "2001:db9:1:2:3::1", b, 2), "2001:db9:1::/48");
	assert_int_equal(ct_zones_parse_prefix(&zs, "32", err, sizeof(err)), 0);
	assert_string_equal(zone(&zs, "198.51.100.8", b, 2), "198.51.100.8/32");
	assert_int_equal(ct_zones_parse_prefix(&zs, "33,64", err, sizeof(err)), -1);
	assert_string_equal(err, "takes V4[,V6]: prefix lengths, 0 to 32 and 0 to 128 (24,64), "
				 "not '33,64'");
	assert_int_equal(ct_zones_parse_prefix(&zs, "24,129", err, sizeof(err)), -1);
	assert_int_equal(ct_zones_parse_prefix(&zs, "x", err, sizeof(err)), -1);
	ct_zones_free(&zs);
	/* no list at all */
	ct_zones_init(&zs);
	assert_string_equal(zone(&zs, "10.1.2.3", b, 2), "10.1.2.0/24");
	ct_zones_free(&zs);
}

/* One name, one key: corp's two prefixes give the same */
static void t_one_key(void **state)
{
	struct ct_zones zs;
	char err[256], b[CT_ZONE_TEXT_MAX];
	__u32 a[4], n1[4], n2[4];
	__u8 p1, p2;

	(void)state;
	ct_zones_init(&zs);
	assert_int_equal(ct_zones_parse(&zs, list, "z.txt", err, sizeof(err)), 0);
	addr_of("10.9.9.9", a);
	ct_zone_of(&zs, a, b, sizeof(b), n1, &p1);
	addr_of("192.0.2.1", a);
	ct_zone_of(&zs, a, b, sizeof(b), n2, &p2);
	assert_memory_equal(n1, n2, 16);
	assert_int_equal(p1, p2);
	addr_of("10.1.0.1", a);
	ct_zone_of(&zs, a, b, sizeof(b), n2, &p2);
	assert_true(p1 != p2 || memcmp(n1, n2, 16));
	ct_zones_free(&zs);
}

static void bad(const char *text, const char *want)
{
	struct ct_zones zs;
	char err[256];

	ct_zones_init(&zs);
	assert_int_equal(ct_zones_parse(&zs, text, "z.txt", err, sizeof(err)), -1);
	assert_string_equal(err, want);
	ct_zones_free(&zs);
}

static void t_errors(void **state)
{
	(void)state;
	bad("10.0.0.0/8\n", "z.txt:1: expected 'CIDR NAME' (a name of one word)");
	bad("# x\n10.0.0.0/8 a b\n", "z.txt:2: expected 'CIDR NAME' (a name of one word)");
	bad("10.0.0.0/33 x\n", "z.txt:1: '10.0.0.0/33' is no IPv4 or IPv6 prefix "
			       "(192.0.2.0/24, 2001:db8::/32)");
	bad("office x\n", "z.txt:1: 'office' is no IPv4 or IPv6 prefix (192.0.2.0/24, "
			  "2001:db8::/32)");
	bad("10.0.0.0/8 a\n10.0.0.1/8 b\n", "z.txt:2: 10.0.0.1/8 is listed twice");
	bad("10.0.0.0/8 a\"b\n", "z.txt:1: a zone name is printable ASCII, without quotes or "
				 "backslashes");
	bad("# nothing\n\n", "z.txt: no zone in it ('CIDR NAME' a line)");
	bad("10.0.0.0/8 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "z.txt:1: a zone name of 63 bytes at most");
}

static struct ct_record rec(const char *clt, const char *srv, const struct ct_zones *zs)
{
	struct ct_record r;

	memset(&r, 0, sizeof(r));
	r.type = CT_REC_CLOSE;
	r.close = CT_CLOSE_REFUSED;
	addr_of(clt, r.key.addr[CT_EP_LO]);
	addr_of(srv, r.key.addr[CT_EP_HI]);
	r.key.port[CT_EP_LO] = 40000;
	r.key.port[CT_EP_HI] = 443;
	r.client_ep = CT_EP_LO;
	r.zones = zs;
	return r;
}

static void t_json_and_filter(void **state)
{
	struct ct_zones zs;
	struct ct_filter_error e;
	struct ct_filter *f;
	struct ct_record r;
	char err[256], b[4096];

	(void)state;
	ct_zones_init(&zs);
	assert_int_equal(ct_zones_parse(&zs, list, "z.txt", err, sizeof(err)), 0);
	r = rec("10.1.2.3", "198.51.100.7", &zs);
	ct_format_json(&r, b, sizeof(b));
	assert_non_null(strstr(b, "\"srv_port\":443,\"clt_zone\":\"lab\",\"srv_zone\":\"one-host\","));
	f = ct_filter_parse("clt.zone = lab and srv.zone != corp", &e);
	assert_non_null(f);
	assert_true(ct_filter_match(f, &r));
	ct_filter_free(f);
	f = ct_filter_parse("srv.zone = \"198.51.100.0/24\"", &e);
	assert_false(ct_filter_match(f, &r));
	r = rec("10.1.2.3", "198.51.100.9", &zs);
	assert_true(ct_filter_match(f, &r));
	ct_filter_free(f);
	/* no zones: no keys */
	r = rec("10.1.2.3", "198.51.100.7", NULL);
	ct_format_json(&r, b, sizeof(b));
	assert_null(strstr(b, "zone"));
	ct_zones_free(&zs);
}

static void t_top(void **state)
{
	struct ct_zones zs;
	struct ct_agg *a = ct_agg_new(0, NULL);
	const struct ct_group *g;
	const char *clients[] = { "10.1.0.1", "10.1.0.2", "10.2.0.1", "192.0.2.9", "203.0.113.5" };
	char err[256];

	(void)state;
	ct_zones_init(&zs);
	assert_int_equal(ct_zones_parse(&zs, list, "z.txt", err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(clients) / sizeof(clients[0]); i++) {
		struct ct_record r = rec(clients[i], "198.51.100.7", &zs);

		r.type = CT_REC_FLOW;
		r.flow.first_ns = 1 + i;
		r.start_ns = r.ts_ns = 1700000000ull * 1000000000ull;
		assert_int_equal(ct_agg_feed(a, &r, r.ts_ns), 0);
	}
	/* lab 2, corp 2 (10.2/16 and 192.0.2/24), 203.0.113.0/24 1 */
	assert_int_equal(ct_agg_groups(a, CT_G_CLIENT_ZONE, CT_COL_FLOWS, &g), 3);
	assert_int_equal(g[0].flows + g[1].flows + g[2].flows, 5);
	for (int i = 0; i < 3; i++)
		assert_true((!strcmp(g[i].zone, "lab") && g[i].flows == 2) ||
			    (!strcmp(g[i].zone, "corp") && g[i].flows == 2) ||
			    (!strcmp(g[i].zone, "203.0.113.0/24") && g[i].flows == 1));
	assert_int_equal(ct_agg_groups(a, CT_G_SERVER_ZONE, CT_COL_FLOWS, &g), 1);
	assert_string_equal(g[0].zone, "one-host");
	ct_agg_free(a);
	ct_zones_free(&zs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_lookup),
		cmocka_unit_test(t_one_key),
		cmocka_unit_test(t_errors),
		cmocka_unit_test(t_json_and_filter),
		cmocka_unit_test(t_top),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
