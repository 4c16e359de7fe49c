// SPDX-License-Identifier: BSD-3-Clause
/*
 * agg.c - top's model: a table of the flows of the window (chained hash on key and first
 * packet time), per-interval samples, and per-group counts ranked by a column.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "classify.h"

#define NIL 0xffffffffu

struct aflow {
	struct ct_record rec;
	__u64 gone_ns;		/* when it left the table; 0 while it is in it */
	__u32 gen;		/* the last tick it was fed in */
	__u32 next;		/* hash chain, or the free list */
	__u32 seen_rst[2];	/* RSTs already in samples, per endpoint (CT_EP_*) */
	__u8 counted;		/* its connection is in a sample */
	__u8 close_counted;	/* its close is in a sample */
	__u8 used;
};

struct ct_agg {
	__u64 window_ns;
	struct aflow *fl;
	__u32 nfl, cap, free_head, nused;
	__u32 *bucket;
	__u32 nbucket;		/* a power of two */
	__u32 gen;
	__u64 last_tick;
	/* groups, rebuilt by every ct_agg_groups() */
	struct ct_group *gr;
	__u32 *gnext, *gbucket;
	size_t ngr, grcap, ngbucket;
	/* history, oldest first */
	struct ct_sample hist[CT_HISTORY];
	size_t nhist;
};

static const char *const grouping_names[CT_G_MAX] = {
	[CT_G_SERVER] = "server",
	[CT_G_SERVER_IP] = "server-ip",
	[CT_G_CLIENT_IP] = "client-ip",
	[CT_G_FLOW] = "flow",
};

static const char *const col_names[CT_COL_MAX] = {
	[CT_COL_FLOWS] = "CONN",
	[CT_COL_CT] = "CT",
	[CT_COL_SYN_PER] = "SYN/C",
	[CT_COL_FIN_CLT] = "FIN.C",
	[CT_COL_FIN_SRV] = "FIN.S",
	[CT_COL_RST_CLT] = "RST.C",
	[CT_COL_RST_SRV] = "RST.S",
	[CT_COL_REFUSED] = "REFUSED",
	[CT_COL_RESETS] = "RESETS",
	[CT_COL_FIN_RESET] = "FINRST",
	[CT_COL_UNANSWERED] = "UNANS",
	[CT_COL_RST_PER] = "RST/C",
	[CT_COL_LAST] = "LAST",
};

const char *ct_grouping_name(enum ct_grouping g)
{
	return (unsigned int)g < CT_G_MAX ? grouping_names[g] : "?";
}

const char *ct_col_name(enum ct_col c)
{
	return (unsigned int)c < CT_COL_MAX ? col_names[c] : "?";
}

double ct_ratio(__u64 num, __u64 den)
{
	return den ? (double)num / (double)den : 0.0;
}

struct ct_agg *ct_agg_new(__u64 window_ns)
{
	struct ct_agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->window_ns = window_ns;
	a->free_head = NIL;
	a->nbucket = 1024;
	a->bucket = malloc(a->nbucket * sizeof(*a->bucket));
	if (!a->bucket) {
		free(a);
		return NULL;
	}
	memset(a->bucket, 0xff, a->nbucket * sizeof(*a->bucket));
	return a;
}

void ct_agg_free(struct ct_agg *a)
{
	if (!a)
		return;
	free(a->fl);
	free(a->bucket);
	free(a->gr);
	free(a->gnext);
	free(a->gbucket);
	free(a);
}

/* FNV-1a over @len bytes, continuing from @h. */
static __u64 fnv(__u64 h, const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

static __u32 flow_hash(const struct ct_agg *a, const struct ct_flow_key *k, __u64 first)
{
	__u64 h = fnv(0xcbf29ce484222325ull, k, sizeof(*k));

	h = fnv(h, &first, sizeof(first));
	return (__u32)(h ^ (h >> 32)) & (a->nbucket - 1);
}

static int same_flow(const struct aflow *e, const struct ct_flow_key *k, __u64 first)
{
	return e->rec.flow.first_ns == first && !memcmp(&e->rec.key, k, sizeof(*k));
}

static int grow_buckets(struct ct_agg *a)
{
	__u32 n = a->nbucket * 2, *b = malloc(n * sizeof(*b));

	if (!b)
		return -1;
	memset(b, 0xff, n * sizeof(*b));
	free(a->bucket);
	a->bucket = b;
	a->nbucket = n;
	for (__u32 i = 0; i < a->nfl; i++) {
		struct aflow *e = &a->fl[i];
		__u32 h;

		if (!e->used)
			continue;
		h = flow_hash(a, &e->rec.key, e->rec.flow.first_ns);
		e->next = a->bucket[h];
		a->bucket[h] = i;
	}
	return 0;
}

static struct aflow *find_or_add(struct ct_agg *a, const struct ct_flow_key *k, __u64 first)
{
	__u32 h = flow_hash(a, k, first), i;
	struct aflow *e;

	for (i = a->bucket[h]; i != NIL; i = a->fl[i].next)
		if (same_flow(&a->fl[i], k, first))
			return &a->fl[i];
	if (a->free_head != NIL) {
		i = a->free_head;
		a->free_head = a->fl[i].next;
	} else {
		if (a->nfl == a->cap) {
			__u32 cap = a->cap ? a->cap * 2 : 1024;
			struct aflow *fl = realloc(a->fl, cap * sizeof(*fl));

			if (!fl)
				return NULL;
			a->fl = fl;
			a->cap = cap;
		}
		i = a->nfl++;
	}
	e = &a->fl[i];
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->rec.key = *k;
	e->rec.flow.first_ns = first;
	e->next = a->bucket[h];
	a->bucket[h] = i;
	a->nused++;
	if (a->nused > a->nbucket && a->nbucket < (1u << 30) && grow_buckets(a))
		return e;	/* a longer chain, not a failure */
	return e;
}

static void drop(struct ct_agg *a, __u32 i)
{
	struct aflow *e = &a->fl[i];
	__u32 h = flow_hash(a, &e->rec.key, e->rec.flow.first_ns), *p;

	for (p = &a->bucket[h]; *p != NIL; p = &a->fl[*p].next) {
		if (*p == i) {
			*p = e->next;
			break;
		}
	}
	e->used = 0;
	e->next = a->free_head;
	a->free_head = i;
	a->nused--;
}

int ct_agg_feed(struct ct_agg *a, const struct ct_record *r, __u64 now)
{
	struct aflow *e = find_or_add(a, &r->key, r->flow.first_ns);
	__u8 close;

	if (!e)
		return -1;
	/* a close, once known, stays: a later view of the entry cannot undo it */
	close = r->close != CT_CLOSE_NONE ? r->close : e->rec.close;
	e->rec = *r;
	e->rec.close = close;
	e->gen = a->gen;
	if (r->type == CT_REC_FLOW && !e->gone_ns)
		e->gone_ns = now ? now : 1;
	else if (r->type == CT_REC_OPEN)
		e->gone_ns = 0;	/* in the table after all: a scan had missed it */
	return 0;
}

static int passes(const struct ct_filter *flt, const struct aflow *e)
{
	return !flt || ct_filter_match(flt, &e->rec);
}

static void push_sample(struct ct_agg *a, const struct ct_sample *s)
{
	if (a->nhist == CT_HISTORY) {
		memmove(a->hist, a->hist + 1, (CT_HISTORY - 1) * sizeof(a->hist[0]));
		a->nhist--;
	}
	a->hist[a->nhist++] = *s;
}

const struct ct_sample *ct_agg_tick(struct ct_agg *a, __u64 now, const struct ct_filter *flt,
				    int scanned)
{
	struct ct_sample s = { .t_ns = now };

	s.dt_ns = a->last_tick && now > a->last_tick ? now - a->last_tick : 0;
	for (__u32 i = 0; i < a->nfl; i++) {
		struct aflow *e = &a->fl[i];
		const struct ct_flow *f = &e->rec.flow;
		int clt = ct_rec_clt(&e->rec), in = passes(flt, e);

		if (!e->used)
			continue;
		/* not fed since the last tick: the scan no longer saw it in the table */
		if (scanned && !e->gone_ns && e->gen != a->gen)
			e->gone_ns = now ? now : 1;
		/* per endpoint: which one is the client may be learnt late */
		for (int ep = 0; ep < 2; ep++) {
			__u32 cur = f->rst[ep];

			if (cur > e->seen_rst[ep]) {
				if (in)
					s.rst[ep == clt ? 0 : 1] += cur - e->seen_rst[ep];
				e->seen_rst[ep] = cur;
			}
		}
		/* a connection counts once, when it first passes the filter */
		if (!e->counted && in) {
			s.conns++;
			e->counted = 1;
		}
		if (e->rec.close != CT_CLOSE_NONE && !e->close_counted) {
			if (in && e->rec.close < CT_CLOSE_MAX)
				s.closes[e->rec.close]++;
			e->close_counted = 1;
		}
		if (e->gone_ns && a->window_ns && now > e->gone_ns &&
		    now - e->gone_ns > a->window_ns)
			drop(a, i);
	}
	a->gen++;
	a->last_tick = now;
	push_sample(a, &s);
	return &a->hist[a->nhist - 1];
}

void ct_agg_reset(struct ct_agg *a)
{
	for (__u32 i = 0; i < a->nfl; i++)
		if (a->fl[i].used && a->fl[i].gone_ns)
			drop(a, i);
	a->nhist = 0;
}

size_t ct_agg_flows(const struct ct_agg *a, size_t *ended)
{
	size_t gone = 0;

	for (__u32 i = 0; i < a->nfl; i++)
		gone += a->fl[i].used && a->fl[i].gone_ns;
	if (ended)
		*ended = gone;
	return a->nused;
}

static void group_key(const struct ct_record *r, enum ct_grouping g, struct ct_gkey *k)
{
	int c = ct_rec_clt(r), s = ct_rec_srv(r);

	memset(k, 0, sizeof(*k));
	switch (g) {
	case CT_G_SERVER:
		memcpy(k->addr[1], r->key.addr[s], sizeof(k->addr[1]));
		k->port[1] = r->key.port[s];
		break;
	case CT_G_SERVER_IP:
		memcpy(k->addr[1], r->key.addr[s], sizeof(k->addr[1]));
		break;
	case CT_G_CLIENT_IP:
		memcpy(k->addr[0], r->key.addr[c], sizeof(k->addr[0]));
		break;
	default:
		memcpy(k->addr[0], r->key.addr[c], sizeof(k->addr[0]));
		memcpy(k->addr[1], r->key.addr[s], sizeof(k->addr[1]));
		k->port[0] = r->key.port[c];
		k->port[1] = r->key.port[s];
		k->ifvlan = r->key.ifvlan;
		break;
	}
}

static int reserve_groups(struct ct_agg *a, size_t n)
{
	size_t nb = 1024;

	while (nb < 2 * n)
		nb *= 2;
	if (n > a->grcap) {
		struct ct_group *gr = realloc(a->gr, n * sizeof(*gr));
		__u32 *gn = realloc(a->gnext, n * sizeof(*gn));

		if (gr)
			a->gr = gr;
		if (gn)
			a->gnext = gn;
		if (!gr || !gn)
			return -1;
		a->grcap = n;
	}
	if (nb > a->ngbucket) {
		__u32 *b = realloc(a->gbucket, nb * sizeof(*b));

		if (!b)
			return -1;
		a->gbucket = b;
		a->ngbucket = nb;
	}
	memset(a->gbucket, 0xff, a->ngbucket * sizeof(*a->gbucket));
	return 0;
}

static void add_to_group(struct ct_group *g, const struct ct_record *r)
{
	const struct ct_flow *f = &r->flow;
	int c = ct_rec_clt(r), s = ct_rec_srv(r);

	g->flows++;
	g->ct += !!(f->state & CT_ST_CT);
	g->syn += f->syn[c];
	g->fin[0] += f->fin[c];
	g->fin[1] += f->fin[s];
	g->rst[0] += f->rst[c];
	g->rst[1] += f->rst[s];
	if (r->close != CT_CLOSE_NONE && r->close < CT_CLOSE_MAX)
		g->closes[r->close]++;
	if (ct_close_abnormal(r->close) && r->ts_ns >= g->last_abn_ns) {
		g->last_abn_ns = r->ts_ns;
		g->last_abn = r->close;
		g->last_reason = f->rst_reason;
	}
}

double ct_group_value(const struct ct_group *g, enum ct_col col)
{
	switch (col) {
	case CT_COL_FLOWS:
		return (double)g->flows;
	case CT_COL_CT:
		return (double)g->ct;
	case CT_COL_SYN_PER:
		return ct_ratio(g->syn, g->flows);
	case CT_COL_FIN_CLT:
		return (double)g->fin[0];
	case CT_COL_FIN_SRV:
		return (double)g->fin[1];
	case CT_COL_RST_CLT:
		return (double)g->rst[0];
	case CT_COL_RST_SRV:
		return (double)g->rst[1];
	case CT_COL_REFUSED:
		return (double)g->closes[CT_CLOSE_REFUSED];
	case CT_COL_RESETS:
		return (double)(g->closes[CT_CLOSE_RESET_CLIENT] + g->closes[CT_CLOSE_RESET_SERVER]);
	case CT_COL_FIN_RESET:
		return (double)g->closes[CT_CLOSE_FIN_RESET];
	case CT_COL_UNANSWERED:
		return (double)g->closes[CT_CLOSE_UNANSWERED];
	case CT_COL_RST_PER:
		return ct_ratio(g->rst[0] + g->rst[1], g->flows);
	case CT_COL_LAST:
		return (double)g->last_abn_ns;
	default:
		return 0.0;
	}
}

static int cmp_groups(const void *pa, const void *pb, void *ctx)
{
	const struct ct_group *x = pa, *y = pb;
	enum ct_col col = *(const enum ct_col *)ctx;
	double vx = ct_group_value(x, col), vy = ct_group_value(y, col);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	/* ties: the busier group first, then a fixed order */
	if (x->flows != y->flows)
		return x->flows > y->flows ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

size_t ct_agg_groups(struct ct_agg *a, enum ct_grouping g, enum ct_col col,
		     const struct ct_filter *flt, const struct ct_group **out)
{
	*out = a->gr;
	a->ngr = 0;
	if (reserve_groups(a, a->nused ? a->nused : 1))
		return 0;
	for (__u32 i = 0; i < a->nfl; i++) {
		const struct aflow *e = &a->fl[i];
		struct ct_gkey k;
		__u64 h;
		__u32 j, b;

		if (!e->used || !passes(flt, e))
			continue;
		group_key(&e->rec, g, &k);
		h = fnv(0xcbf29ce484222325ull, &k, sizeof(k));
		b = (__u32)(h ^ (h >> 32)) & (__u32)(a->ngbucket - 1);
		for (j = a->gbucket[b]; j != NIL; j = a->gnext[j])
			if (!memcmp(&a->gr[j].key, &k, sizeof(k)))
				break;
		if (j == NIL) {
			j = (__u32)a->ngr++;
			memset(&a->gr[j], 0, sizeof(a->gr[j]));
			a->gr[j].key = k;
			a->gr[j].v4 = ct_key_is_v4(&e->rec.key);
			a->gr[j].iface = e->rec.iface;
			a->gnext[j] = a->gbucket[b];
			a->gbucket[b] = j;
		}
		add_to_group(&a->gr[j], &e->rec);
	}
	qsort_r(a->gr, a->ngr, sizeof(a->gr[0]), cmp_groups, &col);
	*out = a->gr;
	return a->ngr;
}

size_t ct_agg_history(const struct ct_agg *a, const struct ct_sample **out, size_t n)
{
	if (n > a->nhist)
		n = a->nhist;
	*out = a->hist + (a->nhist - n);
	return n;
}

void ct_agg_history_span(struct ct_agg *a, __u64 t0, __u64 t1, size_t n,
			 const struct ct_filter *flt)
{
	__u64 step;

	if (n > CT_HISTORY)
		n = CT_HISTORY;
	if (!n || t1 < t0)
		return;
	step = (t1 - t0) / n + 1;
	memset(a->hist, 0, n * sizeof(a->hist[0]));
	for (size_t i = 0; i < n; i++) {
		a->hist[i].t_ns = t0 + step * (i + 1);
		a->hist[i].dt_ns = step;
	}
	a->nhist = n;
	for (__u32 i = 0; i < a->nfl; i++) {
		const struct aflow *e = &a->fl[i];
		const struct ct_record *r = &e->rec;
		size_t bs, be;

		if (!e->used || !passes(flt, e))
			continue;
		bs = r->start_ns > t0 ? (size_t)((r->start_ns - t0) / step) : 0;
		be = r->ts_ns > t0 ? (size_t)((r->ts_ns - t0) / step) : 0;
		bs = bs < n ? bs : n - 1;
		be = be < n ? be : n - 1;
		a->hist[bs].conns++;
		a->hist[be].rst[0] += r->flow.rst[ct_rec_clt(r)];
		a->hist[be].rst[1] += r->flow.rst[ct_rec_srv(r)];
		if (r->close != CT_CLOSE_NONE && r->close < CT_CLOSE_MAX)
			a->hist[be].closes[r->close]++;
	}
}
