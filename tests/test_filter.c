// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_filter.c - unit tests, no privileges: the -f/--filter language. DESIGN.md's example
 * filters, precedence, every field, address prefixes at their edges, number ranges, and
 * each kind of parse error with its column and message.
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
#include "ct_logic.h"
#include "filter.h"
#include "reasons.h"
#include "record.h"

#define L(ep, l) CT_ST_LETTER(ep, l)

static void set_v4(struct ct_record *r, int ep, const char *a)
{
	memset(r->key.addr[ep], 0, sizeof(r->key.addr[ep]));
	r->key.addr[ep][2] = htonl(0xffff);
	assert_int_equal(inet_pton(AF_INET, a, &r->key.addr[ep][3]), 1);
}

static void set_v6(struct ct_record *r, int ep, const char *a)
{
	assert_int_equal(inet_pton(AF_INET6, a, r->key.addr[ep]), 1);
}

static __u64 history(const int (*seq)[2], size_t n, __u32 *state)
{
	__u64 h = 0;

	for (size_t i = 0; i < n; i++) {
		h |= ct_hist_code(seq[i][0], seq[i][1]) << (4 * i);
		*state |= L(seq[i][0], seq[i][1]);
	}
	return h;
}

/*
 * test_output's example, on VLAN 100: a client (the HI endpoint, 192.0.2.1:51234) closing
 * a transfer to 192.0.2.2:80 with a FIN, then three RSTs. fin-reset, RSTO, 2.122456 s.
 */
static struct ct_record example(void)
{
	static const int seq[][2] = {
		{ CT_EP_HI, CT_L_SYN }, { CT_EP_LO, CT_L_SYNACK }, { CT_EP_HI, CT_L_ACK },
		{ CT_EP_HI, CT_L_DATA }, { CT_EP_LO, CT_L_ACK }, { CT_EP_LO, CT_L_DATA },
		{ CT_EP_HI, CT_L_FIN }, { CT_EP_HI, CT_L_RST },
	};
	struct ct_record r = { 0 };
	int c = CT_EP_HI, s = CT_EP_LO;

	set_v4(&r, s, "192.0.2.2");
	set_v4(&r, c, "192.0.2.1");
	r.key.port[s] = 80;
	r.key.port[c] = 51234;
	r.key.ifvlan = CT_IFVLAN(2, 100);
	r.flow.history = history(seq, sizeof(seq) / sizeof(seq[0]), &r.flow.state);
	r.flow.state |= CT_ST_ROLE | CT_ST_CLIENT_HI | CT_ST_CT | CT_ST_HS_DONE | CT_ST_ENDED;
	r.flow.syn[c] = 1;
	r.flow.synack[s] = 1;
	r.flow.fin[c] = 1;
	r.flow.rst[c] = 3;
	r.flow.pkts[c] = 9;
	r.flow.pkts[s] = 40;
	r.flow.bytes[c] = 310;
	r.flow.bytes[s] = 52000;
	r.close = CT_CLOSE_FIN_RESET;
	r.rst_by = CT_BY_CLT;
	r.client_ep = (__u8)c;
	r.type = CT_REC_CLOSE;
	r.start_ns = 1795427998001000000ull;
	r.ts_ns = r.start_ns + 2122456000ull;
	r.iface = "eth0";
	return r;
}

/* A refused connection: two SYNs from 198.51.100.7:40000 (LO), a RST from :1194. */
static struct ct_record refused(void)
{
	static const int seq[][2] = { { CT_EP_LO, CT_L_SYN }, { CT_EP_HI, CT_L_RST } };
	struct ct_record r = { 0 };
	int c = CT_EP_LO, s = CT_EP_HI;

	set_v4(&r, c, "198.51.100.7");
	set_v4(&r, s, "203.0.113.5");
	r.key.port[c] = 40000;
	r.key.port[s] = 1194;
	r.flow.history = history(seq, sizeof(seq) / sizeof(seq[0]), &r.flow.state);
	r.flow.state |= CT_ST_ROLE | CT_ST_ENDED;
	r.flow.syn[c] = 2;
	r.flow.rst[s] = 1;
	r.flow.pkts[c] = 2;
	r.flow.pkts[s] = 1;
	r.close = CT_CLOSE_REFUSED;
	r.rst_by = CT_BY_SRV;
	r.client_ep = (__u8)c;
	r.start_ns = 1000000000ull;
	r.ts_ns = 1500000000ull;
	r.iface = NULL;
	return r;
}

/* A graceful IPv6 close, 2001:db8::1 (HI) to [2001:db8:1::53]:53, on veth-a.1. */
static struct ct_record graceful6(void)
{
	static const int seq[][2] = {
		{ CT_EP_HI, CT_L_SYN }, { CT_EP_LO, CT_L_SYNACK }, { CT_EP_HI, CT_L_ACK },
		{ CT_EP_HI, CT_L_FIN }, { CT_EP_LO, CT_L_FIN },
	};
	struct ct_record r = { 0 };
	int c = CT_EP_HI, s = CT_EP_LO;

	set_v6(&r, c, "2001:db8::1");
	set_v6(&r, s, "2001:db8:1::53");
	r.key.port[c] = 33000;
	r.key.port[s] = 53;
	r.flow.history = history(seq, sizeof(seq) / sizeof(seq[0]), &r.flow.state);
	r.flow.state |= CT_ST_ROLE | CT_ST_CLIENT_HI | CT_ST_CT | CT_ST_HS_DONE | CT_ST_ENDED;
	r.flow.syn[c] = 1;
	r.flow.synack[s] = 1;
	r.flow.fin[c] = 1;
	r.flow.fin[s] = 1;
	r.close = CT_CLOSE_GRACEFUL;
	r.rst_by = CT_BY_NONE;
	r.client_ep = (__u8)c;
	r.type = CT_REC_FLOW;
	r.start_ns = 5000000000ull;
	r.ts_ns = 4000000000ull;	/* a clock step: the duration counts as 0 */
	r.iface = "veth-a.1";
	return r;
}

/* Whether @expr, which must parse, matches @r. */
static int matches(const char *expr, const struct ct_record *r, int line)
{
	struct ct_filter_error err;
	struct ct_filter *f = ct_filter_parse(expr, &err);
	int m;

	if (!f) {
		print_error("line %d: \"%s\" did not parse: %s (at %zu)\n", line, expr, err.msg,
			    err.pos);
		fail();
	}
	m = ct_filter_match(f, r);
	ct_filter_free(f);
	return m;
}

#define YES(expr, r) assert_true(matches(expr, r, __LINE__))
#define NO(expr, r) assert_false(matches(expr, r, __LINE__))

/* @expr must fail at byte @pos with a message containing @msg. */
static void bad(const char *expr, size_t pos, const char *msg, int line)
{
	struct ct_filter_error err;
	struct ct_filter *f = ct_filter_parse(expr, &err);

	if (f) {
		ct_filter_free(f);
		print_error("line %d: \"%s\" parsed\n", line, expr);
		fail();
	}
	if (err.pos != pos || !strstr(err.msg, msg)) {
		print_error("line %d: \"%s\": at %zu \"%s\"; expected at %zu \"%s\"\n", line, expr,
			    err.pos, err.msg, pos, msg);
		fail();
	}
}

#define BAD(expr, pos, msg) bad(expr, pos, msg, __LINE__)

static void test_design_examples(void **state)
{
	struct ct_record ex = example(), ref = refused(), g6 = graceful6();

	(void)state;
	YES("rst.count > 0 and fin.count = 0", &ref);
	NO("rst.count > 0 and fin.count = 0", &ex);	/* a FIN */
	NO("rst.count > 0 and fin.count = 0", &g6);	/* no RST */
	YES("rst.count > 0 and ct.count = 0", &ref);
	NO("rst.count > 0 and ct.count = 0", &ex);	/* handshake completed */
	YES("close = \"refused\" and port.srv = 1194", &ref);
	NO("close = \"refused\" and port.srv = 1194", &ex);
	ref.key.port[CT_EP_HI] = 1195;
	NO("close = \"refused\" and port.srv = 1194", &ref);
	/* a NULL filter passes everything */
	assert_true(ct_filter_match(NULL, &ex));
}

static void test_precedence(void **state)
{
	struct ct_record ex = example();
	/* on ex: A true, B and C false */
	const char *a = "rst.count > 0", *b = "fin.count = 0", *c = "port.srv = 1";
	char buf[256];

	(void)state;
	snprintf(buf, sizeof(buf), "%s or %s and %s", a, b, c);		/* a or (b and c) */
	YES(buf, &ex);
	snprintf(buf, sizeof(buf), "(%s or %s) and %s", a, b, c);
	NO(buf, &ex);
	snprintf(buf, sizeof(buf), "%s and %s or %s", b, c, a);		/* (b and c) or a */
	YES(buf, &ex);
	snprintf(buf, sizeof(buf), "%s and (%s or %s)", b, c, a);
	NO(buf, &ex);
	snprintf(buf, sizeof(buf), "not %s and %s", c, b);		/* (not c) and b */
	NO(buf, &ex);
	snprintf(buf, sizeof(buf), "not (%s and %s)", c, b);
	YES(buf, &ex);
	snprintf(buf, sizeof(buf), "not %s or %s", a, a);		/* (not a) or a */
	YES(buf, &ex);
	snprintf(buf, sizeof(buf), "not (%s or %s)", a, a);
	NO(buf, &ex);
	/* symbols, keyword case, no blanks, nested not */
	YES("!(port.srv=1)&&rst.count>0||fin.count=0", &ex);
	NO("!(port.srv=1&&rst.count>0)&&fin.count=0", &ex);
	YES("rst.count > 0 AND Not port.srv = 1 oR fin.count = 7", &ex);
	YES("not not rst.count > 0", &ex);
	NO("!!!rst.count > 0", &ex);
	YES("((((rst.count > 0))))", &ex);
	YES("\trst.count\n>\r0 ", &ex);
}

/* One true and one false comparison for every field; every operator somewhere. */
static void test_fields(void **state)
{
	struct ct_record ex = example(), ref = refused(), g6 = graceful6();

	(void)state;
	YES("syn.count = 1", &ex);
	NO("syn.count > 1", &ex);
	YES("syn.count = 2", &ref);
	YES("synack.count == 1", &ex);
	NO("synack.count != 1", &ex);
	YES("ct.count = 1", &ex);
	NO("ct.count < 1", &ex);
	YES("ct.count = 0", &ref);
	YES("fin.count >= 1", &ex);
	NO("fin.count > 1", &ex);
	YES("fin.count = 2", &g6);
	YES("fin.count.clt = 1", &ex);
	NO("fin.count.clt = 0", &ex);
	YES("fin.count.srv = 0", &ex);
	NO("fin.count.srv >= 1", &ex);
	YES("rst.count = 3", &ex);
	NO("rst.count <= 2", &ex);
	YES("rst.count.clt = 3", &ex);
	NO("rst.count.clt < 3", &ex);
	YES("rst.count.srv = 0", &ex);
	NO("rst.count.srv != 0", &ex);
	YES("rst.count.srv = 1 and rst.count.clt = 0", &ref);	/* sides follow the client */
	YES("pkts.clt = 9", &ex);
	NO("pkts.clt = 40", &ex);
	YES("pkts.srv = 40", &ex);
	NO("pkts.srv < 40", &ex);
	YES("bytes.clt <= 310", &ex);
	NO("bytes.clt > 310", &ex);
	YES("bytes.srv > 51999", &ex);
	NO("bytes.srv >= 52001", &ex);
	YES("dur > 2", &ex);
	NO("dur < 2", &ex);
	YES("port.clt = 51234", &ex);
	NO("port.clt = 80", &ex);
	YES("port.srv = 80", &ex);
	NO("port.srv == 51234", &ex);
	YES("vlan = 100", &ex);
	NO("vlan = 0", &ex);
	YES("vlan = 0", &ref);
	YES("close = fin-reset", &ex);
	NO("close = \"refused\"", &ex);
	NO("close != fin-reset", &ex);
	YES("close = graceful", &g6);
	YES("close = open", &(struct ct_record){ 0 });
	YES("zeek = RSTO", &ex);
	NO("zeek = \"SF\"", &ex);
	YES("zeek != RSTR", &ex);
	YES("zeek = REJ", &ref);
	YES("zeek = SF", &g6);
	YES("rst.by = clt", &ex);
	NO("rst.by = \"srv\"", &ex);
	YES("rst.by = srv", &ref);
	YES("rst.by = - and rst.by != clt", &g6);
	YES("iface = eth0", &ex);
	NO("iface = \"eth1\"", &ex);
	NO("iface != eth0", &ex);
	YES("iface = veth-a.1", &g6);
	YES("iface = \"\"", &ref);				/* no name: empty */
	NO("iface != \"\"", &ref);
	YES("ip.clt = 192.0.2.1", &ex);
	NO("ip.clt = 192.0.2.2", &ex);
	YES("ip.srv in 192.0.2.0/24", &ex);
	NO("ip.srv in 192.0.3.0/24", &ex);
	YES("ip.srv != 192.0.2.1", &ex);
	YES("ip.clt = 2001:db8::1 and ip.srv = 2001:db8:1::53", &g6);
	YES("ip.clt in 2001:db8::/32", &g6);
	NO("ip.clt in 2001:db9::/32", &g6);
	YES("ip.srv = \"192.0.2.2\"", &ex);			/* quotes are allowed */
	/* either side, as tcpdump's host and port: != is neither side */
	YES("ip = 192.0.2.1", &ex);
	YES("ip = 192.0.2.2", &ex);
	YES("host = 192.0.2.2 and host = 192.0.2.1", &ex);
	NO("ip = 192.0.2.3", &ex);
	YES("host in 192.0.2.0/24", &ex);
	NO("host != 192.0.2.1", &ex);
	YES("ip != 192.0.2.3", &ex);
	NO("not host in 192.0.2.0/24", &ex);
	YES("ip in 2001:db8:1::/48", &g6);
	YES("port = 80", &ex);
	YES("port = 51234", &ex);
	NO("port = 443", &ex);
	NO("port != 80", &ex);
	YES("port != 443", &ex);
	YES("port < 1024", &ex);
	NO("port > 60000", &ex);
	YES("port >= 51234 and port <= 80", &ex);
}

static void test_strings(void **state)
{
	struct ct_record ex = example();

	(void)state;
	ex.iface = "we\"ird\\name";
	YES("iface = \"we\\\"ird\\\\name\"", &ex);
	ex.iface = "a\\b";
	YES("iface = \"a\\b\"", &ex);			/* other backslashes are literal */
	ex.iface = "tun+";
	YES("iface = tun+", &ex);
	ex.iface = "My Capture.pcap";
	YES("iface = \"My Capture.pcap\"", &ex);
	NO("iface = \"my capture.pcap\"", &ex);		/* strings are case-sensitive */
	ex.iface = "and";
	YES("iface = \"and\"", &ex);
	ex.iface = "n";					/* not a keyword, nor are a, o, i */
	YES("iface = a or iface = o or iface = i or iface = n", &ex);
	YES("iface = n AnD iface != ands", &ex);
	/* every close kind has its name */
	for (int k = 0; k < CT_CLOSE_MAX; k++) {
		static const char *const n[] = {
			"open", "graceful", "refused", "reset-client", "reset-server",
			"fin-reset", "syn-reset", "synack-reset", "orphan-rst", "unanswered",
			"half-open", "half-closed", "idle", "midstream",
		};
		char buf[128];

		ex.close = (__u8)k;
		snprintf(buf, sizeof(buf), "close = %s and close != \"%s\" or close == %s",
			 n[k], n[k], n[k]);
		YES(buf, &ex);
		ex.close = (__u8)((k + 1) % CT_CLOSE_MAX);
		NO(buf, &ex);
	}
}

/* Whether @expr matches a flow to server @srv (and the client's address in its family). */
static int srv_match(const char *srv, const char *expr, int line)
{
	struct ct_record r = example();

	if (strchr(srv, ':')) {
		set_v6(&r, CT_EP_HI, "2001:db8:ffff::1");
		set_v6(&r, CT_EP_LO, srv);
	} else {
		set_v4(&r, CT_EP_HI, "172.16.0.1");
		set_v4(&r, CT_EP_LO, srv);
	}
	return matches(expr, &r, line);
}

#define IN(srv, expr) assert_true(srv_match(srv, expr, __LINE__))
#define OUT(srv, expr) assert_false(srv_match(srv, expr, __LINE__))

static void test_cidr_v4(void **state)
{
	(void)state;
	IN("10.1.2.0", "ip.srv in 10.1.2.0/24");
	IN("10.1.2.255", "ip.srv in 10.1.2.0/24");
	OUT("10.1.1.255", "ip.srv in 10.1.2.0/24");
	OUT("10.1.3.0", "ip.srv in 10.1.2.0/24");
	IN("10.0.0.128", "ip.srv in 10.0.0.128/25");
	IN("10.0.0.255", "ip.srv in 10.0.0.128/25");
	OUT("10.0.0.127", "ip.srv in 10.0.0.128/25");
	OUT("10.0.1.0", "ip.srv in 10.0.0.128/25");
	IN("10.0.0.1", "ip.srv in 10.0.0.0/31");
	OUT("10.0.0.2", "ip.srv in 10.0.0.0/31");
	IN("10.255.255.255", "ip.srv in 10.0.0.0/8");
	OUT("11.0.0.0", "ip.srv in 10.0.0.0/8");
	OUT("9.255.255.255", "ip.srv in 10.0.0.0/8");
	IN("10.20.30.40", "ip.srv in 10.99.99.99/8");		/* host bits are masked */
	IN("0.0.0.0", "ip.srv in 0.0.0.0/0");
	IN("255.255.255.255", "ip.srv in 0.0.0.0/0");
	IN("192.0.2.2", "ip.srv in 1.2.3.4/0");
	IN("192.0.2.2", "ip.srv in 192.0.2.2/32");
	OUT("192.0.2.3", "ip.srv in 192.0.2.2/32");
	OUT("192.0.2.1", "ip.srv in 192.0.2.2/32");
	IN("192.0.2.2", "ip.srv in 192.0.2.2");			/* an address is a /32 */
	OUT("192.0.2.3", "ip.srv in 192.0.2.2");
	IN("192.0.2.2", "ip.srv = 192.0.2.2");
	OUT("192.0.2.2", "ip.srv != 192.0.2.2");
	IN("192.0.2.2", "ip.srv IN 192.0.2.0/30 and ip.clt in 172.16.0.0/12");
	OUT("192.0.2.2", "ip.clt in 172.32.0.0/12");
	/* IPv4 prefixes never match IPv6 flows, whatever their bits */
	OUT("2001:db8::1", "ip.srv in 0.0.0.0/0");
	OUT("::ffff:192.0.2.2", "ip.srv in 0.0.0.0/0");
	OUT("::192.0.2.2", "ip.srv = 192.0.2.2");
	IN("::192.0.2.2", "ip.srv != 192.0.2.2");
	/* the IPv4-mapped form matches IPv4 flows */
	IN("192.0.2.2", "ip.srv in ::ffff:0:0/96");
	IN("0.0.0.0", "ip.srv in ::ffff:0.0.0.0/96");
	IN("192.0.2.2", "ip.srv in ::ffff:192.0.2.0/120");
	OUT("192.0.3.2", "ip.srv in ::ffff:192.0.2.0/120");
	IN("192.0.2.2", "ip.srv = ::ffff:192.0.2.2");
	IN("192.0.2.2", "ip.srv in ::ffff:c000:202/128");
	OUT("192.0.2.3", "ip.srv = ::ffff:192.0.2.2");
	/* shorter than /96, or outside it: an IPv6 prefix, for IPv6 flows only */
	OUT("192.0.2.2", "ip.srv in ::/0");
	OUT("192.0.2.2", "ip.srv in ::/80");
	OUT("192.0.2.2", "ip.srv in ::/95");
	OUT("192.0.2.2", "ip.srv in ::ffff:0:0/95");
	IN("::ffff:192.0.2.2", "ip.srv in ::/80");
}

static void test_cidr_v6(void **state)
{
	(void)state;
	IN("2001:db8:1::", "ip.srv in 2001:db8:1::/48");
	IN("2001:db8:1:ffff:ffff:ffff:ffff:ffff", "ip.srv in 2001:db8:1::/48");
	OUT("2001:db8:0:ffff:ffff:ffff:ffff:ffff", "ip.srv in 2001:db8:1::/48");
	OUT("2001:db8:2::", "ip.srv in 2001:db8:1::/48");
	/* across a 32-bit word: /33 and /65 */
	IN("2001:db8:7fff:ffff::", "ip.srv in 2001:db8::/33");
	OUT("2001:db8:8000::", "ip.srv in 2001:db8::/33");
	IN("2001:db8::8000:0:0:0", "ip.srv in 2001:db8::8000:0:0:0/65");
	IN("2001:db8::ffff:ffff:ffff:ffff", "ip.srv in 2001:db8::8000:0:0:0/65");
	OUT("2001:db8::7fff:ffff:ffff:ffff", "ip.srv in 2001:db8::8000:0:0:0/65");
	OUT("2001:db8:0:1::", "ip.srv in 2001:db8::8000:0:0:0/65");
	IN("2001:db8::2", "ip.srv in 2001:db8::2/127");
	IN("2001:db8::3", "ip.srv in 2001:db8::2/127");
	IN("2001:db8::2", "ip.srv in 2001:db8::3/127");
	OUT("2001:db8::1", "ip.srv in 2001:db8::2/127");
	OUT("2001:db8::4", "ip.srv in 2001:db8::2/127");
	IN("2001:db8::1", "ip.srv in 2001:db8::1/128");
	OUT("2001:db8::", "ip.srv in 2001:db8::1/128");
	OUT("2001:db8::2", "ip.srv in 2001:db8::1");
	IN("2001:db8::1", "ip.srv = 2001:DB8:0:0:0:0:0:1");
	IN("::", "ip.srv in ::/0");
	IN("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ip.srv in ::/0");
	IN("fe80::1", "ip.srv in ::1/0");
	IN("::1", "ip.srv = ::1");
	IN("2001:db8::1", "ip.srv != 192.0.2.2");
	/* IPv6 prefixes never match IPv4 flows, IPv4-mapped ones aside */
	OUT("0.0.0.0", "ip.srv in ::/0");
	OUT("192.0.2.2", "ip.srv = ::192.0.2.2");
	IN("::ffff:1.2.3.4", "ip.srv in ::ffff:0:0/96");	/* on the wire as IPv6: bits */
}

static void test_ranges(void **state)
{
	struct ct_record ex = example();

	(void)state;
	ex.key.port[CT_EP_LO] = 65535;
	YES("port.srv = 65535", &ex);
	BAD("port.srv = 65536", 11, "port.srv takes 0 to 65535");
	BAD("port.clt < 99999999999999999999999", 11, "port.clt takes 0 to 65535");
	YES("port.clt >= 0", &ex);
	ex.key.ifvlan = CT_IFVLAN(7, 4095);
	YES("vlan = 4095", &ex);
	BAD("vlan = 4096", 7, "vlan takes 0 to 4095");
	BAD("ct.count = 2", 11, "ct.count takes 0 to 1");
	ex.flow.bytes[CT_EP_HI] = UINT64_MAX;
	YES("bytes.clt = 18446744073709551615", &ex);
	NO("bytes.clt < 18446744073709551615", &ex);
	YES("bytes.clt > 18446744073709551614", &ex);
	BAD("bytes.clt = 18446744073709551616", 12,
	    "bytes.clt takes 0 to 18446744073709551615");
	BAD("pkts.srv = 36893488147419103232", 11, "pkts.srv takes 0 to 18446744073709551615");
	ex.flow.fin[CT_EP_HI] = UINT32_MAX;
	ex.flow.fin[CT_EP_LO] = UINT32_MAX;
	YES("fin.count.clt = 4294967295 and fin.count.srv = 4294967295", &ex);
	YES("fin.count = 8589934590", &ex);			/* no 32-bit wrap */
	ex.flow.syn[CT_EP_HI] = ex.flow.syn[CT_EP_LO] = UINT32_MAX;
	ex.flow.synack[CT_EP_HI] = ex.flow.synack[CT_EP_LO] = UINT32_MAX;
	ex.flow.rst[CT_EP_HI] = ex.flow.rst[CT_EP_LO] = UINT32_MAX;
	YES("syn.count = 8589934590 and synack.count = 8589934590", &ex);
	YES("rst.count = 8589934590 and rst.count.clt = 4294967295", &ex);
	BAD("fin.count.clt = 4294967296", 16, "fin.count.clt takes 0 to 4294967295");
	BAD("fin.count = 8589934591", 12, "fin.count takes 0 to 8589934590");
	BAD("rst.count = -1", 12, "rst.count takes 0 to 8589934590");
	BAD("rst.count = 1.5", 12, "rst.count takes a whole number");
	BAD("rst.count = 0x10", 12, "expected a number after '=', found '0x10'");
	ex = example();
	YES("rst.count = 0003", &ex);
}

static void test_dur(void **state)
{
	struct ct_record ex = example();	/* 2.122456 s */

	(void)state;
	YES("dur > 2.122455", &ex);
	NO("dur > 2.122456", &ex);
	YES("dur >= 2.122456", &ex);
	YES("dur = 2.122456000", &ex);
	YES("dur <= 2.122456", &ex);
	NO("dur < 2.122456", &ex);
	NO("dur = 2.1224560001", &ex);			/* finer than a nanosecond */
	YES("dur != 2.1224560001", &ex);
	YES("dur < 2.1224560001", &ex);
	YES("dur <= 2.1224560001", &ex);
	NO("dur > 2.1224560001", &ex);
	NO("dur >= 2.1224560001", &ex);
	YES("dur > 2.1224559999", &ex);
	YES("dur >= 2.1224559999", &ex);
	NO("dur <= 2.1224559999", &ex);
	YES("dur > .5 and dur < 3 and dur > 2.", &ex);
	ex.ts_ns = ex.start_ns - 1;			/* the clock went back: 0 */
	YES("dur = 0", &ex);
	ex.start_ns = 0;
	ex.ts_ns = UINT64_MAX;
	YES("dur = 18446744073.709551615", &ex);
	BAD("dur > 18446744073.709551616", 6, "dur takes at most 18446744073.709551615");
	BAD("dur > 99999999999999999999", 6, "dur takes at most");
	BAD("dur > -1", 6, "dur takes a number of seconds >= 0");
	BAD("dur > 1s", 6, "expected a number of seconds after '>', found '1s'");
	BAD("dur > 1.2.3", 6, "expected a number of seconds");
	BAD("dur > .", 6, "expected a number of seconds");
	BAD("dur in 1", 4, "'in' applies only to ip.clt and ip.srv");
}

static void test_errors(void **state)
{
	char buf[CT_FILTER_MAX_LEN + 64];

	(void)state;
	BAD("", 0, "empty filter");
	BAD(" \t\n", 0, "empty filter");
	BAD(NULL, 0, "empty filter");
	BAD("rst.cnt > 0", 0, "unknown field 'rst.cnt'; did you mean rst.count?");
	BAD("fin.count = 0 and Port.srv = 1", 18,
	    "unknown field 'Port.srv'; did you mean port.srv?");
	BAD("dru > 1", 0, "unknown field 'dru'; did you mean dur?");
	BAD("rst > 1", 0, "unknown field 'rst'; did you mean rst.count?");
	BAD("xyzzy = 1", 0, "unknown field 'xyzzy'; fields are syn.count, synack.count,");
	BAD("rst.count", 9, "expected a comparison operator after rst.count, found the end");
	BAD("rst.count 5", 10, "expected a comparison operator after rst.count, found '5'");
	BAD("ip.srv 10.0.0.1", 7, "expected =, != or 'in' after ip.srv");
	BAD("rst.count >", 11, "expected a number after '>', found the end");
	BAD("rst.count >= foo", 13, "expected a number after '>=', found 'foo'");
	BAD("port.srv = \"80\"", 11, "expected a number after '=', found \"80\"");
	BAD("(rst.count > 0", 14, "expected ')'");
	BAD("(rst.count > 0 fin.count = 0)", 15, "expected ')' to close the '(' at offset 0, "
	    "found 'fin.count'");
	BAD("rst.count > 0)", 13, "unmatched ')'");
	BAD("rst.count > 0 foo", 14, "unexpected 'foo' after the expression");
	BAD("rst.count > 0 (", 14, "unexpected '(' after the expression");
	BAD("iface = \"eth0", 8, "unterminated string");
	BAD("iface = \"eth0\\\"", 8, "unterminated string");
	BAD("rst.count > 0 and", 17, "expected a field name, 'not' or '(', found the end");
	BAD("and rst.count > 0", 0, "expected a field name, 'not' or '(', found 'and'");
	BAD("()", 1, "expected a field name");
	BAD("rst.count > 0 and not", 21, "expected a field name");
	BAD("rst.count = 1 # x", 14, "unexpected character '#'");
	BAD("rst.count = 1 \x01", 14, "unexpected byte 0x01");
	BAD("rst.count > 0 & fin.count = 0", 14, "unexpected '&'; use && or 'and'");
	BAD("rst.count > 0 | fin.count = 0", 14, "unexpected '|'; use || or 'or'");
	BAD("rst.count => 1", 11, "expected a number after '=', found '>'");
	BAD("close < refused", 6, "'<' does not apply to close, a string; use = or !=");
	BAD("iface >= eth0", 6, "'>=' does not apply to iface");
	BAD("zeek in SF", 5, "'in' applies only to ip.clt and ip.srv; zeek takes = or !=");
	BAD("close = nope", 8, "unknown close kind 'nope'; one of open, graceful, refused,");
	BAD("close = \"Refused\"", 8, "unknown close kind \"Refused\"");
	BAD("close = and", 8, "expected a close kind after '=', found 'and'");
	BAD("zeek = XX", 7, "unknown Zeek state 'XX'; one of S0 S1 SF REJ S2 S3 RSTO RSTR "
	    "RSTOS0 RSTRH SH SHR OTH");
	BAD("rst.by = both", 9, "rst.by takes clt, srv or -, found 'both'");
	BAD("iface = (", 8, "expected a string after '=', found '('");
	BAD("ip.srv > 10.0.0.1", 7, "'>' does not apply to ip.srv; use =, != or 'in'");
	BAD("ip.srv = 5", 9, "expected an IPv4 or IPv6 address after '=', found '5'");
	BAD("ip.srv = 10.0.0.256", 9, "expected an IPv4 or IPv6 address");
	BAD("ip.srv in eth0", 10, "expected an IPv4 or IPv6 address or prefix after 'in'");
	BAD("ip.srv in 2001:db8:::1/64", 10, "expected an IPv4 or IPv6 address or prefix");
	BAD("ip.srv in /8", 10, "expected an IPv4 or IPv6 address or prefix");
	BAD("ip.srv = 10.0.0.0/8", 17, "'=' compares single addresses; use 'in' for a prefix");
	BAD("ip.srv in 10.0.0.0/33", 19, "the prefix length of an IPv4 address is 0 to 32");
	BAD("ip.srv in 10.0.0.0/99999999999", 19, "the prefix length of an IPv4 address");
	BAD("ip.srv in 2001:db8::/129", 21, "the prefix length of an IPv6 address is 0 to 128");
	BAD("ip.srv in 10.0.0.0/", 19, "expected a prefix length (0 to 32) after '/'");
	BAD("ip.srv in 10.0.0.0/8/8", 19, "expected a prefix length (0 to 32) after '/'");
	BAD("ip.srv in 10.0.0.0/-1", 19, "expected a prefix length");
	BAD("ip.srv in \"10.0.0.0/33\"", 20, "the prefix length of an IPv4 address");
	/* a long token is shown shortened */
	BAD("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1", 0,
	    "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaa...'");

	/* length: CT_FILTER_MAX_LEN bytes are fine, one more is not */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "vlan = 0", 8);
	buf[CT_FILTER_MAX_LEN] = '\0';
	YES(buf, &(struct ct_record){ 0 });
	buf[CT_FILTER_MAX_LEN] = ' ';
	buf[CT_FILTER_MAX_LEN + 1] = '\0';
	BAD(buf, CT_FILTER_MAX_LEN, "expression longer than 4096 bytes");
}

static void test_depth(void **state)
{
	struct ct_record ex = example();
	char buf[CT_FILTER_MAX_LEN + 1];
	size_t n = 0;

	(void)state;
	/* 64 levels of parentheses parse, 65 do not */
	for (int i = 0; i < CT_FILTER_MAX_DEPTH; i++)
		buf[n++] = '(';
	n += (size_t)sprintf(buf + n, "vlan = 100");
	for (int i = 0; i < CT_FILTER_MAX_DEPTH; i++)
		buf[n++] = ')';
	buf[n] = '\0';
	YES(buf, &ex);
	memmove(buf + 1, buf, n + 1);
	buf[0] = '(';
	BAD(buf, CT_FILTER_MAX_DEPTH, "nested deeper than 64");

	/* not counts too: 32 (not ...) pairs are 64 levels */
	n = 0;
	for (int i = 0; i < CT_FILTER_MAX_DEPTH / 2; i++)
		n += (size_t)sprintf(buf + n, "not (");
	n += (size_t)sprintf(buf + n, "vlan = 100");
	for (int i = 0; i < CT_FILTER_MAX_DEPTH / 2; i++)
		buf[n++] = ')';
	buf[n] = '\0';
	YES(buf, &ex);					/* an even number of nots */
	memmove(buf + 1, buf, n + 1);
	buf[0] = '!';
	BAD(buf, 5 * (CT_FILTER_MAX_DEPTH / 2), "nested deeper than 64");

	/* long flat chains: no depth at all */
	n = 0;
	while (n + 20 < CT_FILTER_MAX_LEN)
		n += (size_t)sprintf(buf + n, "vlan=100&&");
	sprintf(buf + n, "vlan=100");
	YES(buf, &ex);
	buf[n + 7] = '1';				/* the last one fails */
	NO(buf, &ex);
	n = 0;
	while (n + 20 < CT_FILTER_MAX_LEN)
		n += (size_t)sprintf(buf + n, "vlan=1 or ");
	sprintf(buf + n, "vlan=100");
	YES(buf, &ex);
	buf[n + 7] = '1';
	NO(buf, &ex);
}

static void test_perror(void **state)
{
	const char *expr = "rst.count >\tfoo";
	struct ct_filter_error err;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_non_null(f);
	assert_null(ct_filter_parse(expr, &err));
	assert_int_equal(err.pos, 12);
	ct_filter_perror(f, "closetrace", expr, &err);
	fclose(f);
	assert_string_equal(out,
			    "closetrace: bad filter: expected a number after '>', found 'foo'\n"
			    "  rst.count > foo\n"
			    "              ^\n");
	free(out);

	/* a caret at the end, past the last byte */
	out = NULL;
	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_null(ct_filter_parse("(vlan=1", &err));
	ct_filter_perror(f, "x", "(vlan=1", &err);
	fclose(f);
	assert_string_equal(out, "x: bad filter: expected ')' to close the '(' at offset 0, "
				 "found the end\n  (vlan=1\n         ^\n");
	free(out);
}

static void test_field_list(void **state)
{
	static const char *const want[] = {
		"syn.count", "synack.count", "ct.count", "midstream", "fin.count", "fin.count.clt",
		"fin.count.srv", "rst.count", "rst.count.clt", "rst.count.srv", "pkts.clt",
		"pkts.srv", "bytes.clt", "bytes.srv", "dur", "close", "zeek", "rst.by",
		"rst.reason", "ip.clt", "ip.srv", "port.clt", "port.srv", "ip", "host", "port",
		"vlan", "iface", "app.unit", "app.container", "app.pod", "app.comm", "app.pid",
		"app.cgroup", "clt.zone", "srv.zone", "tunnel", "tunnel.id", "tunnel.ip",
	};
	size_t n = sizeof(want) / sizeof(want[0]), i;
	struct ct_filter_error err;

	(void)state;
	for (i = 0; ct_filter_fields[i]; i++) {
		char buf[64];

		assert_true(i < n);
		assert_string_equal(ct_filter_fields[i], want[i]);
		/* each is known: the error, if any, is about the value */
		snprintf(buf, sizeof(buf), "%s = (", ct_filter_fields[i]);
		assert_null(ct_filter_parse(buf, &err));
		assert_int_equal(err.pos, strlen(ct_filter_fields[i]) + 3);
	}
	assert_int_equal(i, n);
}

/* rst.reason: the names of the kernel's table in use; "-" without one (replay). */
static void test_reason(void **state)
{
	struct ct_record r = refused();
	struct ct_reasons t = { 0 };

	(void)state;
	/* as the kernel's enum sk_rst_reason names them */
	assert_int_equal(ct_reasons_name(&t, 0, "SK_RST_REASON_NOT_SPECIFIED"), 0);
	assert_int_equal(ct_reasons_name(&t, 1, "SK_RST_REASON_NO_SOCKET"), 0);
	assert_int_equal(ct_reasons_name(&t, 8, "SK_RST_REASON_TCP_ABORT_ON_DATA"), 0);
	YES("rst.reason = \"-\"", &r);
	r.flow.rst_reason = 2;	/* NO_SOCKET + 1 */
	YES("rst.reason = \"-\"", &r);	/* no table in use: unknown */
	ct_reasons_use(&t);
	YES("rst.reason = no-socket", &r);
	YES("rst.reason = \"no-socket\" and close = refused", &r);
	NO("rst.reason = data-after-close", &r);
	YES("rst.reason != data-after-close", &r);
	r.flow.rst_reason = 9;
	YES("rst.reason = data-after-close", &r);
	/* the kernel's name, as it or as closetrace once spelled it, stands for ours */
	YES("rst.reason = abort-on-data", &r);
	YES("rst.reason = TCP_ABORT_ON_DATA", &r);
	YES("rst.reason = no-socket or rst.reason = SK_RST_REASON_TCP_ABORT_ON_DATA", &r);
	ct_reasons_use(NULL);
	BAD("rst.reason = nosocket", 13, "unknown reset reason 'nosocket'; did you mean no-socket?");
	BAD("rst.reason = whatever", 13, "unknown reset reason 'whatever' ('closetrace help reasons' "
	    "says what each means); one of - no-socket closed-unread");
	BAD("rst.reason > no-socket", 11, "does not apply to rst.reason, a string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_examples),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_cidr_v4),
		cmocka_unit_test(test_cidr_v6),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_dur),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_perror),
		cmocka_unit_test(test_field_list),
		cmocka_unit_test(test_reason),
	};

	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
