// SPDX-License-Identifier: BSD-3-Clause
/*
 * agg.c - top's model: a table of the flows of the window (chained hash, keyed, on key
 * and first packet time), two age lists that say which flow to fold first, (other) in
 * time bins that leave the window, the folded flows still in the kernel's table (so that
 * their later records add to (other) rather than count them again), per-interval samples,
 * and per-group counts ranked by a column.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "owner.h"
#include "classify.h"
#include "ct_logic.h"
#include "siphash.h"

#define NIL 0xffffffffu
/* (other)'s bins over the window: 64 bin widths are the window, one more for the bin
 * being filled; a folded flow leaves (other) at most 1/64 of the window late */
#define FOLD_BINS 65
#define FOLD_HIST 256		/* a capture's folded flows over time, for its history */

struct aflow {
	struct ct_record rec;
	__u64 gone_ns;		/* when it left the table; 0 while it is in it */
	__u32 gen;		/* the last tick it was fed in */
	__u32 next;		/* hash chain, or the free list */
	__u32 lprev, lnext;	/* its age list: open (least recently fed first) or ended */
	__u32 seen_rst[2];	/* RSTs already in samples, per endpoint (CT_EP_*) */
	__u8 counted;		/* its connection is in a sample */
	__u8 close_counted;	/* its close is in a sample */
	__u8 used;
};

struct alist {
	__u32 head, tail, n;
};

/*
 * A flow folded while still in the kernel's table: its close, its final record and the
 * scans' views of it are still to come. What (other) and the samples have of it is kept,
 * so that they get only what those records add. Known by a keyed 64-bit hash of its key
 * and first packet time: a new flow mistaken for one has a chance of about one in 2^64
 * divided by the number of them kept.
 */
struct ghost {
	__u64 id;
	__u32 next;		/* hash chain, or the free list */
	__u32 lprev, lnext;	/* its age list (by class), least recently fed first */
	__u32 gen;		/* the last tick it was fed in */
	__u32 syn[2], fin[2], rst[2];	/* per endpoint (CT_EP_*), as counted */
	__u8 ct;		/* its handshake is counted */
	__u8 close;		/* the close counted, CT_CLOSE_NONE before */
	__u8 in;		/* it is in (other): it passed the filter */
	__u8 counted;		/* its connection is in a sample */
	__u8 est;		/* established: the kernel evicts embryonic flows first */
};

struct glist {
	__u32 head, tail;
};

/* Folded flows that ended within one bin width. */
struct fold_bin {
	__u64 id;		/* end time / bin width */
	int used;
	struct ct_group g;
};

/*
 * Folded flows over time for a capture's history: FOLD_HIST slots from the first one
 * folded, each twice as wide as before whenever a later time does not fit.
 */
struct fold_hist {
	__u64 base, width;
	int used;
	struct ct_sample s[FOLD_HIST];
};

struct ct_agg {
	__u64 window_ns;
	struct ct_agg_caps caps;
	struct ct_sipkey key;
	const struct ct_filter *flt;
	struct aflow *fl;
	__u32 nfl, cap, free_head, nused;
	__u32 *bucket;
	__u32 nbucket;		/* a power of two */
	struct alist open, ended;
	__u32 gen;
	__u64 last_tick;
	struct ct_sample pend;	/* what flows folded since the last tick bring to it */
	/* (other) */
	struct fold_bin fold[FOLD_BINS];
	struct fold_hist fh;
	struct ct_group other;
	/* the folded flows still in the table: at most max_open of them */
	struct ghost *gh;
	__u32 ngh, ghcap, ghnext, gh_free;
	struct glist gage[2];	/* age lists: [0] embryonic, [1] established */
	__u32 *ghbucket;
	__u32 nghbucket;	/* a power of two, 0 before the first */
	struct ct_agg_stats st;
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
	[CT_G_APP] = "app",
	[CT_G_UNIT] = "unit",
	[CT_G_CLIENT_ZONE] = "client-zone",
	[CT_G_SERVER_ZONE] = "server-zone",
	[CT_G_TUNNEL] = "tunnel",
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

struct ct_agg *ct_agg_new(__u64 window_ns, const struct ct_agg_caps *caps)
{
	struct ct_agg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->window_ns = window_ns;
	a->caps = caps ? *caps : (struct ct_agg_caps){ .max_ended = CT_AGG_MAX_FLOWS,
						       .max_open = CT_DEFAULT_FLOWS,
						       .max_groups = CT_AGG_MAX_GROUPS };
	/* a cap of 0 would fold a flow as it comes: keep one at least */
	a->caps.max_ended = a->caps.max_ended ? a->caps.max_ended : 1;
	a->caps.max_open = a->caps.max_open ? a->caps.max_open : 1;
	a->caps.max_groups = a->caps.max_groups ? a->caps.max_groups : 1;
	a->free_head = NIL;
	a->gh_free = NIL;
	a->gage[0] = a->gage[1] = (struct glist){ NIL, NIL };
	a->open = a->ended = (struct alist){ NIL, NIL, 0 };
	a->nbucket = 1024;
	a->bucket = malloc(a->nbucket * sizeof(*a->bucket));
	if (!a->bucket || ct_sipkey_random(&a->key)) {
		int e = a->bucket ? errno : ENOMEM;

		free(a->bucket);
		free(a);
		errno = e;
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
	free(a->gh);
	free(a->ghbucket);
	free(a->gr);
	free(a->gnext);
	free(a->gbucket);
	free(a);
}

/* --- the flow table ------------------------------------------------------------------ */

/* A flow's hash: its bucket in the low bits, and whole, its name once folded. */
static __u64 flow_id(const struct ct_agg *a, const struct ct_flow_key *k, __u64 first)
{
	unsigned char buf[sizeof(*k) + sizeof(first)];

	memcpy(buf, k, sizeof(*k));
	memcpy(buf + sizeof(*k), &first, sizeof(first));
	return ct_siphash(&a->key, buf, sizeof(buf));
}

static __u32 flow_hash(const struct ct_agg *a, const struct ct_flow_key *k, __u64 first)
{
	return (__u32)flow_id(a, k, first) & (a->nbucket - 1);
}

static int same_flow(const struct aflow *e, const struct ct_flow_key *k, __u64 first)
{
	return e->rec.flow.first_ns == first && !memcmp(&e->rec.key, k, sizeof(*k));
}

static void l_unlink(struct ct_agg *a, struct alist *l, __u32 i)
{
	struct aflow *e = &a->fl[i];

	if (e->lprev != NIL)
		a->fl[e->lprev].lnext = e->lnext;
	else
		l->head = e->lnext;
	if (e->lnext != NIL)
		a->fl[e->lnext].lprev = e->lprev;
	else
		l->tail = e->lprev;
	e->lprev = e->lnext = NIL;
	l->n--;
}

static void l_append(struct ct_agg *a, struct alist *l, __u32 i)
{
	struct aflow *e = &a->fl[i];

	e->lnext = NIL;
	e->lprev = l->tail;
	if (l->tail != NIL)
		a->fl[l->tail].lnext = i;
	else
		l->head = i;
	l->tail = i;
	l->n++;
}

static struct alist *list_of(struct ct_agg *a, const struct aflow *e)
{
	return e->gone_ns ? &a->ended : &a->open;
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
	l_unlink(a, list_of(a, e), i);
	e->used = 0;
	e->next = a->free_head;
	a->free_head = i;
	a->nused--;
}

static int passes(const struct ct_filter *flt, const struct aflow *e)
{
	return !flt || ct_filter_match(flt, &e->rec);
}

/* What @e brings to a sample that no sample has yet: new RSTs, its connection, its close. */
static void account(struct aflow *e, struct ct_sample *s, int in)
{
	const struct ct_flow *f = &e->rec.flow;
	int clt = ct_rec_clt(&e->rec);

	/* per endpoint: which one is the client may be learnt late */
	for (int ep = 0; ep < 2; ep++) {
		__u32 cur = f->rst[ep];

		if (cur > e->seen_rst[ep]) {
			if (in)
				s->rst[ep == clt ? 0 : 1] += cur - e->seen_rst[ep];
			e->seen_rst[ep] = cur;
		}
	}
	/* a connection counts once, when it first passes the filter */
	if (!e->counted && in) {
		s->conns++;
		e->counted = 1;
	}
	if (e->rec.close != CT_CLOSE_NONE && !e->close_counted) {
		if (in && e->rec.close < CT_CLOSE_MAX)
			s->closes[e->rec.close]++;
		e->close_counted = 1;
	}
}

/* --- (other) ------------------------------------------------------------------------- */

static __u64 fold_width(const struct ct_agg *a)
{
	__u64 w = a->window_ns / (FOLD_BINS - 1);

	return w ? w : 1;
}

/* The group of (other) a flow that ended at @t goes to; NULL when it is out of the window. */
static struct ct_group *fold_group(struct ct_agg *a, __u64 t)
{
	struct fold_bin *b;
	__u64 id;

	if (!a->window_ns) {	/* a capture: for ever */
		a->fold[0].used = 1;
		return &a->fold[0].g;
	}
	id = t / fold_width(a);
	b = &a->fold[id % FOLD_BINS];
	/* the bin there is FOLD_BINS widths later: this one is a window old already */
	if (b->used && b->id > id)
		return NULL;
	if (!b->used || b->id < id) {
		memset(b, 0, sizeof(*b));
		b->used = 1;
		b->id = id;
	}
	return &b->g;
}

static void fold_expire(struct ct_agg *a, __u64 now)
{
	__u64 w = fold_width(a);

	if (!a->window_ns)
		return;
	for (int i = 0; i < FOLD_BINS; i++) {
		struct fold_bin *b = &a->fold[i];
		__u64 end = (b->id + 1) * w;

		if (b->used && now > end && now - end > a->window_ns)
			b->used = 0;
	}
}

/* The slot of time @t in the folded flows' history, widening it until @t fits. */
static struct ct_sample *fh_slot(struct fold_hist *h, __u64 t)
{
	if (!h->used) {
		h->used = 1;
		h->base = t;
		h->width = 1000000;	/* 1 ms, to begin with */
	}
	if (t < h->base)
		return &h->s[0];	/* before the first: near enough the start */
	while ((t - h->base) / h->width >= FOLD_HIST) {
		for (int i = 0; i < FOLD_HIST / 2; i++) {
			struct ct_sample m = h->s[2 * i];
			const struct ct_sample *o = &h->s[2 * i + 1];

			m.conns += o->conns;
			m.rst[0] += o->rst[0];
			m.rst[1] += o->rst[1];
			for (int k = 0; k < CT_CLOSE_MAX; k++)
				m.closes[k] += o->closes[k];
			h->s[i] = m;
		}
		memset(&h->s[FOLD_HIST / 2], 0, sizeof(h->s[0]) * (FOLD_HIST / 2));
		h->width *= 2;
	}
	return &h->s[(t - h->base) / h->width];
}

static void add_to_group(struct ct_group *g, const struct ct_record *r);
static void merge_group(struct ct_group *g, const struct ct_group *x);

/* --- the folded flows still in the table --------------------------------------------- */

static __u32 ghost_find(const struct ct_agg *a, __u64 id)
{
	__u32 i;

	if (!a->nghbucket)
		return NIL;
	for (i = a->ghbucket[id & (a->nghbucket - 1)]; i != NIL; i = a->gh[i].next)
		if (a->gh[i].id == id)
			return i;
	return NIL;
}

static void ghost_unlink(struct ct_agg *a, __u32 i)
{
	struct ghost *g = &a->gh[i];
	struct glist *l = &a->gage[g->est];

	if (g->lprev != NIL)
		a->gh[g->lprev].lnext = g->lnext;
	else
		l->head = g->lnext;
	if (g->lnext != NIL)
		a->gh[g->lnext].lprev = g->lprev;
	else
		l->tail = g->lprev;
}

static void ghost_append(struct ct_agg *a, __u32 i)
{
	struct ghost *g = &a->gh[i];
	struct glist *l = &a->gage[g->est];

	g->lnext = NIL;
	g->lprev = l->tail;
	if (l->tail != NIL)
		a->gh[l->tail].lnext = i;
	else
		l->head = i;
	l->tail = i;
}

/* Established as the kernel's eviction tells it: its mark, or what earns it. */
static __u8 established(__u32 state)
{
	return (state & CT_ST_ASSURED) || ct_assured(state);
}

static void ghost_drop(struct ct_agg *a, __u32 i)
{
	struct ghost *g = &a->gh[i];
	__u32 *p;

	for (p = &a->ghbucket[g->id & (a->nghbucket - 1)]; *p != NIL; p = &a->gh[*p].next) {
		if (*p == i) {
			*p = g->next;
			break;
		}
	}
	ghost_unlink(a, i);
	g->next = a->gh_free;
	a->gh_free = i;
	a->ngh--;
}

static void ghost_clear(struct ct_agg *a)
{
	for (int c = 0; c < 2; c++)
		while (a->gage[c].head != NIL)
			ghost_drop(a, a->gage[c].head);
}

/* Room for one more: a free slot, grown up to max_open; NIL out of memory. */
static __u32 ghost_slot(struct ct_agg *a)
{
	__u32 i;

	if (a->gh_free != NIL) {
		i = a->gh_free;
		a->gh_free = a->gh[i].next;
		return i;
	}
	if (a->ghnext == a->ghcap) {
		__u32 cap = a->ghcap ? a->ghcap * 2 : 256;
		struct ghost *gh;

		cap = cap < a->caps.max_open ? cap : a->caps.max_open;
		gh = realloc(a->gh, cap * sizeof(*gh));
		if (!gh)
			return NIL;
		a->gh = gh;
		a->ghcap = cap;
	}
	if (a->ngh >= a->nghbucket && a->nghbucket < (1u << 30)) {
		__u32 n = a->nghbucket ? a->nghbucket * 2 : 256, *b = malloc(n * sizeof(*b));

		/* on failure, longer chains: not an error */
		if (b) {
			memset(b, 0xff, n * sizeof(*b));
			for (int c = 0; c < 2; c++) {
				for (__u32 j = a->gage[c].head; j != NIL; j = a->gh[j].lnext) {
					a->gh[j].next = b[a->gh[j].id & (n - 1)];
					b[a->gh[j].id & (n - 1)] = j;
				}
			}
			free(a->ghbucket);
			a->ghbucket = b;
			a->nghbucket = n;
		} else if (!a->nghbucket) {
			return NIL;
		}
	}
	return a->ghnext++;
}

/*
 * Open flow @e is being folded; @in: into (other). Keep what was counted of it. Past
 * max_open of them, more are open than the table holds: some left it unseen, most likely
 * those the kernel evicts first. So the embryonic one fed least recently is forgotten,
 * or with none the established one; counted, as a later record of it counts it again.
 */
static void ghost_add(struct ct_agg *a, const struct aflow *e, int in)
{
	const struct ct_flow *f = &e->rec.flow;
	struct ghost *g;
	__u32 i;

	if (a->ngh >= a->caps.max_open) {
		ghost_drop(a, a->gage[a->gage[0].head == NIL].head);
		a->st.forgotten++;
	}
	i = ghost_slot(a);
	if (i == NIL) {
		a->st.forgotten++;
		return;
	}
	g = &a->gh[i];
	memset(g, 0, sizeof(*g));
	g->id = flow_id(a, &e->rec.key, f->first_ns);
	g->gen = e->gen;
	for (int ep = 0; ep < 2; ep++) {
		g->syn[ep] = f->syn[ep];
		g->fin[ep] = f->fin[ep];
		g->rst[ep] = f->rst[ep];
	}
	g->ct = !!(f->state & CT_ST_CT);
	g->close = e->rec.close;
	g->in = (__u8)in;
	g->counted = e->counted;
	g->est = established(f->state);
	g->next = a->ghbucket[g->id & (a->nghbucket - 1)];
	a->ghbucket[g->id & (a->nghbucket - 1)] = i;
	ghost_append(a, i);
	a->ngh++;
}

static __u32 grown(__u32 now, __u32 was)
{
	return now > was ? now - was : 0;
}

/*
 * A record of folded flow @i at @now: (other), the samples and the capture's history get
 * what it adds to what they have (new RSTs, FINs, its close); the whole flow if it passes
 * the filter only now. Its final record ends its stay.
 */
static void ghost_feed(struct ct_agg *a, __u32 i, const struct ct_record *r, __u64 now)
{
	struct ghost *gh = &a->gh[i];
	struct ct_record x = *r;
	const struct ct_flow *f = &x.flow;
	int c = ct_rec_clt(&x), s = ct_rec_srv(&x), in;
	struct ct_group d = { 0 };

	/* a close, once known, stays */
	if (x.close == CT_CLOSE_NONE)
		x.close = gh->close;
	in = !a->flt || ct_filter_match(a->flt, &x);
	if (in && !gh->in) {
		add_to_group(&d, &x);
	} else if (in) {
		d.ct = (f->state & CT_ST_CT) && !gh->ct;
		d.syn = grown(f->syn[c], gh->syn[c]);
		d.fin[0] = grown(f->fin[c], gh->fin[c]);
		d.fin[1] = grown(f->fin[s], gh->fin[s]);
		d.rst[0] = grown(f->rst[c], gh->rst[c]);
		d.rst[1] = grown(f->rst[s], gh->rst[s]);
		if (gh->close == CT_CLOSE_NONE && x.close != CT_CLOSE_NONE &&
		    x.close < CT_CLOSE_MAX) {
			d.closes[x.close] = 1;
			if (ct_close_abnormal(x.close)) {
				d.last_abn_ns = x.ts_ns;
				d.last_abn = x.close;
				d.last_reason = f->rst_reason;
			}
		}
	}
	if (in) {
		struct ct_group *g = fold_group(a, now);
		struct ct_sample *sl;

		if (g)
			merge_group(g, &d);
		if (d.flows)
			fh_slot(&a->fh, x.start_ns)->conns++;
		sl = fh_slot(&a->fh, x.ts_ns);
		sl->rst[0] += d.rst[0];
		sl->rst[1] += d.rst[1];
		for (int k = 0; k < CT_CLOSE_MAX; k++)
			sl->closes[k] += d.closes[k];
		/* the samples, as account() would: what no sample has had yet */
		a->pend.rst[0] += grown(f->rst[c], gh->rst[c]);
		a->pend.rst[1] += grown(f->rst[s], gh->rst[s]);
		if (!gh->counted)
			a->pend.conns++;
		if (gh->close == CT_CLOSE_NONE && x.close != CT_CLOSE_NONE &&
		    x.close < CT_CLOSE_MAX)
			a->pend.closes[x.close]++;
		gh->counted = 1;
		gh->in = 1;
	}
	for (int ep = 0; ep < 2; ep++) {
		gh->syn[ep] = f->syn[ep] > gh->syn[ep] ? f->syn[ep] : gh->syn[ep];
		gh->fin[ep] = f->fin[ep] > gh->fin[ep] ? f->fin[ep] : gh->fin[ep];
		gh->rst[ep] = f->rst[ep] > gh->rst[ep] ? f->rst[ep] : gh->rst[ep];
	}
	gh->ct |= !!(f->state & CT_ST_CT);
	gh->close = x.close;
	gh->gen = a->gen;
	if (r->type == CT_REC_FLOW) {
		ghost_drop(a, i);
		return;
	}
	ghost_unlink(a, i);	/* fed: the last of its class to forget */
	gh->est |= established(f->state);
	ghost_append(a, i);
}

/*
 * Fold flow @i into (other) at @now: what it has not yet given a sample goes to the next
 * one, its counts to (other)'s bin of its end; it is no longer held one by one. One still
 * in the table is remembered, for its records to come.
 */
static void fold(struct ct_agg *a, __u32 i, __u64 now)
{
	struct aflow *e = &a->fl[i];
	int in = passes(a->flt, e);
	__u64 end = e->gone_ns ? e->gone_ns : now;

	account(e, &a->pend, in);
	if (!e->gone_ns)
		ghost_add(a, e, in);
	if (in) {
		const struct ct_record *r = &e->rec;
		struct ct_group *g = fold_group(a, end);
		struct ct_sample *s;

		if (g)
			add_to_group(g, r);
		fh_slot(&a->fh, r->start_ns)->conns++;
		s = fh_slot(&a->fh, r->ts_ns);
		s->rst[0] += r->flow.rst[ct_rec_clt(r)];
		s->rst[1] += r->flow.rst[ct_rec_srv(r)];
		if (r->close != CT_CLOSE_NONE && r->close < CT_CLOSE_MAX)
			s->closes[r->close]++;
	}
	a->st.folded++;
	a->st.folded_open += !e->gone_ns;
	drop(a, i);
}

static void cap_ended(struct ct_agg *a, __u64 now)
{
	while (a->ended.n > a->caps.max_ended)
		fold(a, a->ended.head, now);
}

/* Flow @i left the table at @now: from the open list to the ended one. */
static void set_gone(struct ct_agg *a, __u32 i, __u64 now)
{
	struct aflow *e = &a->fl[i];

	l_unlink(a, &a->open, i);
	e->gone_ns = now ? now : 1;
	l_append(a, &a->ended, i);
}

static struct aflow *find(struct ct_agg *a, const struct ct_flow_key *k, __u64 first, __u64 id)
{
	for (__u32 i = a->bucket[(__u32)id & (a->nbucket - 1)]; i != NIL; i = a->fl[i].next)
		if (same_flow(&a->fl[i], k, first))
			return &a->fl[i];
	return NULL;
}

static struct aflow *add(struct ct_agg *a, const struct ct_flow_key *k, __u64 first, __u64 id,
			 __u64 now)
{
	__u64 most = (__u64)a->caps.max_ended + a->caps.max_open;
	struct aflow *e;
	__u32 h, i;

	/*
	 * Full: the oldest ended flow makes room; with none, more flows are open than the
	 * table holds, so some have left it unseen (a scan will tell): the one fed least
	 * recently goes.
	 */
	if (a->nused >= most)
		fold(a, a->ended.n ? a->ended.head : a->open.head, now);
	if (a->free_head != NIL) {
		i = a->free_head;
		a->free_head = a->fl[i].next;
	} else {
		if (a->nfl == a->cap) {
			__u64 want = a->cap ? (__u64)a->cap * 2 : 1024;
			__u32 cap = (__u32)(want < most ? want : most);
			struct aflow *fl = realloc(a->fl, cap * sizeof(*fl));

			if (!fl)
				return NULL;
			a->fl = fl;
			a->cap = cap;
		}
		i = a->nfl++;
	}
	h = (__u32)id & (a->nbucket - 1);
	e = &a->fl[i];
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->rec.key = *k;
	e->rec.flow.first_ns = first;
	e->next = a->bucket[h];
	a->bucket[h] = i;
	l_append(a, &a->open, i);
	a->nused++;
	if (a->nused > a->nbucket && a->nbucket < (1u << 30))
		grow_buckets(a);	/* on failure, longer chains: not an error */
	return e;
}

/*
 * A storm summary: its closes were never flows one by one, so they go straight to
 * (other), with the sample of their time: each a connection, its close and its RST.
 */
static void feed_summary(struct ct_agg *a, const struct ct_record *r)
{
	struct ct_group *g;
	struct ct_sample *s;
	int rst = r->rst_by == CT_BY_CLT ? 0 : r->rst_by == CT_BY_SRV ? 1 : -1;

	if (a->flt && !ct_filter_match(a->flt, r))
		return;
	g = fold_group(a, r->ts_ns);
	if (g) {
		g->flows += r->count;
		if (r->close < CT_CLOSE_MAX)
			g->closes[r->close] += r->count;
		if (rst >= 0)
			g->rst[rst] += r->count;
	}
	fh_slot(&a->fh, r->start_ns)->conns += r->count;
	s = fh_slot(&a->fh, r->ts_ns);
	if (rst >= 0)
		s->rst[rst] += r->count;
	if (r->close < CT_CLOSE_MAX)
		s->closes[r->close] += r->count;
	a->pend.conns += r->count;
	if (rst >= 0)
		a->pend.rst[rst] += r->count;
	if (r->close < CT_CLOSE_MAX)
		a->pend.closes[r->close] += r->count;
	a->st.summarised += r->count;
}

int ct_agg_feed(struct ct_agg *a, const struct ct_record *r, __u64 now)
{
	__u64 id;
	struct aflow *e;
	__u32 i;
	__u8 close;

	if (r->type == CT_REC_LOSS)
		return 0;	/* the header has the kernel's counts */
	if (r->type == CT_REC_SUMMARY) {
		feed_summary(a, r);
		return 0;
	}
	id = flow_id(a, &r->key, r->flow.first_ns);
	e = find(a, &r->key, r->flow.first_ns, id);
	if (!e) {
		/* folded while open: what it brings goes to (other), it is not a new flow */
		i = ghost_find(a, id);
		if (i != NIL) {
			ghost_feed(a, i, r, now);
			return 0;
		}
		e = add(a, &r->key, r->flow.first_ns, id, now);
	}
	if (!e)
		return -1;
	i = (__u32)(e - a->fl);
	/* a close, once known, stays: a later view of the entry cannot undo it */
	close = r->close != CT_CLOSE_NONE ? r->close : e->rec.close;
	e->rec = *r;
	e->rec.close = close;
	e->gen = a->gen;
	if (r->type == CT_REC_FLOW && !e->gone_ns) {
		set_gone(a, i, now);
		cap_ended(a, now);
	} else if (r->type == CT_REC_OPEN && e->gone_ns) {
		/* in the table after all: a scan had missed it */
		l_unlink(a, &a->ended, i);
		e->gone_ns = 0;
		l_append(a, &a->open, i);
	} else if (!e->gone_ns) {
		l_unlink(a, &a->open, i);	/* fed: the last to fold */
		l_append(a, &a->open, i);
	}
	return 0;
}

void ct_agg_set_filter(struct ct_agg *a, const struct ct_filter *flt)
{
	if (flt == a->flt)
		return;
	a->flt = flt;
	memset(a->fold, 0, sizeof(a->fold));
	memset(&a->fh, 0, sizeof(a->fh));
	/* their counts left with (other): a record of one is a flow again */
	ghost_clear(a);
}

static void push_sample(struct ct_agg *a, const struct ct_sample *s)
{
	if (a->nhist == CT_HISTORY) {
		memmove(a->hist, a->hist + 1, (CT_HISTORY - 1) * sizeof(a->hist[0]));
		a->nhist--;
	}
	a->hist[a->nhist++] = *s;
}

const struct ct_sample *ct_agg_tick(struct ct_agg *a, __u64 now, int scanned)
{
	struct ct_sample s = a->pend;

	memset(&a->pend, 0, sizeof(a->pend));
	s.t_ns = now;
	s.dt_ns = a->last_tick && now > a->last_tick ? now - a->last_tick : 0;
	for (__u32 i = 0; i < a->nfl; i++) {
		struct aflow *e = &a->fl[i];

		if (!e->used)
			continue;
		/* not fed since the last tick: the scan no longer saw it in the table */
		if (scanned && !e->gone_ns && e->gen != a->gen)
			set_gone(a, i, now);
		account(e, &s, passes(a->flt, e));
		if (e->gone_ns && a->window_ns && now > e->gone_ns &&
		    now - e->gone_ns > a->window_ns)
			drop(a, i);
	}
	cap_ended(a, now);	/* every flow is in a sample already: nothing goes to pend */
	/* folded flows no scan fed have left the table: no record of them is to come */
	for (int c = 0; scanned && c < 2; c++) {
		for (__u32 i = a->gage[c].head, next; i != NIL; i = next) {
			next = a->gh[i].lnext;
			if (a->gh[i].gen != a->gen)
				ghost_drop(a, i);
		}
	}
	fold_expire(a, now);
	a->gen++;
	a->last_tick = now;
	push_sample(a, &s);
	return &a->hist[a->nhist - 1];
}

void ct_agg_reset(struct ct_agg *a)
{
	while (a->ended.n)
		drop(a, a->ended.head);
	memset(a->fold, 0, sizeof(a->fold));
	memset(&a->fh, 0, sizeof(a->fh));
	ghost_clear(a);		/* (other) is forgotten: a record of one is a flow again */
	memset(&a->pend, 0, sizeof(a->pend));
	memset(&a->st, 0, sizeof(a->st));
	a->nhist = 0;
}

size_t ct_agg_flows(const struct ct_agg *a, size_t *ended)
{
	if (ended)
		*ended = a->ended.n;
	return a->nused;
}

void ct_agg_stats(const struct ct_agg *a, struct ct_agg_stats *st)
{
	*st = a->st;
	st->max_ended = a->caps.max_ended;
	st->max_groups = a->caps.max_groups;
	st->kept = a->nused;
	st->ended = a->ended.n;
	st->open_folded = a->ngh;
	st->bytes = sizeof(*a) + (size_t)a->cap * sizeof(a->fl[0]) +
		    (size_t)a->nbucket * sizeof(a->bucket[0]) +
		    (size_t)a->ghcap * sizeof(a->gh[0]) +
		    (size_t)a->nghbucket * sizeof(a->ghbucket[0]) +
		    a->grcap * (sizeof(a->gr[0]) + sizeof(a->gnext[0])) +
		    a->ngbucket * sizeof(a->gbucket[0]);
}

size_t ct_agg_flow_bytes(void)
{
	/* the flow array stops growing at the cap; buckets: its own, and two of a group's */
	return sizeof(struct aflow) + sizeof(struct ct_group) + 4 * sizeof(__u32);
}

/* --- groups -------------------------------------------------------------------------- */

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
	case CT_G_CLIENT_ZONE:
	case CT_G_SERVER_ZONE: {
		int side = g == CT_G_CLIENT_ZONE ? 0 : 1;
		char z[CT_ZONE_TEXT_MAX];
		__u8 plen = 0;

		/* one key a zone: its (first) prefix; without zones, the whole address */
		if (r->zones)
			ct_zone_of(r->zones, r->key.addr[side ? s : c], z, sizeof(z),
				   k->addr[side], &plen);
		else
			memcpy(k->addr[side], r->key.addr[side ? s : c], sizeof(k->addr[side]));
		k->port[side] = (__u16)(0x100 | plen);
		break;
	}
	case CT_G_APP:
	case CT_G_UNIT:
		/* a refusal is the port's: its last listener, or none */
		if (ct_rec_nosock(r)) {
			k->own = (r->flow.own_flags & CT_OWN_LISTENER) ? 2 : 3;
			k->port[1] = r->key.port[s];
		} else {
			k->own = ct_rec_has_app(r) ? 1 : 0;
		}
		if (k->own == 3 || !k->own)
			break;
		k->cgroup = r->flow.own.cgroup;
		if (g == CT_G_APP && (r->flow.own_flags & CT_OWN_PID))
			memcpy(k->comm, r->flow.own.comm, sizeof(k->comm));
		if (k->own == 1)
			k->port[1] = 0;
		break;
	case CT_G_TUNNEL:
		k->tun_type = r->key.tun_type;
		k->tun_id = ct_rec_tun_id(r, c);
		break;
	default:
		memcpy(k->addr[0], r->key.addr[c], sizeof(k->addr[0]));
		memcpy(k->addr[1], r->key.addr[s], sizeof(k->addr[1]));
		k->port[0] = r->key.port[c];
		k->port[1] = r->key.port[s];
		k->ifvlan = r->key.ifvlan;
		k->tun_type = r->key.tun_type;
		k->tun_id = r->key.tun_id;
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

/* Add group @x's counts to @g (whose key stays). */
static void merge_group(struct ct_group *g, const struct ct_group *x)
{
	g->flows += x->flows;
	g->ct += x->ct;
	g->syn += x->syn;
	for (int i = 0; i < 2; i++) {
		g->fin[i] += x->fin[i];
		g->rst[i] += x->rst[i];
	}
	for (int k = 0; k < CT_CLOSE_MAX; k++)
		g->closes[k] += x->closes[k];
	if (x->last_abn_ns && x->last_abn_ns >= g->last_abn_ns) {
		g->last_abn_ns = x->last_abn_ns;
		g->last_abn = x->last_abn;
		g->last_reason = x->last_reason;
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
		     const struct ct_group **out)
{
	memset(&a->other, 0, sizeof(a->other));
	for (int i = 0; i < FOLD_BINS; i++)
		if (a->fold[i].used)
			merge_group(&a->other, &a->fold[i].g);
	a->st.groups_over = 0;
	*out = a->gr;
	a->ngr = 0;
	if (reserve_groups(a, a->nused ? a->nused : 1))
		return 0;
	for (__u32 i = 0; i < a->nfl; i++) {
		const struct aflow *e = &a->fl[i];
		struct ct_gkey k;
		__u32 j, b;

		if (!e->used || !passes(a->flt, e))
			continue;
		group_key(&e->rec, g, &k);
		b = (__u32)ct_siphash(&a->key, &k, sizeof(k)) & (__u32)(a->ngbucket - 1);
		for (j = a->gbucket[b]; j != NIL; j = a->gnext[j])
			if (!memcmp(&a->gr[j].key, &k, sizeof(k)))
				break;
		if (j == NIL) {
			j = (__u32)a->ngr++;
			memset(&a->gr[j], 0, sizeof(a->gr[j]));
			a->gr[j].key = k;
			a->gr[j].v4 = ct_key_is_v4(&e->rec.key);
			a->gr[j].iface = e->rec.iface;
			a->gr[j].cgroup = e->rec.cgroup;
			if ((g == CT_G_CLIENT_ZONE || g == CT_G_SERVER_ZONE) && e->rec.zones) {
				__u32 net[4];
				__u8 plen;
				int side = g == CT_G_CLIENT_ZONE ? ct_rec_clt(&e->rec) :
					   ct_rec_srv(&e->rec);

				ct_zone_of(e->rec.zones, e->rec.key.addr[side], a->gr[j].zone,
					   sizeof(a->gr[j].zone), net, &plen);
			}
			a->gnext[j] = a->gbucket[b];
			a->gbucket[b] = j;
		}
		add_to_group(&a->gr[j], &e->rec);
		if (e->rec.flow.own_flags & CT_OWN_PID)
			a->gr[j].pid = e->rec.flow.own.pid;
	}
	qsort_r(a->gr, a->ngr, sizeof(a->gr[0]), cmp_groups, &col);
	/* past the cap, the lowest ranked are summed in (other): the totals stay whole */
	if (a->ngr > a->caps.max_groups) {
		for (size_t i = a->caps.max_groups; i < a->ngr; i++)
			merge_group(&a->other, &a->gr[i]);
		a->st.groups_over = a->ngr - a->caps.max_groups;
		a->ngr = a->caps.max_groups;
	}
	*out = a->gr;
	return a->ngr;
}

const struct ct_group *ct_agg_other(const struct ct_agg *a)
{
	return a->other.flows ? &a->other : NULL;
}

size_t ct_agg_history(const struct ct_agg *a, const struct ct_sample **out, size_t n)
{
	if (n > a->nhist)
		n = a->nhist;
	*out = a->hist + (a->nhist - n);
	return n;
}

void ct_agg_history_span(struct ct_agg *a, __u64 t0, __u64 t1, size_t n)
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

		if (!e->used || !passes(a->flt, e))
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
	/* the folded flows, each slot of theirs where its middle falls */
	for (int i = 0; a->fh.used && i < FOLD_HIST; i++) {
		const struct ct_sample *f = &a->fh.s[i];
		__u64 mid = a->fh.base + a->fh.width * (__u64)i + a->fh.width / 2;
		size_t b = mid > t0 ? (size_t)((mid - t0) / step) : 0;
		struct ct_sample *h = &a->hist[b < n ? b : n - 1];

		h->conns += f->conns;
		h->rst[0] += f->rst[0];
		h->rst[1] += f->rst[1];
		for (int k = 0; k < CT_CLOSE_MAX; k++)
			h->closes[k] += f->closes[k];
	}
}
