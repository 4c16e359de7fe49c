// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_oracle.c - replays every capture in tests/data through the flow code, in both
 * engines (in process, and the real BPF program in the kernel), and compares the result
 * with what others computed from the same captures:
 *  - per TCP conversation and direction, the packet, SYN, SYN-ACK, FIN and RST counts of
 *    tshark (tests/data/tshark/NAME.flags.tsv);
 *  - per connection, Zeek's conn_state (tests/data/zeek/NAME.conn.log), matched on the
 *    5-tuple in order: a Zeek row that begins after a RST on the same 5-tuple is a new
 *    flow for closetrace too.
 * Every difference must be listed, with its reason, in tests/data/divergences.tsv; a
 * listed difference that no longer occurs fails too. The last test prints the match rates.
 *
 * The in-process engine needs no privilege; the BPF one needs root (BPF_PROG_TEST_RUN),
 * and is left out without it unless CLOSETRACE_REQUIRE_PRIV=1, which fails instead. The
 * summary's rates are the in-process engine's.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "classify.h"
#include "closetrace.h"
#include "engine.h"
#include "loader.h"
#include "record.h"
#include "replay.h"

#ifndef CT_TEST_DATA
#define CT_TEST_DATA "tests/data"
#endif

#define MAX_CAPTURES 128
#define MIN_CAPTURES 20		/* fewer: the data is not where it should be */
#define MAX_DIVERGENCES 512

/* ---- small utilities ---------------------------------------------------------------- */

/* Split @line (modified) at tabs into at most @max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

static int col(char **hdr, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(hdr[i], name))
			return i;
	return -1;
}

/* A Zeek column, under its current name or the older src_/dst_ one. */
static int zcol(char **hdr, int n, const char *name, const char *old)
{
	int c = col(hdr, n, name);

	return c >= 0 ? c : col(hdr, n, old);
}

/* "a-b" with the smaller endpoint string first: both directions name one conversation. */
static void tuple_key(const char *e1, const char *e2, char *out, size_t len)
{
	if (strcmp(e1, e2) <= 0)
		snprintf(out, len, "%s-%s", e1, e2);
	else
		snprintf(out, len, "%s-%s", e2, e1);
}

static void endpoint_str(const char *ip, const char *port, char *out, size_t len)
{
	snprintf(out, len, "%s:%s", ip, port);
}

/* ---- what we computed ------------------------------------------------------------------ */

struct flowrec {
	char a[80], b[80];	/* client, server endpoints "ip:port" */
	char tuple[170];
	__u64 start;
	__u64 pkts[2];		/* [0] client->server, [1] server->client */
	__u32 syn[2], synack[2], fin[2], rst[2];
	const char *zeek;
};

struct run {
	struct flowrec *f;
	size_t n, cap;
};

static int collect(void *ctx, const struct ct_record *r)
{
	struct run *run = ctx;
	struct flowrec *fr;
	char ip[64], port[8];
	int c = r->client_ep, s = !c;

	if (r->type != CT_REC_FLOW)
		return 0;
	if (run->n == run->cap) {
		size_t cap = run->cap ? run->cap * 2 : 64;
		struct flowrec *nf = realloc(run->f, cap * sizeof(*nf));

		if (!nf)
			return -1;
		run->f = nf;
		run->cap = cap;
	}
	fr = &run->f[run->n++];
	memset(fr, 0, sizeof(*fr));
	ct_key_addr_str(&r->key, c, ip, sizeof(ip));
	snprintf(port, sizeof(port), "%u", r->key.port[c]);
	endpoint_str(ip, port, fr->a, sizeof(fr->a));
	ct_key_addr_str(&r->key, s, ip, sizeof(ip));
	snprintf(port, sizeof(port), "%u", r->key.port[s]);
	endpoint_str(ip, port, fr->b, sizeof(fr->b));
	tuple_key(fr->a, fr->b, fr->tuple, sizeof(fr->tuple));
	fr->start = r->start_ns;
	for (int d = 0; d < 2; d++) {
		int ep = d == 0 ? c : s;

		fr->pkts[d] = r->flow.pkts[ep];
		fr->syn[d] = r->flow.syn[ep];
		fr->synack[d] = r->flow.synack[ep];
		fr->fin[d] = r->flow.fin[ep];
		fr->rst[d] = r->flow.rst[ep];
	}
	fr->zeek = ct_zeek_state(&r->flow);
	return 0;
}

static int by_start(const void *x, const void *y)
{
	const struct flowrec *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

/* ---- expected divergences ------------------------------------------------------------ */

struct divergence {
	char capture[96], check[16], key[192], reason[256];
	int seen;
};

static struct {
	struct divergence d[MAX_DIVERGENCES];
	int n;
	int loaded;
	/* totals for the summary */
	unsigned long zeek_rows, zeek_match, tshark_flows, tshark_equal;
	int captures_run;
	int no_list;		/* divergences.tsv could not be read */
} G;

static void load_divergences(void)
{
	char path[512], line[1024], *f[4];
	FILE *fp;

	if (G.loaded)
		return;
	G.loaded = 1;
	snprintf(path, sizeof(path), "%s/divergences.tsv", CT_TEST_DATA);
	fp = fopen(path, "r");
	if (!fp) {
		/* every known divergence is listed there: without the list, nothing is known */
		G.no_list = 1;
		return;
	}
	while (fgets(line, sizeof(line), fp) && G.n < MAX_DIVERGENCES) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (split_tabs(line, f, 4) != 4)
			continue;
		snprintf(G.d[G.n].capture, sizeof(G.d[G.n].capture), "%s", f[0]);
		snprintf(G.d[G.n].check, sizeof(G.d[G.n].check), "%s", f[1]);
		snprintf(G.d[G.n].key, sizeof(G.d[G.n].key), "%s", f[2]);
		snprintf(G.d[G.n].reason, sizeof(G.d[G.n].reason), "%s", f[3]);
		G.n++;
	}
	fclose(fp);
}

/* A difference: listed ones are marked seen; returns 1 if it was not listed. */
static int diverge(const char *capture, const char *check, const char *key, const char *what)
{
	for (int i = 0; i < G.n; i++) {
		if (!strcmp(G.d[i].capture, capture) && !strcmp(G.d[i].check, check) &&
		    !strcmp(G.d[i].key, key)) {
			G.d[i].seen = 1;
			return 0;
		}
	}
	print_error("%s: %s %s: %s (not in divergences.tsv)\n", capture, check, key, what);
	return 1;
}

/* ---- tshark ------------------------------------------------------------------------- */

struct tconv {
	char tuple[170];
	char a[80], b[80];	/* a -> b is direction 0 */
	__u64 v[2][5];		/* pkts, syn, synack, fin, rst per direction */
};

static int tconv_find(struct tconv *t, int n, const char *tuple)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(t[i].tuple, tuple))
			return i;
	return -1;
}

static int check_tshark(const char *capture, const char *table, struct run *run)
{
	static const char *const names[5] = { "pkts", "syn", "synack", "fin", "rst" };
	char line[1024], *f[16], *hdr[16], hline[1024], src[80], dst[80], tuple[170];
	struct tconv *exp = NULL, *got = NULL;
	int nexp = 0, ngot = 0, nh, unlisted = 0, i, ci[10];
	FILE *fp = fopen(table, "r");

	if (!fp)
		fail_msg("%s: no tshark table %s", capture, table);
	if (!fgets(hline, sizeof(hline), fp))
		fail_msg("%s: empty tshark table", capture);
	nh = split_tabs(hline, hdr, 16);
	ci[0] = col(hdr, nh, "src");
	ci[1] = col(hdr, nh, "sport");
	ci[2] = col(hdr, nh, "dst");
	ci[3] = col(hdr, nh, "dport");
	for (i = 0; i < 5; i++)
		ci[4 + i] = col(hdr, nh, names[i]);
	for (i = 0; i < 9; i++)
		assert_true(ci[i] >= 0);

	exp = calloc(4096, sizeof(*exp));
	got = calloc(4096, sizeof(*got));
	assert_non_null(exp);
	assert_non_null(got);
	while (fgets(line, sizeof(line), fp)) {
		int n = split_tabs(line, f, 16), k, d;

		if (n < nh)
			continue;
		endpoint_str(f[ci[0]], f[ci[1]], src, sizeof(src));
		endpoint_str(f[ci[2]], f[ci[3]], dst, sizeof(dst));
		tuple_key(src, dst, tuple, sizeof(tuple));
		k = tconv_find(exp, nexp, tuple);
		if (k < 0) {
			assert_true(nexp < 4096);
			k = nexp++;
			snprintf(exp[k].tuple, sizeof(exp[k].tuple), "%s", tuple);
			snprintf(exp[k].a, sizeof(exp[k].a), "%s", src);
			snprintf(exp[k].b, sizeof(exp[k].b), "%s", dst);
		}
		d = !strcmp(exp[k].a, src) ? 0 : 1;
		for (i = 0; i < 5; i++)
			exp[k].v[d][i] += strtoull(f[ci[4 + i]], NULL, 10);
	}
	fclose(fp);

	/* ours, summed over the flows of each conversation (a 5-tuple reused after a RST
	 * is one tshark stream but several flows) */
	for (size_t r = 0; r < run->n; r++) {
		struct flowrec *fr = &run->f[r];
		int k = tconv_find(got, ngot, fr->tuple), d;

		if (k < 0) {
			assert_true(ngot < 4096);
			k = ngot++;
			snprintf(got[k].tuple, sizeof(got[k].tuple), "%s", fr->tuple);
			snprintf(got[k].a, sizeof(got[k].a), "%s", fr->a);
			snprintf(got[k].b, sizeof(got[k].b), "%s", fr->b);
		}
		d = !strcmp(got[k].a, fr->a) ? 0 : 1;
		for (int dir = 0; dir < 2; dir++) {
			int dd = dir ^ d;

			got[k].v[dd][0] += fr->pkts[dir];
			got[k].v[dd][1] += fr->syn[dir];
			got[k].v[dd][2] += fr->synack[dir];
			got[k].v[dd][3] += fr->fin[dir];
			got[k].v[dd][4] += fr->rst[dir];
		}
	}

	for (int k = 0; k < nexp; k++) {
		int g = tconv_find(got, ngot, exp[k].tuple), same = 1, flip;
		char what[512] = "";
		size_t off = 0;

		G.tshark_flows++;
		if (g < 0) {
			unlisted += diverge(capture, "tshark", exp[k].tuple, "no flow for it");
			continue;
		}
		flip = strcmp(exp[k].a, got[g].a) != 0;
		for (int d = 0; d < 2; d++)
			for (i = 0; i < 5; i++) {
				__u64 ours = got[g].v[d ^ flip][i], theirs = exp[k].v[d][i];

				if (ours != theirs) {
					same = 0;
					off += (size_t)snprintf(what + off, sizeof(what) - off,
						"%s %s=%llu (tshark %llu); ", d ? "b>a" : "a>b",
						names[i], (unsigned long long)ours,
						(unsigned long long)theirs);
					if (off >= sizeof(what))
						off = sizeof(what) - 1;
				}
			}
		if (same)
			G.tshark_equal++;
		else
			unlisted += diverge(capture, "tshark", exp[k].tuple, what);
	}
	for (int g = 0; g < ngot; g++)
		if (tconv_find(exp, nexp, got[g].tuple) < 0)
			unlisted += diverge(capture, "tshark", got[g].tuple, "a flow tshark has not");
	free(exp);
	free(got);
	return unlisted;
}

/* ---- Zeek ---------------------------------------------------------------------------- */

static int check_zeek(const char *capture, const char *log, struct run *run)
{
	char line[4096], *f[64], *hdr[64], hline[4096], o[80], r[80], tuple[170], key[64];
	int nh = 0, c_oh = -1, c_op = -1, c_rh = -1, c_rp = -1, c_proto = -1, c_state = -1;
	int unlisted = 0, row = 0, derived = 0;
	size_t *used;
	FILE *fp = fopen(log, "r");

	if (!fp)
		return 0;	/* a tcpdump capture: no Zeek baseline */
	used = calloc(run->n + 1, sizeof(*used));	/* our flows already matched */
	assert_non_null(used);
	while (fgets(line, sizeof(line), fp)) {
		int n;
		const char *want, *ours = NULL;

		/* the columns: a '#fields' line, or a zeek-cut subset's plain header */
		if (!strncmp(line, "#fields\t", 8) || (!nh && !strncmp(line, "ts\t", 3))) {
			snprintf(hline, sizeof(hline), "%s", line[0] == '#' ? line + 8 : line);
			nh = split_tabs(hline, hdr, 64);
			c_oh = zcol(hdr, nh, "id.orig_h", "src_ip");
			c_op = zcol(hdr, nh, "id.orig_p", "src_port");
			c_rh = zcol(hdr, nh, "id.resp_h", "dst_ip");
			c_rp = zcol(hdr, nh, "id.resp_p", "dst_port");
			c_proto = col(hdr, nh, "proto");
			c_state = col(hdr, nh, "conn_state");
			continue;
		}
		if (!strncmp(line, "history\tconn_state", 18)) {
			/* a derived baseline: one connection, no 5-tuple */
			derived = 1;
			c_state = 1;
			nh = 2;
			continue;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		n = split_tabs(line, f, 64);
		if (n < nh || c_state < 0)
			continue;	/* no conn_state in this baseline: nothing to compare */
		if (c_proto >= 0 && strcmp(f[c_proto], "tcp"))
			continue;
		want = f[c_state];
		row++;
		G.zeek_rows++;
		snprintf(key, sizeof(key), "row %d", row);
		if (derived) {
			if (run->n == 1)
				ours = run->f[0].zeek;
		} else {
			endpoint_str(f[c_oh], f[c_op], o, sizeof(o));
			endpoint_str(f[c_rh], f[c_rp], r, sizeof(r));
			tuple_key(o, r, tuple, sizeof(tuple));
			/* the next unmatched flow of ours on this 5-tuple, in start order */
			for (size_t i = 0; i < run->n; i++) {
				if (strcmp(run->f[i].tuple, tuple) || used[i])
					continue;
				used[i] = 1;
				ours = run->f[i].zeek;
				break;
			}
		}
		if (ours && !strcmp(ours, want)) {
			G.zeek_match++;
		} else {
			char what[256];

			snprintf(what, sizeof(what), "%s%s%s: ours %s, Zeek %s",
				 derived ? "" : o, derived ? "" : " > ", derived ? "" : r,
				 ours ? ours : "(no flow)", want);
			unlisted += diverge(capture, "zeek", key, what);
		}
	}
	fclose(fp);
	free(used);
	return unlisted;
}

/* ---- the tests ----------------------------------------------------------------------- */

struct capture {
	char name[96];		/* without extension; tcpdump ones prefixed "tcpdump_" */
	char path[512];
	char table[512];
	char log[512];
};

static struct capture caps[MAX_CAPTURES];
static int ncaps;

/* Whether the BPF engine can run: root; without it, said once (failing in CI). */
static int bpf_engine_runs(void)
{
	const char *req = getenv("CLOSETRACE_REQUIRE_PRIV");
	static int said;

	if (geteuid() == 0)
		return 1;
	if (req && !strcmp(req, "1"))
		fail_msg("the BPF engine's oracle tests need root (CLOSETRACE_REQUIRE_PRIV=1)");
	if (!said++)
		print_message("the BPF engine is left out: it needs root\n");
	return 0;
}

/* Replay capture @c in @engine and compare; the divergences not seen again, counted. */
static int run_engine(const struct capture *c, enum ct_engine_kind engine)
{
	struct run run = { 0 };
	struct ct_replay_opts ro = {
		.engine = engine,
		/* Zeek's defaults: tcp_attempt_delay 5 s, tcp_inactivity_timeout 5 min */
		.exp = {
			.syn_timeout_ns = 5ull * 1000000000ull,
			.idle_timeout_ns = 300ull * 1000000000ull,
			.linger_ns = 5ull * 1000000000ull,
		},
		.out = { .record = collect, .ctx = &run },
	};
	struct ct_replay *rp;
	char err[256];
	int unlisted = 0, rc;

	for (int i = 0; i < G.n; i++)
		if (!strcmp(G.d[i].capture, c->name))
			G.d[i].seen = 0;
	rp = ct_replay_new(&ro, err, sizeof(err));
	if (!rp)
		fail_msg("%s", err);
	rc = ct_replay_file(rp, c->path);
	ct_replay_finish(rp);
	ct_replay_free(rp);
	/* a capture we cannot read completely must be a listed divergence */
	if (rc != 0)
		unlisted += diverge(c->name, "replay", "*", "replay reported a problem");
	qsort(run.f, run.n, sizeof(*run.f), by_start);
	unlisted += check_tshark(c->name, c->table, &run);
	unlisted += check_zeek(c->name, c->log, &run);
	free(run.f);
	for (int i = 0; i < G.n; i++)
		if (!strcmp(G.d[i].capture, c->name) && !G.d[i].seen) {
			print_error("%s: %s %s is listed in divergences.tsv but no longer diverges\n",
				    c->name, G.d[i].check, G.d[i].key);
			unlisted++;
		}
	if (unlisted)
		print_error("%s: %d unlisted differences with the %s engine\n", c->name, unlisted,
			    ct_engine_name(engine));
	return unlisted;
}

static void t_capture(void **state)
{
	const struct capture *c = *state;
	unsigned long saved[4];
	int unlisted;

	load_divergences();
	unlisted = run_engine(c, CT_ENGINE_USER);
	G.captures_run++;
	if (bpf_engine_runs()) {
		/* the summary's rates are the first engine's */
		saved[0] = G.zeek_rows, saved[1] = G.zeek_match;
		saved[2] = G.tshark_flows, saved[3] = G.tshark_equal;
		unlisted += run_engine(c, CT_ENGINE_BPF);
		G.zeek_rows = saved[0], G.zeek_match = saved[1];
		G.tshark_flows = saved[2], G.tshark_equal = saved[3];
	}
	assert_int_equal(unlisted, 0);
}

/* Runs last: the match rates, and divergences naming a capture that does not exist. */
static void t_summary(void **state)
{
	int orphans = 0;

	(void)state;
	load_divergences();
	for (int i = 0; i < G.n; i++) {
		int found = 0;

		for (int k = 0; k < ncaps; k++)
			found |= !strcmp(G.d[i].capture, caps[k].name);
		if (!found) {
			print_error("divergences.tsv names %s, which is not a capture here\n",
				    G.d[i].capture);
			orphans++;
		}
	}
	printf("oracle: %d captures; Zeek TCP rows matched %lu/%lu (%.1f%%); "
	       "tshark conversations equal %lu/%lu (%.1f%%); %d listed divergences\n",
	       G.captures_run, G.zeek_match, G.zeek_rows,
	       G.zeek_rows ? 100.0 * G.zeek_match / G.zeek_rows : 0.0, G.tshark_equal,
	       G.tshark_flows, G.tshark_flows ? 100.0 * G.tshark_equal / G.tshark_flows : 0.0,
	       G.n);
	assert_int_equal(orphans, 0);
	assert_int_equal(G.captures_run, ncaps);
	/* run from elsewhere than the tree's top, or a tree without its captures: no oracle */
	if (ncaps < MIN_CAPTURES || G.no_list)
		fail_msg("%d captures under %s (at least %d expected)%s: run from the tree's top",
			 ncaps, CT_TEST_DATA, MIN_CAPTURES,
			 G.no_list ? ", and no divergences.tsv" : "");
}

static int has_ext(const char *n, const char *ext)
{
	size_t a = strlen(n), b = strlen(ext);

	return a > b && !strcmp(n + a - b, ext);
}

static void add_dir(const char *sub, const char *prefix)
{
	char dir[512];
	struct dirent **ents;
	int n;

	snprintf(dir, sizeof(dir), "%s/%s", CT_TEST_DATA, sub);
	n = scandir(dir, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		const char *dot = strrchr(e, '.');
		struct capture *c;
		char name[96];

		if ((has_ext(e, ".pcap") || has_ext(e, ".pcapng") || has_ext(e, ".trace")) &&
		    ncaps < MAX_CAPTURES) {
			c = &caps[ncaps++];
			snprintf(name, sizeof(name), "%s%.*s", prefix, (int)(dot - e), e);
			snprintf(c->name, sizeof(c->name), "%s", name);
			snprintf(c->path, sizeof(c->path), "%.300s/%.200s", dir, e);
			snprintf(c->table, sizeof(c->table), "%s/tshark/%.100s.flags.tsv",
				 CT_TEST_DATA, name);
			snprintf(c->log, sizeof(c->log), "%s/%s/%.*s.conn.log", CT_TEST_DATA, sub,
				 (int)(dot - e), e);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

int main(void)
{
	static struct CMUnitTest tests[MAX_CAPTURES + 1];
	size_t n = 0;

	add_dir("zeek", "");
	add_dir("tcpdump", "tcpdump_");
	for (int i = 0; i < ncaps; i++)
		tests[n++] = (struct CMUnitTest){ .name = caps[i].name, .test_func = t_capture,
						  .initial_state = &caps[i] };
	tests[n++] = (struct CMUnitTest){ .name = "oracle summary", .test_func = t_summary };
	return _cmocka_run_group_tests("oracle", tests, n, NULL, NULL);
}
