/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hashtab.h - a hash table with the semantics of a BPF hash map, for the in-process engine
 * (inproc.c): fixed key and value sizes, at most max_entries elements (an insertion past
 * that fails with -E2BIG, as the kernel's does), BPF_ANY / BPF_NOEXIST / BPF_EXIST updates,
 * and a value's address stable until its element is deleted, as a program's lookup result
 * is. Memory follows the elements present, not max_entries: elements come in chunks as
 * they are needed, and the buckets double as the table grows.
 *
 * Iteration walks the element slots in order, not the buckets: what a walk sees does not
 * depend on the hash key, which is random (SipHash: keys come off the wire). Elements
 * deleted during a walk are not seen; elements added during it may or may not be, as with
 * the kernel's batched lookups.
 */
#ifndef CT_HASHTAB_H
#define CT_HASHTAB_H

#include <linux/types.h>

struct ct_htab;

/* NULL when out of memory. */
struct ct_htab *ct_htab_new(__u32 key_size, __u32 value_size, __u32 max_entries);
void ct_htab_free(struct ct_htab *h);
/* Remove every element (the table keeps its memory). */
void ct_htab_clear(struct ct_htab *h);

/* The value of @key, or NULL. */
void *ct_htab_lookup(struct ct_htab *h, const void *key);
/*
 * Insert or replace (@flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST): 0, -EEXIST, -ENOENT,
 * -E2BIG (max_entries present), -ENOMEM or -EINVAL (unknown flags).
 */
int ct_htab_update(struct ct_htab *h, const void *key, const void *value, __u64 flags);
/* 0, or -ENOENT. */
int ct_htab_delete(struct ct_htab *h, const void *key);

/*
 * The first element at slot @*pos or after: 1 with its key and value, @*pos past it;
 * 0 when there is none. Start at 0.
 */
int ct_htab_next(struct ct_htab *h, __u32 *pos, void **key, void **value);

/* Where a walk goes on after @key: the slot past it; 0 (from the start) if it is absent. */
__u32 ct_htab_pos(struct ct_htab *h, const void *key);

__u32 ct_htab_count(const struct ct_htab *h);
__u32 ct_htab_max_entries(const struct ct_htab *h);

#endif /* CT_HASHTAB_H */
