// SPDX-License-Identifier: BSD-3-Clause
/*
 * hashtab.c - the in-process BPF-like hash map (see hashtab.h): chained buckets of slot
 * numbers, elements in chunks that never move, a free list of deleted slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/bpf.h>

#include "hashtab.h"
#include "siphash.h"

#define HT_CHUNK_SHIFT 10
#define HT_CHUNK (1u << HT_CHUNK_SHIFT)	/* elements per chunk */
#define HT_NIL 0x7fffffffu		/* the end of a chain */
#define HT_FREE 0x80000000u		/* in a slot's next: the slot is on the free list */
#define HT_MIN_BUCKETS 64u
#define HT_MAX_ENTRIES (1u << 30)

/* An element: the chain link and the hash, then the key and the value, 8-byte aligned. */
struct ht_elem {
	__u32 next;
	__u32 hash;
	__u64 data[];
};

struct ct_htab {
	__u32 key_size, value_size, max_entries;
	size_t elem_size, val_off;
	__u32 count;
	__u32 nslots;		/* slots handed out so far: [0, nslots) */
	__u32 free;		/* the last slot deleted, HT_NIL when none */
	__u8 **chunks;		/* ceil(max_entries / HT_CHUNK), allocated as needed */
	__u32 *buckets;
	__u32 nbuckets, max_buckets;	/* powers of two */
	struct ct_sipkey seed;
};

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static struct ht_elem *elem(const struct ct_htab *h, __u32 slot)
{
	return (struct ht_elem *)(h->chunks[slot >> HT_CHUNK_SHIFT] +
				  (size_t)(slot & (HT_CHUNK - 1)) * h->elem_size);
}

static void *elem_key(struct ht_elem *e)
{
	return e->data;
}

static void *elem_value(const struct ct_htab *h, struct ht_elem *e)
{
	return (__u8 *)e->data + h->val_off;
}

static int set_buckets(struct ct_htab *h, __u32 n)
{
	__u32 *b = malloc((size_t)n * sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (__u32 i = 0; i < n; i++)
		b[i] = HT_NIL;
	/* relink what is there: the hash is kept in the element */
	for (__u32 s = 0; s < h->nslots; s++) {
		struct ht_elem *e = elem(h, s);

		if (e->next & HT_FREE)
			continue;
		e->next = b[e->hash & (n - 1)];
		b[e->hash & (n - 1)] = s;
	}
	free(h->buckets);
	h->buckets = b;
	h->nbuckets = n;
	return 0;
}

struct ct_htab *ct_htab_new(__u32 key_size, __u32 value_size, __u32 max_entries)
{
	struct ct_htab *h;
	__u32 nchunks;

	if (!key_size || !value_size || !max_entries || max_entries > HT_MAX_ENTRIES)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->key_size = key_size;
	h->value_size = value_size;
	h->max_entries = max_entries;
	h->val_off = round8(key_size);
	h->elem_size = sizeof(struct ht_elem) + h->val_off + round8(value_size);
	h->free = HT_NIL;
	h->max_buckets = HT_MIN_BUCKETS;
	while (h->max_buckets < max_entries)
		h->max_buckets <<= 1;
	nchunks = (max_entries + HT_CHUNK - 1) / HT_CHUNK;
	h->chunks = calloc(nchunks, sizeof(*h->chunks));
	if (ct_sipkey_random(&h->seed)) {
		/* no randomness to be had: a key that differs from run to run all the same */
		h->seed.k[0] = (__u64)time(NULL) ^ 0x9e3779b97f4a7c15ull;
		h->seed.k[1] = (__u64)(unsigned long)h;
	}
	if (!h->chunks || set_buckets(h, HT_MIN_BUCKETS)) {
		ct_htab_free(h);
		return NULL;
	}
	return h;
}

void ct_htab_free(struct ct_htab *h)
{
	if (!h)
		return;
	if (h->chunks)
		for (__u32 i = 0; i < (h->max_entries + HT_CHUNK - 1) / HT_CHUNK; i++)
			free(h->chunks[i]);
	free(h->chunks);
	free(h->buckets);
	free(h);
}

void ct_htab_clear(struct ct_htab *h)
{
	for (__u32 i = 0; i < h->nbuckets; i++)
		h->buckets[i] = HT_NIL;
	h->count = 0;
	h->nslots = 0;
	h->free = HT_NIL;
}

/* The slot of @key, HT_NIL if absent; its predecessor in the chain in @prev. */
static __u32 find(const struct ct_htab *h, const void *key, __u32 hash, __u32 *prev)
{
	__u32 p = HT_NIL;

	for (__u32 s = h->buckets[hash & (h->nbuckets - 1)]; s != HT_NIL; s = elem(h, s)->next) {
		struct ht_elem *e = elem(h, s);

		if (e->hash == hash && !memcmp(elem_key(e), key, h->key_size)) {
			if (prev)
				*prev = p;
			return s;
		}
		p = s;
	}
	return HT_NIL;
}

static __u32 hash_of(const struct ct_htab *h, const void *key)
{
	return (__u32)ct_siphash(&h->seed, key, h->key_size);
}

void *ct_htab_lookup(struct ct_htab *h, const void *key)
{
	__u32 s = find(h, key, hash_of(h, key), NULL);

	return s == HT_NIL ? NULL : elem_value(h, elem(h, s));
}

/* A slot for a new element: a deleted one, or the next never used; HT_NIL if no memory. */
static __u32 take_slot(struct ct_htab *h)
{
	__u32 s = h->free, c;

	if (s != HT_NIL) {
		h->free = elem(h, s)->next & ~HT_FREE;
		return s;
	}
	s = h->nslots;
	c = s >> HT_CHUNK_SHIFT;
	if (!h->chunks[c]) {
		__u32 n = h->max_entries - (c << HT_CHUNK_SHIFT);

		h->chunks[c] = malloc((size_t)(n < HT_CHUNK ? n : HT_CHUNK) * h->elem_size);
		if (!h->chunks[c])
			return HT_NIL;
	}
	h->nslots++;
	return s;
}

int ct_htab_update(struct ct_htab *h, const void *key, const void *value, __u64 flags)
{
	__u32 hash = hash_of(h, key), s, b;
	struct ht_elem *e;

	if (flags > BPF_EXIST)
		return -EINVAL;
	s = find(h, key, hash, NULL);
	if (s != HT_NIL) {
		if (flags == BPF_NOEXIST)
			return -EEXIST;
		memcpy(elem_value(h, elem(h, s)), value, h->value_size);
		return 0;
	}
	if (flags == BPF_EXIST)
		return -ENOENT;
	if (h->count >= h->max_entries)
		return -E2BIG;
	s = take_slot(h);
	if (s == HT_NIL)
		return -ENOMEM;
	e = elem(h, s);
	e->hash = hash;
	memcpy(elem_key(e), key, h->key_size);
	memcpy(elem_value(h, e), value, h->value_size);
	b = hash & (h->nbuckets - 1);
	e->next = h->buckets[b];
	h->buckets[b] = s;
	h->count++;
	/* one element a bucket on average; a failed growth only makes chains longer */
	if (h->count > h->nbuckets && h->nbuckets < h->max_buckets)
		set_buckets(h, h->nbuckets * 2);
	return 0;
}

int ct_htab_delete(struct ct_htab *h, const void *key)
{
	__u32 hash = hash_of(h, key), prev, s = find(h, key, hash, &prev);
	struct ht_elem *e;

	if (s == HT_NIL)
		return -ENOENT;
	e = elem(h, s);
	if (prev == HT_NIL)
		h->buckets[hash & (h->nbuckets - 1)] = e->next;
	else
		elem(h, prev)->next = e->next;
	/* the value stays readable, as a deleted element's does for a program holding it */
	e->next = h->free | HT_FREE;
	h->free = s;
	h->count--;
	return 0;
}

int ct_htab_next(struct ct_htab *h, __u32 *pos, void **key, void **value)
{
	for (__u32 s = *pos; s < h->nslots; s++) {
		struct ht_elem *e = elem(h, s);

		if (e->next & HT_FREE)
			continue;
		*key = elem_key(e);
		*value = elem_value(h, e);
		*pos = s + 1;
		return 1;
	}
	*pos = h->nslots;
	return 0;
}

__u32 ct_htab_pos(struct ct_htab *h, const void *key)
{
	__u32 s = find(h, key, hash_of(h, key), NULL);

	return s == HT_NIL ? 0 : s + 1;
}

__u32 ct_htab_count(const struct ct_htab *h)
{
	return h->count;
}

__u32 ct_htab_max_entries(const struct ct_htab *h)
{
	return h->max_entries;
}
