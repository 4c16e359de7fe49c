// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_logic.c - unit tests, no privileges: canonical key order, roles, the close a first
 * RST or second FIN decides, history rendering, close-kind names and the Zeek mapping.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "classify.h"
#include "closetrace.h"
#include "ct_logic.h"

#define L(ep, l) CT_ST_LETTER(ep, l)
#define LO CT_EP_LO
#define HI CT_EP_HI

static void key_v4(struct ct_flow_key *k, const char *a, uint16_t pa, const char *b, uint16_t pb)
{
	memset(k, 0, sizeof(*k));
	k->addr[0][2] = htonl(0xffff);
	k->addr[1][2] = htonl(0xffff);
	assert_int_equal(inet_pton(AF_INET, a, &k->addr[0][3]), 1);
	assert_int_equal(inet_pton(AF_INET, b, &k->addr[1][3]), 1);
	k->port[0] = pa;
	k->port[1] = pb;
}

static void test_key_canon_symmetric(void **state)
{
	struct ct_flow_key fwd, rev;
	int ef, er;

	(void)state;
	key_v4(&fwd, "192.0.2.1", 40000, "198.51.100.7", 443);
	key_v4(&rev, "198.51.100.7", 443, "192.0.2.1", 40000);
	ef = ct_key_canon(&fwd);
	er = ct_key_canon(&rev);
	assert_memory_equal(&fwd, &rev, sizeof(fwd));
	assert_int_not_equal(ef, er);
	/* canonical form is a fixed point */
	assert_int_equal(ct_key_canon(&fwd), CT_EP_LO);
}

static void test_key_canon_same_address(void **state)
{
	struct ct_flow_key a, b;

	(void)state;
	key_v4(&a, "127.0.0.1", 5000, "127.0.0.1", 80);
	key_v4(&b, "127.0.0.1", 80, "127.0.0.1", 5000);
	assert_int_equal(ct_key_canon(&a), CT_EP_HI);
	assert_int_equal(ct_key_canon(&b), CT_EP_LO);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.port[CT_EP_LO], 80);
	assert_int_equal(a.port[CT_EP_HI], 5000);
}

static void test_client_ep(void **state)
{
	(void)state;
	assert_int_equal(ct_client_ep(0), LO);
	assert_int_equal(ct_client_ep(CT_ST_GUESS_HI), HI);
	/* a SYN or SYN-ACK overrides who came first */
	assert_int_equal(ct_client_ep(CT_ST_GUESS_HI | CT_ST_ROLE), LO);
	assert_int_equal(ct_client_ep(CT_ST_ROLE | CT_ST_CLIENT_HI), HI);
}

/* A flow whose client is @clt and whose letters are @letters. */
static __u32 st(int clt, __u32 letters)
{
	return CT_ST_ROLE | (clt == HI ? CT_ST_CLIENT_HI : 0) | letters;
}

static void test_rst_close_handshake_cases(void **state)
{
	(void)state;
	for (int c = LO; c <= HI; c++) {
		int s = !c;

		assert_int_equal(ct_rst_close(st(c, L(c, CT_L_SYN)), s), CT_CLOSE_REFUSED);
		assert_int_equal(ct_rst_close(st(c, L(c, CT_L_SYN) | L(s, CT_L_ACK)), s),
				 CT_CLOSE_REFUSED);
		assert_int_equal(ct_rst_close(st(c, L(c, CT_L_SYN) | L(s, CT_L_SYNACK)), s),
				 CT_CLOSE_RESET_SERVER);
		/* SYN-ACK missed, data from the client: not a refusal */
		assert_int_equal(ct_rst_close(st(c, L(c, CT_L_SYN) | L(c, CT_L_DATA)), s),
				 CT_CLOSE_RESET_SERVER);
		assert_int_equal(ct_rst_close(st(c, L(c, CT_L_SYN)), c), CT_CLOSE_SYN_RESET);
		/* Zeek's SaR: an ACK without SYN-ACK from the responder is still RSTOS0 */
		assert_int_equal(ct_rst_close(st(c, L(c, CT_L_SYN) | L(s, CT_L_ACK)), c),
				 CT_CLOSE_SYN_RESET);
		assert_int_equal(ct_rst_close(st(c, L(s, CT_L_SYNACK)), s), CT_CLOSE_SYNACK_RESET);
		assert_int_equal(ct_rst_close(st(c, L(c, CT_L_SYN) | L(s, CT_L_SYNACK)), c),
				 CT_CLOSE_RESET_CLIENT);
		assert_int_equal(ct_rst_close(st(c, L(c, CT_L_SYN) | L(s, CT_L_SYNACK) |
						    L(c, CT_L_ACK) | L(s, CT_L_DATA)), s),
				 CT_CLOSE_RESET_SERVER);
	}
}

static void test_rst_close_fin_orphan_midstream(void **state)
{
	__u32 est = st(LO, L(LO, CT_L_SYN) | L(HI, CT_L_SYNACK) | L(LO, CT_L_ACK));

	(void)state;
	assert_int_equal(ct_rst_close(0, LO), CT_CLOSE_ORPHAN_RST);
	assert_int_equal(ct_rst_close(CT_ST_GUESS_HI | CT_ST_HS_DONE, HI), CT_CLOSE_ORPHAN_RST);
	assert_int_equal(ct_rst_close(est | L(LO, CT_L_FIN), LO), CT_CLOSE_FIN_RESET);
	assert_int_equal(ct_rst_close(est | L(LO, CT_L_FIN), HI), CT_CLOSE_FIN_RESET);
	assert_int_equal(ct_rst_close(est | L(HI, CT_L_FIN), HI), CT_CLOSE_FIN_RESET);
	/* midstream: the first sender stands in for the client */
	assert_int_equal(ct_rst_close(CT_ST_GUESS_HI | L(HI, CT_L_DATA), HI),
			 CT_CLOSE_RESET_CLIENT);
	assert_int_equal(ct_rst_close(CT_ST_GUESS_HI | L(HI, CT_L_DATA), LO),
			 CT_CLOSE_RESET_SERVER);
}

static void test_fin_closes(void **state)
{
	(void)state;
	assert_true(ct_fin_closes(L(HI, CT_L_FIN), LO));
	assert_true(ct_fin_closes(L(LO, CT_L_FIN), HI));
	assert_false(ct_fin_closes(0, LO));				/* first FIN */
	assert_false(ct_fin_closes(L(LO, CT_L_FIN), LO));		/* retransmitted */
	assert_false(ct_fin_closes(L(LO, CT_L_FIN) | L(HI, CT_L_FIN), LO)); /* already closed */
	assert_false(ct_fin_closes(L(HI, CT_L_FIN) | L(HI, CT_L_RST), LO)); /* reset first */
}

static void test_rst_by(void **state)
{
	(void)state;
	assert_int_equal(ct_rst_by(st(LO, 0), CT_CLOSE_REFUSED, HI), CT_BY_SRV);
	assert_int_equal(ct_rst_by(st(HI, 0), CT_CLOSE_FIN_RESET, HI), CT_BY_CLT);
	assert_int_equal(ct_rst_by(st(HI, 0), CT_CLOSE_GRACEFUL, HI), CT_BY_NONE);
	assert_string_equal(ct_rst_by_name(CT_BY_CLT), "clt");
	assert_string_equal(ct_rst_by_name(CT_BY_SRV), "srv");
	assert_string_equal(ct_rst_by_name(CT_BY_NONE), "-");
	assert_string_equal(ct_rst_by_name(77), "-");
}

static void test_letter_count_and_initial_state(void **state)
{
	(void)state;
	assert_int_equal(ct_letter_count(0), 0);
	assert_int_equal(ct_letter_count(CT_ST_LETTERS), 12);
	assert_int_equal(ct_letter_count(CT_ST_ENDED | CT_ST_CT | L(HI, CT_L_RST)), 1);
	assert_int_equal(ct_initial_state(HI, CT_TH_SYN, 40000, 80), CT_ST_GUESS_HI);
	assert_int_equal(ct_initial_state(LO, CT_TH_ACK, 40000, 80), CT_ST_HS_DONE);
	assert_int_equal(ct_initial_state(HI, CT_TH_SYN | CT_TH_ACK, 80, 40000), CT_ST_GUESS_HI);
	/* joined midstream: a packet from a well-known port to a high one comes from the server */
	assert_int_equal(ct_initial_state(HI, CT_TH_ACK, 80, 40000), CT_ST_HS_DONE);
	assert_int_equal(ct_initial_state(LO, CT_TH_ACK, 80, 40000),
			 CT_ST_HS_DONE | CT_ST_GUESS_HI);
	/* both well known, both likely servers, or both in one range: the sender */
	assert_int_equal(ct_initial_state(HI, CT_TH_ACK, 25, 80), CT_ST_HS_DONE | CT_ST_GUESS_HI);
	assert_int_equal(ct_initial_state(LO, CT_TH_ACK, 8080, 5432), CT_ST_HS_DONE);
	assert_int_equal(ct_initial_state(LO, CT_TH_ACK, 5001, 6001), CT_ST_HS_DONE);
	assert_int_equal(ct_initial_state(LO, CT_TH_ACK, 50000, 40000), CT_ST_HS_DONE);
	/* a likely server port above 1023 (Zeek's likely_server_ports): the receiver is the
	 * client, a RST from a server already running is not taken for the client's */
	assert_int_equal(ct_initial_state(LO, CT_TH_RST | CT_TH_ACK, 8080, 50002),
			 CT_ST_HS_DONE | CT_ST_GUESS_HI);
	assert_int_equal(ct_initial_state(LO, CT_TH_ACK, 3306, 20000),
			 CT_ST_HS_DONE | CT_ST_GUESS_HI);
	assert_int_equal(ct_initial_state(LO, CT_TH_ACK, 20000, 3306), CT_ST_HS_DONE);
	/* neither a likely server: the one in the ephemeral range is the client */
	assert_int_equal(ct_initial_state(LO, CT_TH_RST, 8001, 50002),
			 CT_ST_HS_DONE | CT_ST_GUESS_HI);
	assert_int_equal(ct_initial_state(LO, CT_TH_ACK, 50002, 8001), CT_ST_HS_DONE);
	assert_true(ct_likely_server_port(443) && ct_likely_server_port(6379) &&
		    !ct_likely_server_port(8001) && !ct_likely_server_port(40000));
}

/* Append (ep, letter) to a history the way the kernel does. */
static void push(__u64 *h, int *n, int ep, int l)
{
	*h |= ct_hist_code(ep, l) << (4 * (*n)++);
}

static void test_history_render(void **state)
{
	static const int seq[][2] = {
		{ LO, CT_L_SYN }, { HI, CT_L_SYNACK }, { LO, CT_L_ACK }, { LO, CT_L_DATA },
		{ HI, CT_L_ACK }, { HI, CT_L_DATA }, { LO, CT_L_FIN }, { HI, CT_L_FIN },
	};
	char buf[CT_HIST_MAX + 1];
	__u64 h = 0;
	int n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		push(&h, &n, seq[i][0], seq[i][1]);
	assert_int_equal(ct_history_str(h, LO, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "ShADadFf");
	ct_history_str(h, HI, buf, sizeof(buf));
	assert_string_equal(buf, "sHadADfF");
	/* all twelve letters fit */
	h = 0;
	n = 0;
	for (int ep = LO; ep <= HI; ep++)
		for (int l = 0; l < CT_L_MAX; l++)
			push(&h, &n, ep, l);
	assert_int_equal(ct_history_str(h, HI, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "shadfrSHADFR");
	/* a short buffer is cut, always terminated */
	assert_int_equal(ct_history_str(h, HI, buf, 4), 3);
	assert_string_equal(buf, "sha");
	assert_int_equal(ct_history_str(0, LO, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
}

static void test_close_names(void **state)
{
	(void)state;
	for (int i = 0; i < CT_CLOSE_MAX; i++) {
		assert_int_equal(ct_close_parse(ct_close_name(i)), i);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ct_close_name(i), ct_close_name(j));
	}
	assert_string_equal(ct_close_name(CT_CLOSE_FIN_RESET), "fin-reset");
	assert_string_equal(ct_close_name(CT_CLOSE_MAX), "?");
	assert_int_equal(ct_close_parse("nonsense"), -1);
	assert_false(ct_close_abnormal(CT_CLOSE_GRACEFUL));
	assert_false(ct_close_abnormal(CT_CLOSE_IDLE));
	assert_false(ct_close_abnormal(CT_CLOSE_MIDSTREAM));
	assert_false(ct_close_abnormal(CT_CLOSE_NONE));
	assert_false(ct_close_abnormal(CT_CLOSE_MAX));
	for (int i = CT_CLOSE_REFUSED; i <= CT_CLOSE_HALF_CLOSED; i++)
		assert_true(ct_close_abnormal(i));
	for (int i = 0; i < CT_C_MAX; i++)
		assert_string_not_equal(ct_counter_name(i), "?");
	assert_string_equal(ct_counter_name(CT_C_CLOSE_BASE + CT_CLOSE_REFUSED), "refused");
	assert_string_equal(ct_counter_name(CT_C_MAX), "?");
}

/*
 * A flow as the kernel would hold it after the packets a Zeek history describes
 * (upper case: the client, at endpoint @clt), with payload bytes where D/d appear.
 */
static struct ct_flow flow_from(const char *hist, int clt)
{
	static const char letters[] = "shadfr";
	struct ct_flow f = {};
	int n = 0, srv_h = 0;

	for (const char *c = hist; *c; c++) {
		int client = *c >= 'A' && *c <= 'Z';
		int ep = client ? clt : !clt;
		int l = (int)(strchr(letters, client ? *c - 'A' + 'a' : *c) - letters);

		if (f.state & L(ep, l))
			continue;
		f.state |= L(ep, l);
		push(&f.history, &n, ep, l);
		if (l == CT_L_SYN || l == CT_L_SYNACK)
			f.state |= CT_ST_ROLE | (clt == HI ? CT_ST_CLIENT_HI : 0);
		if (l == CT_L_SYNACK && !client)
			srv_h = 1;
		if (client && srv_h && (l == CT_L_ACK || l == CT_L_DATA))
			f.state |= CT_ST_CT;
		if (l == CT_L_DATA)
			f.bytes[ep] += 10;
	}
	if (!(f.state & CT_ST_ROLE) && clt == HI)
		f.state |= CT_ST_GUESS_HI;
	return f;
}

static void test_zeek_state(void **state)
{
	/* history -> conn_state, from Zeek's documentation and its test baselines */
	static const char *const cases[][2] = {
		{ "ShADadFf", "SF" },	{ "ShAdDafF", "SF" },	{ "^hADdFaf" + 1, "SF" },
		{ "Sr", "REJ" },	{ "ShR", "RSTO" },	{ "ShADadfR", "RSTO" },
		{ "ShADdr", "RSTR" },	{ "ShADdFar", "RSTR" },	{ "ShAdDafr", "RSTR" },
		{ "SR", "RSTOS0" },	{ "SaR", "RSTOS0" },	{ "SaFR", "OTH" },
		{ "hr", "RSTRH" },	{ "Dr", "RSTRH" },	{ "R", "OTH" },
		{ "S", "S0" },		{ "SAD", "S0" },	{ "ShADad", "S1" },
		{ "SADF", "SH" },	{ "DAF", "SH" },	{ "hdaf", "SHR" },
		{ "fA", "SHR" },	{ "Fa", "SH" },		{ "ShADdaF", "S2" },
		{ "ShADadf", "S3" },	{ "", "OTH" },
		/* a RST from a side that had closed: ignored once both closed */
		{ "ShAdDafFr", "SF" },	{ "ShADadFRf", "SF" },	{ "ShAadDfFr", "SF" },
		{ "ShADadFfR", "SF" },	{ "ShADadFR", "RSTO" },	{ "ShAdDaFR", "RSTO" },
		{ "ShADadfR", "RSTO" },	{ "ShADadFr", "RSTR" },	{ "Shr", "RSTR" },
		{ "ShADadRF", "RSTO" },	{ "Sar", "REJ" },
	};
	struct ct_flow f;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int clt = LO; clt <= HI; clt++) {
			f = flow_from(cases[i][0], clt);
			if (strcmp(ct_zeek_state(&f), cases[i][1]))
				fail_msg("history '%s' (client %d): got %s, Zeek says %s",
					 cases[i][0], clt, ct_zeek_state(&f), cases[i][1]);
		}
	}
	/* REJ also when both sides reset and no byte was sent */
	f = flow_from("SRr", LO);
	assert_string_equal(ct_zeek_state(&f), "REJ");
	f = flow_from("SDRr", LO);
	assert_string_equal(ct_zeek_state(&f), "RSTR");

	assert_int_equal(ct_history_first(f.history, CT_L_RST), LO);
	assert_int_equal(ct_history_first(f.history, CT_L_SYNACK), -1);
	f = flow_from("ShADdr", HI);
	assert_int_equal(ct_history_first(f.history, CT_L_RST), LO);
	assert_true(!ct_flow_midstream(&f));
	f = flow_from("DdA", LO);
	assert_true(ct_flow_midstream(&f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_canon_symmetric),
		cmocka_unit_test(test_key_canon_same_address),
		cmocka_unit_test(test_client_ep),
		cmocka_unit_test(test_rst_close_handshake_cases),
		cmocka_unit_test(test_rst_close_fin_orphan_midstream),
		cmocka_unit_test(test_fin_closes),
		cmocka_unit_test(test_rst_by),
		cmocka_unit_test(test_letter_count_and_initial_state),
		cmocka_unit_test(test_history_render),
		cmocka_unit_test(test_close_names),
		cmocka_unit_test(test_zeek_state),
	};

	return cmocka_run_group_tests_name("logic", tests, NULL, NULL);
}
