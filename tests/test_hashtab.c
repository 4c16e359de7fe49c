// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_hashtab.c - the in-process engine's hash map keeps a BPF hash map's promises:
 * update flags, -E2BIG at max_entries and room again after a delete, value addresses
 * that survive the table's growth, walks that see every element once (deletions during a
 * walk included), and agreement with a plain model over random operations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "closetrace.h"
#include "hashtab.h"

struct val {
	__u64 a, b;
};

static struct ct_flow_key key_of(__u32 n)
{
	struct ct_flow_key k = { 0 };

	k.addr[0][3] = n;
	k.addr[1][3] = ~n;
	k.port[0] = (__u16)n;
	k.ifvlan = n >> 16;
	return k;
}

static void t_flags(void **state)
{
	struct ct_htab *h = ct_htab_new(sizeof(struct ct_flow_key), sizeof(struct val), 16);
	struct ct_flow_key k = key_of(1);
	struct val v = { 1, 2 }, w = { 3, 4 }, *p;

	(void)state;
	assert_non_null(h);
	assert_null(ct_htab_lookup(h, &k));
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_EXIST), -ENOENT);
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_NOEXIST), 0);
	assert_int_equal(ct_htab_update(h, &k, &w, BPF_NOEXIST), -EEXIST);
	assert_int_equal(ct_htab_update(h, &k, &w, 7), -EINVAL);
	p = ct_htab_lookup(h, &k);
	assert_non_null(p);
	assert_int_equal(p->a, 1);
	assert_int_equal(ct_htab_update(h, &k, &w, BPF_EXIST), 0);
	assert_ptr_equal(ct_htab_lookup(h, &k), p);	/* replaced in place */
	assert_int_equal(p->a, 3);
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_ANY), 0);
	assert_int_equal(p->b, 2);
	assert_int_equal(ct_htab_count(h), 1);
	assert_int_equal(ct_htab_delete(h, &k), 0);
	assert_int_equal(ct_htab_delete(h, &k), -ENOENT);
	assert_null(ct_htab_lookup(h, &k));
	assert_int_equal(ct_htab_count(h), 0);
	ct_htab_free(h);
}

/* Exactly max_entries elements, as the kernel's preallocated hash holds. */
static void t_full(void **state)
{
	const __u32 max = 3000;
	struct ct_htab *h = ct_htab_new(sizeof(struct ct_flow_key), sizeof(struct val), max);
	struct ct_flow_key k;
	struct val v = { 0 };

	(void)state;
	for (__u32 i = 0; i < max; i++) {
		k = key_of(i);
		v.a = i;
		assert_int_equal(ct_htab_update(h, &k, &v, BPF_NOEXIST), 0);
	}
	k = key_of(max);
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_ANY), -E2BIG);
	/* a key that is there is replaced, full or not; an existing one wins over E2BIG */
	k = key_of(7);
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_ANY), 0);
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_NOEXIST), -EEXIST);
	assert_int_equal(ct_htab_delete(h, &k), 0);
	k = key_of(max);
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_NOEXIST), 0);
	assert_int_equal(ct_htab_count(h), max);
	assert_int_equal(ct_htab_max_entries(h), max);
	for (__u32 i = 0; i <= max; i++) {
		struct val *p;

		k = key_of(i);
		p = ct_htab_lookup(h, &k);
		if (i == 7)
			assert_null(p);
		else
			assert_true(p && (i == max || p->a == i));
	}
	ct_htab_free(h);
}

/* A value's address holds while other elements come and go and the buckets grow. */
static void t_stable(void **state)
{
	struct ct_htab *h = ct_htab_new(sizeof(struct ct_flow_key), sizeof(struct val), 100000);
	struct ct_flow_key k = key_of(424242);
	struct val v = { 42, 43 }, *p;

	(void)state;
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_NOEXIST), 0);
	p = ct_htab_lookup(h, &k);
	for (__u32 i = 0; i < 50000; i++) {
		struct ct_flow_key o = key_of(i);

		assert_int_equal(ct_htab_update(h, &o, &v, BPF_NOEXIST), 0);
		if (i % 3 == 0)
			assert_int_equal(ct_htab_delete(h, &o), 0);
	}
	assert_ptr_equal(ct_htab_lookup(h, &k), p);
	assert_int_equal(p->b, 43);
	ct_htab_free(h);
}

/* A walk sees each element once; one deleted ahead of the walk is not seen. */
static void t_walk(void **state)
{
	enum { N = 5000 };
	struct ct_htab *h = ct_htab_new(sizeof(struct ct_flow_key), sizeof(struct val), N);
	static unsigned char seen[N];
	struct val v = { 0 }, *pv;
	struct ct_flow_key k, *pk;
	__u32 pos = 0, n = 0;

	(void)state;
	for (__u32 i = 0; i < N; i++) {
		k = key_of(i);
		v.a = i;
		assert_int_equal(ct_htab_update(h, &k, &v, BPF_NOEXIST), 0);
	}
	while (ct_htab_next(h, &pos, (void **)&pk, (void **)&pv)) {
		assert_true(pv->a < N && !seen[pv->a]);
		seen[pv->a] = 1;
		n++;
		/* delete this one and, ahead of the walk, its successor by number */
		assert_int_equal(ct_htab_delete(h, pk), 0);
		if (pv->a + 1 < N && pv->a % 2 == 0) {
			k = key_of((__u32)pv->a + 1);
			assert_int_equal(ct_htab_delete(h, &k), 0);
		}
	}
	assert_int_equal(n, N / 2);
	assert_int_equal(ct_htab_count(h), 0);
	/* where a walk resumes after a key: past it; after a key that is not there: the start */
	k = key_of(1);
	assert_int_equal(ct_htab_update(h, &k, &v, BPF_NOEXIST), 0);
	assert_int_not_equal(ct_htab_pos(h, &k), 0);
	k = key_of(2);
	assert_int_equal(ct_htab_pos(h, &k), 0);
	ct_htab_clear(h);
	pos = 0;
	assert_int_equal(ct_htab_next(h, &pos, (void **)&pk, (void **)&pv), 0);
	assert_int_equal(ct_htab_count(h), 0);
	ct_htab_free(h);
}

/* Random operations against a plain model: the same answers, the same contents. */
static void t_model(void **state)
{
	enum { KEYS = 3000, MAX = 1000, OPS = 300000 };
	struct ct_htab *h = ct_htab_new(sizeof(struct ct_flow_key), sizeof(struct val), MAX);
	static struct { int present; __u64 a; } m[KEYS];
	unsigned int seed = 15, count = 0;

	(void)state;
	for (int op = 0; op < OPS; op++) {
		__u32 i = (__u32)(rand_r(&seed) % KEYS);
		struct ct_flow_key k = key_of(i);
		struct val v = { (__u64)op, 0 }, *p;
		int r = rand_r(&seed) % 4, want, got;

		if (r == 0) {
			want = m[i].present ? 0 : -ENOENT;
			got = ct_htab_delete(h, &k);
			if (!got)
				m[i].present = 0, count--;
		} else if (r == 3) {
			p = ct_htab_lookup(h, &k);
			assert_int_equal(!!p, m[i].present);
			assert_true(!p || p->a == m[i].a);
			continue;
		} else {
			__u64 fl = (__u64)(rand_r(&seed) % 3);

			if (m[i].present)
				want = fl == BPF_NOEXIST ? -EEXIST : 0;
			else
				want = fl == BPF_EXIST ? -ENOENT : count >= MAX ? -E2BIG : 0;
			got = ct_htab_update(h, &k, &v, fl);
			if (!got && !m[i].present)
				count++;
			if (!got)
				m[i].present = 1, m[i].a = (__u64)op;
		}
		assert_int_equal(got, want);
		assert_int_equal(ct_htab_count(h), count);
	}
	ct_htab_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_flags), cmocka_unit_test(t_full), cmocka_unit_test(t_stable),
		cmocka_unit_test(t_walk),  cmocka_unit_test(t_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
