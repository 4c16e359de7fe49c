// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_output.c - unit tests, no privileges: NDJSON and text rendering of records, time
 * formatting, string escaping (JSON, and terminal-safe text in text output, log lines
 * and error messages), the user-space close decisions and their timeouts, and number
 * parsing for options. The printf-free formatter against the snprintf one it replaced
 * (output_ref.h) on random records, and the stdout queue: in-place lines, wrap-around,
 * whole drops.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/btf.h>

#include "append.h"
#include "attach.h"
#include "classify.h"
#include "closetrace.h"
#include "options.h"
#include "ct_logic.h"
#include "flows.h"
#include "log.h"
#include "numbers.h"
#include "format.h"
#include "output.h"
#include "pcapin.h"
#include "reasons.h"
#include "reasons_btf.h"
#include "record.h"
#include "writer.h"

#include "output_ref.h"

#define L(ep, l) CT_ST_LETTER(ep, l)
#define SEC 1000000000ull

/* The record of DESIGN.md's example: a client closing a transfer with FIN, then RSTs. */
static struct ct_record example(void)
{
	struct ct_record r = { 0 };
	struct ct_flow_key *k = &r.key;
	int c = CT_EP_HI, s = CT_EP_LO;
	__u64 h = 0;
	int n = 0;
	static const int seq[][2] = {
		{ CT_EP_HI, CT_L_SYN }, { CT_EP_LO, CT_L_SYNACK }, { CT_EP_HI, CT_L_ACK },
		{ CT_EP_HI, CT_L_DATA }, { CT_EP_LO, CT_L_ACK }, { CT_EP_LO, CT_L_DATA },
		{ CT_EP_HI, CT_L_FIN }, { CT_EP_HI, CT_L_RST },
	};

	k->addr[0][2] = k->addr[1][2] = htonl(0xffff);
	inet_pton(AF_INET, "192.0.2.2", &k->addr[s][3]);
	inet_pton(AF_INET, "192.0.2.1", &k->addr[c][3]);
	k->port[s] = 80;
	k->port[c] = 51234;
	k->ifvlan = CT_IFVLAN(2, 0);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		h |= ct_hist_code(seq[i][0], seq[i][1]) << (4 * n++);
		r.flow.state |= L(seq[i][0], seq[i][1]);
	}
	r.flow.state |= CT_ST_ROLE | CT_ST_CLIENT_HI | CT_ST_CT | CT_ST_HS_DONE | CT_ST_ENDED;
	r.flow.history = h;
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
	r.start_ns = 1795427998001000000ull;	/* 2026-11-23T09:59:58.001000Z */
	r.ts_ns = r.start_ns + 2122456000ull;
	r.iface = "eth0";
	return r;
}

static void test_json_example(void **state)
{
	struct ct_record r = example();
	char buf[1024];
	size_t n;

	(void)state;
	n = ct_format_json(&r, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf,
		"{\"v\":1,\"type\":\"close\",\"ts\":\"2026-11-23T10:00:00.123456Z\",\"iface\":\"eth0\","
		"\"close\":\"fin-reset\",\"zeek\":\"RSTO\",\"rst_by\":\"clt\",\"history\":\"ShADadFR\","
		"\"clt_ip\":\"192.0.2.1\",\"clt_port\":51234,\"srv_ip\":\"192.0.2.2\",\"srv_port\":80,"
		"\"syn\":1,\"synack\":1,\"ct\":1,\"midstream\":false,\"fin_clt\":1,\"fin_srv\":0,\"rst_clt\":3,\"rst_srv\":0,"
		"\"pkts_clt\":9,\"pkts_srv\":40,\"bytes_clt\":310,\"bytes_srv\":52000,\"vlan\":0,"
		"\"start\":\"2026-11-23T09:59:58.001000Z\",\"dur\":2.122456,\"rst_reason\":\"-\","
		"\"rst_reason_kernel\":\"-\",\"rst_state\":\"-\",\"rst_accepted\":false}\n");
}

static void test_json_escaping_and_ipv6(void **state)
{
	struct ct_record r = example();
	char buf[1024];

	(void)state;
	r.iface = "we\"ird\\na\tme\x01";
	memset(r.key.addr, 0, sizeof(r.key.addr));
	inet_pton(AF_INET6, "2001:db8::1", r.key.addr[CT_EP_HI]);
	inet_pton(AF_INET6, "2001:db8::2", r.key.addr[CT_EP_LO]);
	r.type = CT_REC_FLOW;
	ct_format_json(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"type\":\"flow\""));
	assert_non_null(strstr(buf, "\"iface\":\"we\\\"ird\\\\na\\tme\\u0001\""));
	assert_non_null(strstr(buf, "\"clt_ip\":\"2001:db8::1\""));
	assert_non_null(strstr(buf, "\"srv_ip\":\"2001:db8::2\""));
	/* a short buffer is cut, never overrun, always terminated */
	assert_true(ct_format_json(&r, buf, 40) < 40);
	assert_int_equal(strlen(buf), 39);
}

static void test_text(void **state)
{
	const struct ct_text_layout narrow = { .iface = 5, .reasons = 1 }, bare = { 0 },
				    wide = { .wide = 1, .iface = 5, .reasons = 1 };
	struct ct_record r = example();
	char buf[512], hdr[512];

	(void)state;
	/* narrow: what ended, who, the counts that tell why, the reason, then the endpoints */
	ct_format_text_header(&narrow, hdr, sizeof(hdr));
	ct_format_text(&r, &narrow, buf, sizeof(buf));
	assert_string_equal(hdr, "TIME     IFACE CLOSE        BY  SYN FIN C:S RST C:S     DUR "
				 "REASON         CLIENT                SERVER\n");
	assert_string_equal(buf, "10:00:00 eth0  fin-reset    clt   1     1:0     3:0   2.122 "
				 "-              192.0.2.1:51234       192.0.2.2:80\n");
	/* no IFACE (one capture), no REASON (replay, XDP) */
	ct_format_text_header(&bare, hdr, sizeof(hdr));
	ct_format_text(&r, &bare, buf, sizeof(buf));
	assert_string_equal(hdr, "TIME     CLOSE        BY  SYN FIN C:S RST C:S     DUR "
				 "CLIENT                SERVER\n");
	assert_string_equal(buf, "10:00:00 fin-reset    clt   1     1:0     3:0   2.122 "
				 "192.0.2.1:51234       192.0.2.2:80\n");
	/* -w: every count, Zeek's state and history, the full time */
	ct_format_text_header(&wide, hdr, sizeof(hdr));
	ct_format_text(&r, &wide, buf, sizeof(buf));
	assert_non_null(strstr(buf, "2026-11-23T10:00:00.123456Z eth0  fin-reset    RSTO   clt"));
	assert_non_null(strstr(buf, " 1      1       1:0       3:0            9:40      2.122 "
				    "ShADadFR     -    "));
	assert_non_null(strstr(buf, " 192.0.2.1:51234                                 192.0.2.2:80\n"));
	/* columns line up with the header */
	assert_int_equal(strstr(buf, "fin-reset") - buf, strstr(hdr, "CLOSE") - hdr);
	assert_int_equal(strstr(buf, "ShADadFR") - buf, strstr(hdr, "HISTORY") - hdr);
	assert_int_equal(strstr(buf, "192.0.2.1") - buf, strstr(hdr, "CLIENT") - hdr);
	assert_int_equal(strstr(buf, "192.0.2.2") - buf, strstr(hdr, "SERVER") - hdr);
	/* a flow joined midstream: "mid" where the SYNs go (roles guessed), true in JSON */
	r.flow.state &= ~(CT_ST_LETTER(CT_EP_LO, CT_L_SYN) | CT_ST_LETTER(CT_EP_HI, CT_L_SYN) |
			  CT_ST_LETTER(CT_EP_LO, CT_L_SYNACK) | CT_ST_LETTER(CT_EP_HI, CT_L_SYNACK));
	ct_format_text(&r, &narrow, buf, sizeof(buf));
	assert_non_null(strstr(buf, " fin-reset    clt mid     1:0     3:0 "));
	ct_format_json(&r, buf, sizeof(buf));
	assert_non_null(strstr(buf, ",\"ct\":1,\"midstream\":true,"));
	r = example();
	/* a duration of more than 7 columns takes the room it needs */
	r.ts_ns = r.start_ns + 123456789000000000ull;
	ct_format_text(&r, &narrow, buf, sizeof(buf));
	assert_non_null(strstr(buf, " 3:0 123456789.000 - "));
}

/* @in escaped into a roomy buffer must read @want, and the count must be its length. */
static void escapes_to(const char *in, const char *want)
{
	char buf[256];

	assert_int_equal(ct_text_escape(in, buf, sizeof(buf)), strlen(want));
	assert_string_equal(buf, want);
}

static void test_text_escape(void **state)
{
	(void)state;
	escapes_to("eth0", "eth0");
	escapes_to("", "");
	/* controls are shown, never obeyed */
	escapes_to("a\x1b[31mb.pcap", "a\\x1b[31mb.pcap");
	escapes_to("bell\a", "bell\\x07");
	escapes_to("del\x7f", "del\\x7f");
	escapes_to("\x01\x1f", "\\x01\\x1f");
	escapes_to("cr\r", "cr\\x0d");
	escapes_to("a\tb\nc", "a\\tb\\nc");
	/* a backslash doubles, so that a name holding "\x1b" reads apart from ESC */
	escapes_to("a\\x1b", "a\\\\x1b");
	/* well-formed UTF-8 passes */
	escapes_to("caf\xc3\xa9", "caf\xc3\xa9");				/* é */
	escapes_to("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac");	/* 日本 */
	escapes_to("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");			/* U+1F600 */
	escapes_to("nb\xc2\xa0sp", "nb\xc2\xa0sp");				/* U+00A0 */
	/* C1 controls are not: U+009B is a CSI on some terminals */
	escapes_to("\xc2\x9b" "31m", "\\xc2\\x9b31m");
	escapes_to("\xc2\x80", "\\xc2\\x80");
	escapes_to("\xc2\x9f", "\\xc2\\x9f");
	/* invalid bytes, each on its own */
	escapes_to("\xff\xfe", "\\xff\\xfe");
	escapes_to("a\x80z", "a\\x80z");
	escapes_to("\xc3(", "\\xc3(");
	/* overlong forms of '/' and of U+0000..U+07FF, surrogates, past U+10FFFF */
	escapes_to("\xc0\xaf", "\\xc0\\xaf");
	escapes_to("\xc1\xbf", "\\xc1\\xbf");
	escapes_to("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	escapes_to("\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf");
	escapes_to("\xed\xa0\x80", "\\xed\\xa0\\x80");
	escapes_to("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	escapes_to("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
	/* a sequence cut by the end of the string, or by a byte that does not continue it */
	escapes_to("ab\xe6\x97", "ab\\xe6\\x97");
	escapes_to("\xf0\x9f\x98", "\\xf0\\x9f\\x98");
	escapes_to("\xe6\x97z", "\\xe6\\x97z");
}

/* A short buffer: the output is cut between escapes and characters, never inside one. */
static void test_text_escape_cut(void **state)
{
	/* "a", ESC, 日, backslash: pieces end at 1, 5, 8 and 10 bytes of the output */
	static const char in[] = "a\x1b\xe6\x97\xa5\\";
	static const size_t ends[] = { 0, 1, 5, 8, 10 };
	char buf[32], full[32];
	size_t n, want;

	(void)state;
	ct_text_escape(in, full, sizeof(full));
	assert_string_equal(full, "a\\x1b\xe6\x97\xa5\\\\");
	for (size_t len = 1; len < sizeof(buf); len++) {
		memset(buf, 'Z', sizeof(buf));
		n = ct_text_escape(in, buf, len);
		want = 0;
		for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
			if (ends[i] < len)
				want = ends[i];
		assert_int_equal(n, want);
		assert_int_equal(strlen(buf), n);
		assert_memory_equal(buf, full, n);
		for (size_t i = len; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'Z');	/* nothing written past @len */
	}
	/* no room at all: nothing written */
	buf[0] = 'Z';
	assert_int_equal(ct_text_escape(in, buf, 0), 0);
	assert_int_equal(buf[0], 'Z');
}

/* No byte below 0x20 but the line's final newline; DEL and C1 controls never either. */
static void assert_terminal_safe(const char *line)
{
	size_t n = strlen(line);

	assert_true(n > 0);
	assert_int_equal(line[n - 1], '\n');
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char c = (unsigned char)line[i], next = (unsigned char)line[i + 1];

		assert_true(c >= 0x20 && c != 0x7f);
		assert_false(c == 0xc2 && next >= 0x80 && next < 0xa0);
	}
}

static void test_text_iface_escaped(void **state)
{
	const struct ct_text_layout l = { .iface = 15 };
	struct ct_record r = example();
	char buf[512], hdr[512];

	(void)state;
	ct_format_text_header(&l, hdr, sizeof(hdr));
	r.iface = "\x1b[31m";
	ct_format_text(&r, &l, buf, sizeof(buf));
	assert_terminal_safe(buf);
	assert_non_null(strstr(buf, "10:00:00 \\x1b[31m        fin-reset "));
	assert_int_equal(strstr(buf, "fin-reset") - buf, strstr(hdr, "CLOSE") - hdr);
	/* a C1 CSI in UTF-8 */
	r.iface = "a\xc2\x9b" "31m";
	ct_format_text(&r, &l, buf, sizeof(buf));
	assert_terminal_safe(buf);
	assert_non_null(strstr(buf, "10:00:00 a\\xc2\\x9b31m    fin-reset "));
	/* the width is the escaped name's: the column's width comes from it */
	assert_int_equal(ct_text_name_width("a\xc2\x9b" "31m"), 12);
	assert_int_equal(ct_text_name_width("eth0"), 4);
	/* a name longer than the column is never cut: the line moves, the name stays whole */
	r.iface = "abcdefghijkl\x1b[31m.pcap";
	ct_format_text(&r, &l, buf, sizeof(buf));
	assert_terminal_safe(buf);
	assert_non_null(strstr(buf, "10:00:00 abcdefghijkl\\x1b[31m.pcap fin-reset "));
}

/* Send stderr to a file until stderr_end(), which reads what was written into @buf. */
static FILE *stderr_begin(int *saved)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	fflush(stderr);
	*saved = dup(STDERR_FILENO);
	assert_true(*saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	ct_log_init(0);
	return f;
}

static void stderr_end(FILE *f, int saved, char *buf, size_t len)
{
	size_t n;

	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Run pr_warn() with stderr in a temporary file; its text goes to @buf. */
static void log_captured(char *buf, size_t len, const char *name)
{
	int saved;
	FILE *f = stderr_begin(&saved);

	pr_warn("%s: no such interface\t%d\n", name, 7);
	pr_warn("no newline: %s", name);
	pr_info("not shown without -v: %s\n", name);
	stderr_end(f, saved, buf, len);
}

static void test_log_escaped(void **state)
{
	char buf[2048], name[700];

	(void)state;
	log_captured(buf, sizeof(buf), "e\x1b[31m\nth\xc2\x9b");
	assert_null(strchr(buf, '\x1b'));
	/* the final newline stays; one in a name would fake another message: shown */
	assert_string_equal(buf, "closetrace: e\\x1b[31m\\nth\\xc2\\x9b: no such interface\\t7\n"
				 "closetrace: no newline: e\\x1b[31m\\nth\\xc2\\x9b");
	/* longer than the logger's stack buffer: still whole */
	memset(name, 'n', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	name[300] = '\x1b';
	log_captured(buf, sizeof(buf), name);
	assert_null(strchr(buf, '\x1b'));
	assert_int_equal(strlen(buf), 2 * strlen("closetrace: ") + 2 * (698 + 4) +
			 strlen(": no such interface\\t7\n") + strlen("no newline: "));
}

/* Said through ct_log, as every command says them. */
static void said(char *buf, size_t len, const char *msg)
{
	int saved;
	FILE *f = stderr_begin(&saved);

	pr_warn("%s\n", msg);
	stderr_end(f, saved, buf, len);
}

/*
 * Error messages that name a capture file or an interface hold the name as given, and
 * are escaped once, where they are said: never raw, never twice.
 */
static void test_errors_escaped(void **state)
{
	struct ct_pcap c;
	struct ct_iface ifc;
	char err[512], out[1024];

	(void)state;
	assert_int_equal(ct_pcap_open(&c, "/nonexistent/a\x1b[31mb.pcap", err, sizeof(err)), -1);
	said(out, sizeof(out), err);
	assert_string_equal(out, "closetrace: /nonexistent/a\\x1b[31mb.pcap: No such file or "
				 "directory\n");
	assert_int_equal(ct_iface_open(&ifc, "e\x1b[31m", err, sizeof(err)), -1);
	said(out, sizeof(out), err);
	assert_string_equal(out, "closetrace: e\\x1b[31m: no such interface\n");
	assert_int_equal(ct_iface_open(&ifc, "a\x07very-long-name-x", err, sizeof(err)), -1);
	said(out, sizeof(out), err);
	assert_string_equal(out, "closetrace: 'a\\x07very-long-name-x' is not an interface name\n");
}

static void test_time(void **state)
{
	char buf[64];

	(void)state;
	ct_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	ct_format_time(1795428000123456789ull, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-23T10:00:00.123456Z");
}

static void test_output_selection(void **state)
{
	struct ct_record r = example();
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct ct_output o = { .out = f, .fmt = CT_FMT_JSON };

	(void)state;
	assert_non_null(f);
	assert_int_equal(ct_output_record(&o, &r), 0);		/* abnormal: printed */
	r.close = CT_CLOSE_GRACEFUL;
	assert_int_equal(ct_output_record(&o, &r), 0);		/* graceful: not without --all */
	r.type = CT_REC_FLOW;
	assert_int_equal(ct_output_record(&o, &r), 0);		/* flow records: not without --final */
	assert_int_equal(o.printed, 1);
	o.all = 1;
	r.type = CT_REC_CLOSE;
	ct_output_record(&o, &r);
	assert_int_equal(o.printed, 2);
	o.flows = 1;
	ct_output_record(&o, &r);				/* --final: closes not printed */
	r.type = CT_REC_FLOW;
	ct_output_record(&o, &r);
	assert_int_equal(o.printed, 3);
	fclose(f);
}

static struct ct_flow fl(__u32 letters, __u32 extra)
{
	struct ct_flow f = { 0 };

	f.state = letters | extra;
	return f;
}

static void test_open_kind(void **state)
{
	const int c = CT_EP_LO, s = CT_EP_HI;
	__u32 role = CT_ST_ROLE;
	struct ct_flow f;

	(void)state;
	f = fl(L(c, CT_L_SYN), role);
	assert_int_equal(ct_open_kind(&f), CT_CLOSE_UNANSWERED);
	/* the client talking on, unanswered, is still unanswered */
	f = fl(L(c, CT_L_SYN) | L(c, CT_L_ACK) | L(c, CT_L_DATA), role | CT_ST_HS_DONE);
	assert_int_equal(ct_open_kind(&f), CT_CLOSE_UNANSWERED);
	f = fl(L(c, CT_L_SYN) | L(c, CT_L_FIN), role);
	assert_int_equal(ct_open_kind(&f), CT_CLOSE_HALF_OPEN);
	f = fl(L(s, CT_L_SYNACK) | L(s, CT_L_FIN), role);
	assert_int_equal(ct_open_kind(&f), CT_CLOSE_HALF_OPEN);
	f = fl(L(c, CT_L_SYN) | L(s, CT_L_SYNACK) | L(c, CT_L_ACK), role | CT_ST_CT);
	assert_int_equal(ct_open_kind(&f), CT_CLOSE_IDLE);
	f = fl(L(c, CT_L_SYN) | L(s, CT_L_SYNACK) | L(c, CT_L_FIN), role | CT_ST_CT);
	assert_int_equal(ct_open_kind(&f), CT_CLOSE_HALF_CLOSED);
	/* SYN answered by a SYN-ACK, never acknowledged: not unanswered */
	f = fl(L(c, CT_L_SYN) | L(s, CT_L_SYNACK), role);
	assert_int_equal(ct_open_kind(&f), CT_CLOSE_IDLE);
	f = fl(L(c, CT_L_DATA) | L(s, CT_L_ACK), CT_ST_HS_DONE);
	assert_int_equal(ct_open_kind(&f), CT_CLOSE_MIDSTREAM);
}

static void test_open_expired(void **state)
{
	struct ct_expiry e = { .syn_timeout_ns = 10 * SEC, .idle_timeout_ns = 300 * SEC };

	(void)state;
	/* attempts: from the first packet, however recent the last one */
	assert_false(ct_open_expired(&e, CT_CLOSE_UNANSWERED, 100 * SEC, 109 * SEC, 109 * SEC));
	assert_true(ct_open_expired(&e, CT_CLOSE_UNANSWERED, 100 * SEC, 109 * SEC, 110 * SEC));
	assert_true(ct_open_expired(&e, CT_CLOSE_HALF_OPEN, 100 * SEC, 110 * SEC, 110 * SEC));
	/* others: from the last packet */
	assert_false(ct_open_expired(&e, CT_CLOSE_IDLE, 0, 100 * SEC, 399 * SEC));
	assert_true(ct_open_expired(&e, CT_CLOSE_IDLE, 0, 100 * SEC, 400 * SEC));
	assert_true(ct_open_expired(&e, CT_CLOSE_MIDSTREAM, 0, 100 * SEC, 400 * SEC));
	/* a clock behind the flow (packets after the reading) expires nothing */
	assert_false(ct_open_expired(&e, CT_CLOSE_IDLE, 0, 500 * SEC, 400 * SEC));
	assert_false(ct_open_expired(&e, CT_CLOSE_UNANSWERED, 500 * SEC, 500 * SEC, 400 * SEC));
}

static void test_parse_long(void **state)
{
	long v = -1;

	(void)state;
	assert_int_equal(ct_parse_long("10", 1, 100, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(ct_parse_long("1", 1, 100, &v), 0);
	assert_int_equal(ct_parse_long("100", 1, 100, &v), 0);
	assert_int_equal(ct_parse_long("0", 1, 100, &v), -1);
	assert_int_equal(ct_parse_long("101", 1, 100, &v), -1);
	assert_int_equal(ct_parse_long("-5", 1, 100, &v), -1);
	assert_int_equal(ct_parse_long("10x", 1, 100, &v), -1);
	assert_int_equal(ct_parse_long("", 1, 100, &v), -1);
	assert_int_equal(ct_parse_long(NULL, 1, 100, &v), -1);
	assert_int_equal(ct_parse_long("99999999999999999999999", 1, 100, &v), -1);
	assert_int_equal(v, 100);	/* failures leave the value alone */
}

/*
 * A kernel's BTF, as far as resets go: tcp_send_reset's function type, with the reason
 * argument (6.10+) or without, enum sk_rst_reason (abridged, numbers shuffled), and
 * tcp_receive_reset's type with @rx.
 */
static struct btf *kernel_btf(int reason, int rx)
{
	static const struct {
		const char *name;
		int value;
	} reasons[] = {
		{ "SK_RST_REASON_NOT_SPECIFIED", 0 },
		{ "SK_RST_REASON_NO_SOCKET", 1 },
		{ "SK_RST_REASON_TCP_ABORT_ON_DATA", 8 },
		{ "SK_RST_REASON_TCP_ABORT_ON_CLOSE", 11 },
		{ "SK_RST_REASON_TCP_KEEPALIVE_TIMEOUT", 15 },
		{ "SK_RST_REASON_TCP_DISCONNECT_WITH_DATA", 16 },
		{ "SK_RST_REASON_MAX", 17 },
	};
	struct btf *b = btf__new_empty();
	int vp, e, proto;

	assert_non_null(b);
	vp = btf__add_ptr(b, 0);
	e = btf__add_enum(b, "sk_rst_reason", 4);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		assert_int_equal(btf__add_enum_value(b, reasons[i].name, reasons[i].value), 0);
	e = btf__add_const(b, e);	/* the kernel's is a const enum */
	proto = btf__add_func_proto(b, 0);
	for (int i = 0; i < (reason ? 4 : 3); i++)
		assert_int_equal(btf__add_func_param(b, NULL, i == 3 ? e : vp), 0);
	assert_true(btf__add_typedef(b, "btf_trace_tcp_send_reset", btf__add_ptr(b, proto)) > 0);
	if (rx) {
		proto = btf__add_func_proto(b, 0);
		btf__add_func_param(b, NULL, vp);
		btf__add_func_param(b, NULL, vp);
		assert_true(btf__add_typedef(b, "btf_trace_tcp_receive_reset",
					     btf__add_ptr(b, proto)) > 0);
	}
	return b;
}

/* The reason table: tracepoints and names from the kernel's BTF, by number. */
static void test_reasons(void **state)
{
	struct ct_reasons r;
	struct ct_record rec = example();
	char buf[4096], name[32];
	struct btf *b = kernel_btf(1, 1);

	(void)state;
	assert_int_equal(ct_reasons_from_btf(b, &r), 0);
	btf__free(b);
	assert_true(r.send_reset && r.receive_reset && r.reason_arg);
	assert_int_equal(r.nnames, 17);		/* SK_RST_REASON_MAX is no reason */
	ct_reasons_use(&r);
	assert_string_equal(ct_rst_reason_name(0), "-");	/* unknown */
	assert_string_equal(ct_rst_reason_name(1), "unspecified");
	assert_string_equal(ct_rst_reason_kernel(1), "SK_RST_REASON_NOT_SPECIFIED");
	assert_string_equal(ct_rst_reason_name(2), "no-socket");
	assert_string_equal(ct_rst_reason_name(9), "data-after-close");
	assert_string_equal(ct_rst_reason_name(12), "closed-unread");
	assert_string_equal(ct_rst_reason_kernel(12), "SK_RST_REASON_TCP_ABORT_ON_CLOSE");
	assert_string_equal(ct_rst_reason_name(16), "keepalive-timeout");
	assert_string_equal(ct_rst_reason_name(17), "disconnect-data");
	assert_string_equal(ct_rst_reason_name(3), "-");	/* a number the kernel did not list */
	assert_string_equal(ct_rst_reason_kernel(3), "-");
	assert_string_equal(ct_rst_reason_name(18), "-");	/* _MAX */
	assert_string_equal(ct_rst_reason_name(200), "-");
	assert_string_equal(ct_rst_state_name(0), "-");
	assert_string_equal(ct_rst_state_name(1), "established");
	assert_string_equal(ct_rst_state_name(6), "time-wait");
	assert_string_equal(ct_rst_state_name(7), "close");
	assert_string_equal(ct_rst_state_name(10), "listen");
	assert_string_equal(ct_rst_state_name(99), "-");
	ct_reason_spell("SK_RST_REASON_TCP_ABORT_ON_LINGER", name, sizeof(name));
	assert_string_equal(name, "linger2-abort");
	ct_reason_spell("SK_RST_REASON_MPTCP_RST_EUNSPEC", name, sizeof(name));
	assert_string_equal(name, "mptcp-unspec");
	ct_reason_spell("TCP_TIMEWAIT_SOCKET", name, sizeof(name));	/* as tracefs prints */
	assert_string_equal(name, "time-wait");
	/* a reason of a later kernel, not listed: spelled from its enumerator */
	ct_reason_spell("SK_RST_REASON_TCP_NEW_THING", name, sizeof(name));
	assert_string_equal(name, "new-thing");
	/* the kernel's names, however written, stand for ours (filters) */
	assert_string_equal(ct_reason_alias("SK_RST_REASON_TCP_STATE"), "app-abort");
	assert_string_equal(ct_reason_alias("tcp_state"), "app-abort");
	assert_string_equal(ct_reason_alias("abort-on-close"), "closed-unread");
	assert_string_equal(ct_reason_alias("NO_SOCKET"), "no-socket");
	assert_null(ct_reason_alias("abort-on"));
	assert_null(ct_reason_alias("closed-unread"));
	ct_reason_spell("NO_SOCKET", name, 4);
	assert_string_equal(name, "no-");
	assert_int_equal(ct_reasons_name(&r, CT_REASONS_MAX, "SK_RST_REASON_FUTURE"), -1);
	assert_int_equal(ct_reasons_name(&r, -1, "SK_RST_REASON_FUTURE"), -1);
	/* in the outputs */
	rec.flow.rst_reason = 12;
	rec.flow.rst_state = 1;
	ct_format_json(&rec, buf, sizeof(buf));
	assert_non_null(strstr(buf, ",\"rst_reason\":\"closed-unread\",\"rst_reason_kernel\":"
				    "\"SK_RST_REASON_TCP_ABORT_ON_CLOSE\",\"rst_state\":\"established\","
				    "\"rst_accepted\":false}\n"));
	ct_format_text(&rec, &(struct ct_text_layout){ .wide = 1, .reasons = 1 }, buf,
		       sizeof(buf));
	assert_non_null(strstr(buf, " ShADadFR     closed-unread/established "));
	/* narrow: the reason alone, the state being in -w and JSON */
	ct_format_text(&rec, &(struct ct_text_layout){ .reasons = 1 }, buf, sizeof(buf));
	assert_non_null(strstr(buf, " closed-unread  192.0.2.1:51234 "));
	/* no table (replay): "-" whatever the byte says */
	ct_reasons_use(NULL);
	assert_string_equal(ct_rst_reason_name(12), "-");
	/* a kernel before 6.10: tcp_send_reset(sk, skb), no reason and no names */
	b = kernel_btf(0, 1);
	assert_int_equal(ct_reasons_from_btf(b, &r), 0);
	btf__free(b);
	assert_true(r.send_reset && r.receive_reset);
	assert_false(r.reason_arg);
	assert_int_equal(r.nnames, 0);
	ct_reasons_use(&r);
	assert_string_equal(ct_rst_reason_name(12), "-");
	ct_reasons_use(NULL);
	/* no tcp_receive_reset */
	b = kernel_btf(1, 0);
	assert_int_equal(ct_reasons_from_btf(b, &r), 0);
	btf__free(b);
	assert_true(r.send_reset && r.reason_arg);
	assert_false(r.receive_reset);
	/* no tracepoint at all */
	b = btf__new_empty();
	assert_int_equal(ct_reasons_from_btf(b, &r), -1);
	btf__free(b);
	assert_false(r.send_reset || r.receive_reset || r.reason_arg);
	/* a RST taken by a local socket, none sent here */
	rec.flow.rst_reason = 0;
	rec.flow.rst_state = 0;
	rec.flow.rst_accepted = 1;
	ct_format_text(&rec, &(struct ct_text_layout){ .reasons = 1 }, buf, sizeof(buf));
	assert_non_null(strstr(buf, " rst-received   192.0.2.1:51234 "));
	ct_format_json(&rec, buf, sizeof(buf));
	assert_non_null(strstr(buf, ",\"rst_accepted\":true}\n"));
}

/* ---- the fast formatter against the reference ------------------------------------------ */

/* xorshift64*: the same records every run, so that a failure can be replayed */
static __u64 rnd_state = 0x9e3779b97f4a7c15ull;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

static __u64 rnd_below(__u64 n)
{
	return rnd() % n;
}

/* A count as records hold them: mostly small, sometimes at or near the type's end. */
static __u64 rnd_count(__u64 max)
{
	switch (rnd_below(8)) {
	case 0:
		return 0;
	case 1:
		return max - rnd_below(3);
	case 2:
		return rnd() & max;
	case 3:
		return rnd() & max & ((1ull << rnd_below(64)) | ((1ull << rnd_below(64)) - 1));
	default:
		return rnd_below(1000);
	}
}

/* A 16-bit group: zero often (for "::" runs), ffff (IPv4-mapped), anything. */
static __u32 rnd_group(void)
{
	switch (rnd_below(6)) {
	case 0:
	case 1:
	case 2:
		return 0;
	case 3:
		return 0xffff;
	case 4:
		return (__u32)rnd_below(16);
	default:
		return (__u32)(rnd() & 0xffff);
	}
}

static void rnd_addr(__u32 a[4], int v4)
{
	unsigned char *b = (unsigned char *)a;

	if (v4) {
		a[0] = a[1] = 0;
		a[2] = htonl(0xffff);
		a[3] = (__u32)rnd();
		if (rnd_below(4) == 0)
			a[3] &= htonl(0xff0000ff);	/* zero and two-digit octets */
		return;
	}
	for (int i = 0; i < 8; i++) {
		__u32 g = rnd_group();

		b[2 * i] = (unsigned char)(g >> 8);
		b[2 * i + 1] = (unsigned char)g;
	}
	if (rnd_below(8) == 0) {		/* ::a.b.c.d, ::ffff:a.b.c.d, ::ffff:0:0 */
		a[0] = a[1] = 0;
		a[2] = rnd_below(2) ? htonl(0xffff) : 0;
		a[3] = rnd_below(3) ? (__u32)rnd() : 0;
	}
}

/* A name from outside: plain mostly; or any bytes (controls, quotes, UTF-8, invalid). */
static const char *rnd_iface(char *buf, size_t len)
{
	static const char *const plain[] = { "eth0", "g1", "enp0s31f6", "veth-abcdefghijk",
					     "exactly15chars_", "sixteen-chars-xx", "" };
	static const char pick[] = "\"\\\t\n\x01\x1b\x7f\xc3\xa9\xe6\x97\xa5\xff\x80 az09/%";
	size_t n;

	switch (rnd_below(6)) {
	case 0:
		return NULL;
	case 1:
	case 2:
		return plain[rnd_below(sizeof(plain) / sizeof(plain[0]))];
	case 3:
		/* a capture's long file name */
		n = len - 1 - rnd_below(len / 2);
		break;
	default:
		n = rnd_below(24);
		break;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = pick[rnd_below(sizeof(pick) - 1)];
	buf[n] = '\0';
	return buf;
}

/* A time: near now, the epoch, the end of __u64, or a duration on a rounding edge. */
static void rnd_times(struct ct_record *r)
{
	static const __u64 edges[] = { 0, 500, 500000, 999999500, 1000000000ull - 500000,
				       999999999999500ull, 1000000000000000ull,
				       1000000000000500ull, 15625000000500ull, 123456789 };
	__u64 now = 1795428000000000000ull + rnd_below(100ull * 1000000000ull);

	switch (rnd_below(6)) {
	case 0:
		r->ts_ns = rnd();
		r->start_ns = rnd();
		break;
	case 1:
		r->ts_ns = rnd_below(2) ? ~0ull - rnd_below(1000) : rnd_below(1000000000);
		r->start_ns = rnd_below(2) ? 0 : r->ts_ns - rnd_below(1000);
		break;
	case 2:
		r->start_ns = now;
		r->ts_ns = now + edges[rnd_below(sizeof(edges) / sizeof(edges[0]))] +
			   rnd_below(3) * (rnd_below(2) ? 1000 : 1000000);
		break;
	default:
		r->start_ns = now - rnd_below(2000) * rnd_below(100000000000ull);
		r->ts_ns = now;
		break;
	}
}

static void rnd_record(struct ct_record *r, char *name, size_t namelen)
{
	static const enum ct_rec_type types[] = { CT_REC_CLOSE, CT_REC_CLOSE, CT_REC_CLOSE,
						  CT_REC_FLOW, CT_REC_OPEN, CT_REC_SUMMARY,
						  CT_REC_LOSS };
	struct ct_flow *f = &r->flow;
	int v4 = rnd_below(3) != 0;

	memset(r, 0, sizeof(*r));
	r->type = types[rnd_below(sizeof(types) / sizeof(types[0]))];
	r->close = (__u8)(rnd_below(8) ? rnd_below(CT_CLOSE_MAX) : rnd());
	r->rst_by = (__u8)rnd_below(4);
	r->client_ep = (__u8)rnd_below(2);
	rnd_addr(r->key.addr[0], v4);
	rnd_addr(r->key.addr[1], rnd_below(16) ? v4 : !v4);
	if (r->type == CT_REC_SUMMARY && rnd_below(2))
		memset(r->key.addr[r->client_ep], 0, sizeof(r->key.addr[0]));
	r->key.port[0] = (__u16)rnd();
	r->key.port[1] = (__u16)rnd_count(0xffff);
	r->key.ifvlan = (__u32)rnd();
	f->state = (__u32)rnd();
	f->history = rnd_below(4) ? rnd() : rnd() >> (4 * rnd_below(16));
	for (int ep = 0; ep < 2; ep++) {
		f->pkts[ep] = rnd_count(~0ull);
		f->bytes[ep] = rnd_count(~0ull);
		f->syn[ep] = (__u32)rnd_count(0xffffffffu);
		f->synack[ep] = (__u32)rnd_count(0xffffffffu);
		f->fin[ep] = (__u32)rnd_count(0xffffffffu);
		f->rst[ep] = (__u32)rnd_count(0xffffffffu);
	}
	f->rst_reason = (__u8)(rnd_below(4) ? rnd_below(70) : rnd());
	f->rst_state = (__u8)(rnd_below(4) ? rnd_below(15) : rnd());
	f->rst_accepted = (__u8)(rnd_below(4) ? rnd_below(2) : rnd());
	rnd_times(r);
	r->iface = rnd_iface(name, namelen);
	r->count = rnd_count(~0ull);
	r->unkeyed = rnd_below(3) == 0;
	r->loss.evicted_embryonic = rnd_count(~0ull);
	r->loss.evicted_established = rnd_count(~0ull);
	r->loss.untracked = rnd_count(~0ull);
	r->loss.events_lost = rnd_count(~0ull);
}

/* Names for reset reasons: some long, some missing, as a kernel's BTF may give them. */
static void rnd_reasons(struct ct_reasons *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->nnames = 40;
	for (int i = 0; i < rs->nnames; i++) {
		size_t n = i % 5 == 4 ? 0 : rnd_below(sizeof(rs->names[0]));

		for (size_t j = 0; j < n; j++)
			rs->names[i][j] = (char)('a' + rnd_below(26));
		if (n > 3)
			rs->names[i][n / 2] = '-';
	}
}

/* Both formatters on @r into buffers of @len: the same bytes, the same count. */
static void same_line(const struct ct_record *r, int fmt, size_t len)
{
	/* JSON, then text in each layout: narrow and wide, with and without IFACE and REASON */
	static const struct ct_text_layout layouts[] = {
		{ 0 }, { .iface = 16, .reasons = 1 }, { .wide = 1, .iface = 16, .reasons = 1 },
		{ .wide = 1 }, { .iface = 5 }, { .wide = 1, .reasons = 1 },
	};
	static char got[16384], want[16384];
	size_t n, m;

	assert_true(len < sizeof(got));
	memset(got, 'G', sizeof(got));
	memset(want, 'W', sizeof(want));
	if (fmt == 0) {
		n = ct_format_json(r, got, len);
		m = ref_format_json(r, want, len);
	} else {
		n = ct_format_text(r, &layouts[fmt - 1], got, len);
		m = ref_format_text(r, &layouts[fmt - 1], want, len);
	}
	if (n != m || (len && strcmp(got, want))) {
		fprintf(stderr, "format %d, room %zu:\n got  %zu: %.*s\nwant %zu: %.*s\n", fmt, len,
			n, (int)n, got, m, (int)m, want);
		fail();
	}
	/* not a byte past the end, cut or not */
	assert_int_equal(got[len], 'G');
}

static void test_format_equals_reference(void **state)
{
	static char name[300];
	struct ct_reasons rs;
	struct ct_record r;
	int n = getenv("CT_TEST_RECORDS") ? atoi(getenv("CT_TEST_RECORDS")) : 60000;

	(void)state;
	rnd_reasons(&rs);
	for (int i = 0; i < n; i++) {
		/* reasons named, then not (replay): both render "-" somewhere */
		ct_reasons_use(i % 4 ? &rs : NULL);
		rnd_record(&r, name, sizeof(name));
		for (int fmt = 0; fmt < 7; fmt++) {
			same_line(&r, fmt, 4096);
			/* a buffer too short: cut where snprintf cut, always terminated */
			if (i % 16 == 0)
				same_line(&r, fmt, rnd_below(3000));
		}
	}
	ct_reasons_use(NULL);
}

/* ---- the journal's fields are the JSON object's ------------------------------------- */

struct kv_list {
	int n;
	char key[64][32];
	char val[64][1100];
};

static int collect(void *ctx, const char *key, const char *value)
{
	struct kv_list *l = ctx;

	assert_true(l->n < 64);
	snprintf(l->key[l->n], sizeof(l->key[0]), "%s", key);
	snprintf(l->val[l->n], sizeof(l->val[0]), "%s", value);
	l->n++;
	return 0;
}

/* A flat JSON object's keys and values, strings decoded, in order. */
static void parse_flat(const char *p, struct kv_list *l)
{
	assert_int_equal(*p++, '{');
	l->n = 0;
	while (*p && *p != '}') {
		size_t k = 0, v = 0;

		assert_int_equal(*p++, '"');
		while (*p != '"')
			l->key[l->n][k++] = *p++;
		l->key[l->n][k] = '\0';
		p++;
		assert_int_equal(*p++, ':');
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				char c = *p;

				if (c == '\\') {
					c = *++p;
					if (c == 'n')
						c = '\n';
					else if (c == 't')
						c = '\t';
					else if (c == 'u') {
						char hex[5] = { p[1], p[2], p[3], p[4], 0 };

						c = (char)strtol(hex, NULL, 16);
						p += 4;
					}
				}
				l->val[l->n][v++] = c;
			}
			p++;
		} else {
			while (*p != ',' && *p != '}')
				l->val[l->n][v++] = *p++;
		}
		l->val[l->n][v] = '\0';
		l->n++;
		p += *p == ',';
	}
}

/*
 * The journal takes a record field by field (ct_format_fields()): the same keys, in the
 * same order, with the same values as the record's JSON line, for every kind of record.
 */
static void test_fields_are_the_json(void **state)
{
	static struct kv_list json, fields;
	static char line[8192];
	char name[300];
	struct ct_record r;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		rnd_record(&r, name, sizeof(name));
		if (r.type == CT_REC_OPEN)
			continue;
		ct_format_json(&r, line, sizeof(line));
		parse_flat(line, &json);
		fields.n = 0;
		assert_int_equal(ct_format_fields(&r, collect, &fields), 0);
		assert_int_equal(fields.n, json.n);
		for (int k = 0; k < json.n; k++) {
			assert_string_equal(fields.key[k], json.key[k]);
			assert_string_equal(fields.val[k], json.val[k]);
		}
	}
}

/* Every pattern of zero groups, with ffff where it makes an IPv4-mapped address. */
static void test_addresses_equal_inet_ntop(void **state)
{
	char got[64], want[64];
	__u32 a[4];

	(void)state;
	for (unsigned int zeros = 0; zeros < 256; zeros++) {
		for (int variant = 0; variant < 6; variant++) {
			unsigned char *b = (unsigned char *)a;

			for (int i = 0; i < 8; i++) {
				__u32 g = zeros & (1u << i) ? 0 :
					  variant == 0 ? 1 : variant == 1 ? 0xffff :
					  variant == 2 ? 0xabc : (__u32)(rnd() | 1) & 0xffff;

				b[2 * i] = (unsigned char)(g >> 8);
				b[2 * i + 1] = (unsigned char)g;
			}
			if (variant == 5 && !(zeros & 0x20)) {
				b[10] = b[11] = 0xff;
			}
			*ct_app_addr(got, a, 0) = '\0';
			inet_ntop(AF_INET6, a, want, sizeof(want));
			assert_string_equal(got, want);
			*ct_app_addr(got, a, 1) = '\0';
			inet_ntop(AF_INET, &a[3], want, sizeof(want));
			assert_string_equal(got, want);
		}
	}
}

/* Seconds with decimals against printf, around every place its rounding could differ. */
static void test_secs_equal_printf(void **state)
{
	char got[64], want[64];

	(void)state;
	for (int i = 0; i < 400000; i++) {
		__u64 ns;

		switch (i % 4) {
		case 0:
			ns = rnd();
			break;
		case 1:
			ns = rnd_below(2000000000000000ull);
			break;
		case 2:	/* half-way, and a ns either side */
			ns = rnd_below(1000000000000ull) * 1000 + 500 + rnd_below(3) - 1;
			break;
		default:
			ns = rnd_below(1000000000ull) * 1000000 + 500000 + rnd_below(3) - 1;
			break;
		}
		for (int d = 3; d <= 6; d += 3) {
			*ct_app_secs(got, ns, d) = '\0';
			snprintf(want, sizeof(want), "%.*f", d, (double)ns / 1e9);
			assert_string_equal(got, want);
		}
	}
}

/* ---- the stdout queue -------------------------------------------------------------------- */

/* The bytes of item @i, @n of them: different for each item and each place in it. */
static void item_bytes(char *p, unsigned int i, size_t n)
{
	for (size_t j = 0; j < n; j++)
		p[j] = (char)(' ' + (i * 31 + j) % 90);
}

static char *slurp(int fd, size_t *n)
{
	struct stat st;
	char *buf;

	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	*n = (size_t)st.st_size;
	return buf;
}

/* Lines written in place, or copied in, across the ring's end many times: all of them. */
static void test_writer_in_place_wraps(void **state)
{
	char path[] = "/tmp/ct-test-writer.XXXXXX", *want, *got;
	int fd = mkstemp(path);
	size_t total = 0, n;
	struct ct_writer *w;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	want = malloc(3000 * 4096);
	assert_non_null(want);
	w = ct_writer_start(fd, 10007);		/* prime: the ends fall everywhere */
	assert_non_null(w);
	for (unsigned int i = 0; i < 3000; i++) {
		size_t len = 1 + rnd_below(i % 10 ? 300 : CT_WRITER_ROOM_MAX);
		char *at;

		/* wait for room: nothing here is to be dropped */
		while (ct_writer_room(w, CT_WRITER_ROOM_MAX, &at)) {
			ct_writer_flush(w);
			usleep(100);
		}
		item_bytes(want + total, i, len);
		if (i % 3) {
			memcpy(at, want + total, len);
			ct_writer_commit(w, len);
		} else {
			assert_int_equal(ct_writer_line(w, want + total, len), 0);
		}
		total += len;
		if (i % 7 == 0)
			ct_writer_flush(w);
	}
	ct_writer_stop(w, 5000);
	got = slurp(fd, &n);
	assert_int_equal(n, total);
	assert_memory_equal(got, want, total);
	free(got);
	free(want);
	close(fd);
}

struct drain {
	int fd;
	char *buf;
	size_t n, cap;
};

static void *drain_pipe(void *arg)
{
	struct drain *d = arg;
	ssize_t r;

	while ((r = read(d->fd, d->buf + d->n, d->cap - d->n)) > 0)
		d->n += (size_t)r;
	return NULL;
}

/* A reader that does not read: what does not fit is dropped whole, the rest goes in order. */
static void test_writer_drops_whole(void **state)
{
	static char want[2000 * 100], got[2000 * 100 + 1];
	struct drain d = { .buf = got, .cap = sizeof(got) };
	size_t total = 0;
	int p[2], dropped = 0;
	struct ct_writer *w;
	pthread_t th;

	(void)state;
	assert_int_equal(pipe(p), 0);
	w = ct_writer_start(p[1], 16384);
	assert_non_null(w);
	for (unsigned int i = 0; i < 2000; i++) {
		char line[100], *at;
		int q;

		snprintf(line, sizeof(line), "%-98u\n", i);
		/* as ct_output_record() does: in place if there is room, else copied or dropped */
		q = ct_writer_room(w, 200, &at);
		assert_true(q >= 0);
		if (!q) {
			memcpy(at, line, 99);
			ct_writer_commit(w, 99);
		} else if (ct_writer_line(w, line, 99)) {
			dropped++;
			continue;
		}
		memcpy(want + total, line, 99);
		total += 99;
		if (i % 10 == 0)
			ct_writer_flush(w);
	}
	/* the pipe and the queue hold about 80 KiB: most of the 198 KB did not fit */
	assert_true(dropped > 500);
	d.fd = p[0];
	assert_int_equal(pthread_create(&th, NULL, drain_pipe, &d), 0);
	ct_writer_stop(w, 5000);
	close(p[1]);
	pthread_join(th, NULL);
	close(p[0]);
	assert_int_equal(d.n, total);
	assert_memory_equal(got, want, total);
}

/* Records through ct_output_record() and the queue: the reference's lines, in order. */
static void test_output_queue_equals_reference(void **state)
{
	static char name[300], line[4096];
	char path[] = "/tmp/ct-test-output.XXXXXX";
	struct ct_reasons rs;

	(void)state;
	rnd_reasons(&rs);
	ct_reasons_use(&rs);
	for (int fmt = CT_FMT_TEXT; fmt <= CT_FMT_JSON; fmt++) {
		int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
		struct ct_output o = { .out = stdout, .fmt = fmt, .all = 1, .queue = 1,
				       .layout = { .wide = 1, .iface = 16, .reasons = 1 } };
		size_t total = 0, n;
		char *want = malloc(4u << 20), *got;
		__u64 lines = 0;

		assert_true(fd >= 0 && saved >= 0 && want);
		unlink(path);
		strcpy(path, "/tmp/ct-test-output.XXXXXX");
		fflush(stdout);
		assert_true(dup2(fd, STDOUT_FILENO) >= 0);
		if (fmt == CT_FMT_TEXT)
			total = ct_format_text_header(&o.layout, want, 4096);
		/* under the queue's 4 MiB: nothing dropped, whatever the thread's pace */
		for (int i = 0; i < 1500; i++) {
			struct ct_record r;

			rnd_record(&r, name, sizeof(name));
			assert_int_equal(ct_output_record(&o, &r), 0);
			if (i % 50 == 0)
				ct_output_flush(&o);
			/* what this output prints: closes of any kind, summaries, JSON losses */
			if (r.type == CT_REC_FLOW || r.type == CT_REC_OPEN ||
			    (r.type == CT_REC_LOSS && fmt == CT_FMT_TEXT))
				continue;
			n = fmt == CT_FMT_JSON ? ref_format_json(&r, line, sizeof(line)) :
						 ref_format_text(&r, &o.layout, line, sizeof(line));
			memcpy(want + total, line, n);
			total += n;
			lines++;
		}
		ct_output_close(&o);
		assert_true(dup2(saved, STDOUT_FILENO) >= 0);
		close(saved);
		assert_int_equal(o.printed, lines);
		got = slurp(fd, &n);
		assert_int_equal(n, total);
		assert_memory_equal(got, want, total);
		free(got);
		free(want);
		close(fd);
	}
	ct_reasons_use(NULL);
}

/*
 * A session that fails to open is closed all the same, its scanner all zeros: freeing that
 * scanner must not close descriptor 0 (the kernel's cut keeps an iterator descriptor).
 */
static void test_scanner_free_zeroed(void **state)
{
	struct ct_scanner s;
	int p[2], saved = dup(0);

	(void)state;
	assert_true(saved >= 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], 0), 0);
	memset(&s, 0, sizeof(s));
	ct_scanner_free(&s);
	assert_true(fcntl(0, F_GETFD) >= 0);	/* still open */
	dup2(saved, 0);
	close(saved);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_example),
		cmocka_unit_test(test_fields_are_the_json),
		cmocka_unit_test(test_json_escaping_and_ipv6),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_escape),
		cmocka_unit_test(test_text_escape_cut),
		cmocka_unit_test(test_text_iface_escaped),
		cmocka_unit_test(test_log_escaped),
		cmocka_unit_test(test_errors_escaped),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_output_selection),
		cmocka_unit_test(test_open_kind),
		cmocka_unit_test(test_open_expired),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_format_equals_reference),
		cmocka_unit_test(test_addresses_equal_inet_ntop),
		cmocka_unit_test(test_secs_equal_printf),
		cmocka_unit_test(test_writer_in_place_wraps),
		cmocka_unit_test(test_writer_drops_whole),
		cmocka_unit_test(test_output_queue_equals_reference),
		cmocka_unit_test(test_scanner_free_zeroed),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
