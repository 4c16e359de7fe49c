// SPDX-License-Identifier: BSD-3-Clause
/* storm.c - storm summaries: a rate limit, and counts by server port for each period. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "siphash.h"
#include "storm.h"

#define SLOTS (2 * CT_STORM_ROWS)

int ct_storm_init(struct ct_storm *st, __u64 rate)
{
	memset(st, 0, sizeof(*st));
	st->rate = rate;
	st->rows = calloc(SLOTS, sizeof(*st->rows));
	if (!st->rows)
		return -ENOMEM;
	/* addresses and ports come off the wire: a key of our own keeps probing short */
	if (ct_sipkey_random(&st->seed)) {
		ct_storm_free(st);
		return -errno;
	}
	return 0;
}

void ct_storm_free(struct ct_storm *st)
{
	free(st->rows);
	st->rows = NULL;
}

int ct_storm_admit(struct ct_storm *st, __u64 now_ns)
{
	__u64 win = now_ns / 1000000000ull;

	if (!st->rate)
		return 1;
	if (win != st->win) {
		st->win = win;
		st->win_count = 0;
	}
	return st->win_count++ < st->rate;
}

static __u32 row_hash(const struct ct_storm *st, const struct ct_storm_key *k)
{
	return (__u32)ct_siphash(&st->seed, k, sizeof(*k));
}

static void merge(struct ct_storm_row *r, __u64 count, __u64 first, __u64 last)
{
	if (!r->count || first < r->first_ns)
		r->first_ns = first;
	if (last > r->last_ns)
		r->last_ns = last;
	r->count += count;
}

void ct_storm_add_unkeyed(struct ct_storm *st, int slot, __u32 ifvlan, __u8 close, __u64 count,
			  __u64 first, __u64 last)
{
	struct ct_storm_row *r;

	if (!count)
		return;
	if (slot < 0 || slot >= CT_MAX_IFACES)
		slot = 0;
	r = &st->unkeyed[slot][close == CT_CLOSE_UNANSWERED];
	r->key.ifvlan = ifvlan;
	r->key.close = close;
	merge(r, count, first, last);
	st->summarised += count;
}

void ct_storm_key_of(const struct ct_record *r, __u8 by, struct ct_storm_key *k)
{
	int srv = ct_rec_srv(r);

	memset(k, 0, sizeof(*k));
	memcpy(k->addr, r->key.addr[srv], sizeof(k->addr));
	k->ifvlan = r->key.ifvlan;
	k->port = r->key.port[srv];
	k->close = r->close;
	k->epoch = (__u8)(by << 4);
	k->tun_type = r->key.tun_type;
	k->tun_id = r->key.tun_id;
}

void ct_storm_add(struct ct_storm *st, int slot, const struct ct_storm_key *key, __u64 count,
		  __u64 first, __u64 last)
{
	struct ct_storm_key k = *key;
	__u32 ifvlan = k.ifvlan;
	__u8 close = k.close;
	__u32 i;

	if (!count)
		return;
	k.epoch = (__u8)(CT_STORM_BY(k.epoch) << 4);
	memset(k.pad, 0, sizeof(k.pad));
	for (i = row_hash(st, &k) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		struct ct_storm_row *r = &st->rows[i];

		if (r->count && !memcmp(&r->key, &k, sizeof(k))) {
			merge(r, count, first, last);
			st->summarised += count;
			return;
		}
		if (!r->count)
			break;
	}
	/* half the slots at most: probes stay short */
	if (st->nrows >= CT_STORM_ROWS) {
		ct_storm_add_unkeyed(st, slot, ifvlan, close, count, first, last);
		return;
	}
	st->rows[i].key = k;
	merge(&st->rows[i], count, first, last);
	st->nrows++;
	st->summarised += count;
}

/* One summary as a record: the server is endpoint HI, the client's side stays zero. */
static int hand_out(const struct ct_storm_row *row, int unkeyed,
		    int (*fn)(void *ctx, const struct ct_record *r), void *ctx,
		    const char *(*iface)(void *ctx, __u32 ifindex), void *iface_ctx)
{
	struct ct_record r = {
		.type = CT_REC_SUMMARY, .close = row->key.close, .client_ep = CT_EP_LO,
		.rst_by = CT_STORM_BY(row->key.epoch),
		.ts_ns = row->last_ns, .start_ns = row->first_ns, .count = row->count,
		.unkeyed = unkeyed,
	};

	r.key.ifvlan = row->key.ifvlan;
	r.key.addr[CT_EP_LO][2] = row->key.addr[2] == htonl(CT_V4MAPPED) ? row->key.addr[2] : 0;
	memcpy(r.key.addr[CT_EP_HI], row->key.addr, sizeof(row->key.addr));
	r.key.port[CT_EP_HI] = row->key.port;
	r.key.tun_type = row->key.tun_type;
	r.key.tun_id = row->key.tun_id;
	r.iface = iface ? iface(iface_ctx, CT_IFVLAN_IFINDEX(row->key.ifvlan)) : NULL;
	return fn(ctx, &r);
}

int ct_storm_flush(struct ct_storm *st, int (*fn)(void *ctx, const struct ct_record *r),
		   void *ctx, const char *(*iface)(void *ctx, __u32 ifindex), void *iface_ctx)
{
	int ret = 0;

	for (int i = 0; i < SLOTS && st->nrows; i++) {
		if (!st->rows[i].count)
			continue;
		if (!ret && hand_out(&st->rows[i], 0, fn, ctx, iface, iface_ctx) < 0)
			ret = -1;
		memset(&st->rows[i], 0, sizeof(st->rows[i]));
		st->nrows--;
	}
	for (int s = 0; s < CT_MAX_IFACES; s++)
		for (int k = 0; k < 2; k++) {
			if (!st->unkeyed[s][k].count)
				continue;
			if (!ret && hand_out(&st->unkeyed[s][k], 1, fn, ctx, iface, iface_ctx) < 0)
				ret = -1;
			memset(&st->unkeyed[s][k], 0, sizeof(st->unkeyed[s][k]));
		}
	return ret;
}
