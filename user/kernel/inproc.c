// SPDX-License-Identifier: BSD-3-Clause
/*
 * inproc.c - the in-process engine. bpf/parse.h and bpf/flow.h, the code the XDP program
 * runs, compiled into closetrace against user/kernel/shim/bpf/bpf_helpers.h. The helpers below
 * keep the maps in this process with the kernel's meaning on one CPU: a hash that refuses
 * an insertion past max_entries with -E2BIG (hashtab.c), arrays, a ring buffer of the
 * same size and record layout. Replay then decides every flow with the same code as live
 * without a system call a packet, and without any privilege. The maps and globals of
 * bpf/maps.h are this file's globals: one engine at a time in a process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parse.h"
#include "flow.h"

#include "engine.h"
#include "hashtab.h"
#include "inproc.h"
#include "loader.h"

/* BPF_PROG_TEST_RUN runs an XDP program on the loopback device, ifindex 1 in every netns */
#define CT_TEST_RUN_IFINDEX 1
/* ... on frames of an Ethernet header to a page less its headroom and tail room (x86-64) */
#define CT_TEST_RUN_MIN 14
#define CT_TEST_RUN_MAX 3520
/*
 * Where a frame is copied to run: 2 bytes into an aligned buffer, as drivers place frames
 * (NET_IP_ALIGN), so that the IP and TCP headers the parser reads are 4-byte aligned
 * behind any link-layer stack it walks (its steps are all multiples of 4 after Ethernet).
 */
#define CT_FRAME_ALIGN 2
/* a ring-buffer record's header, as the kernel lays it out: length, then page offset */
#define CT_RB_HDR 8

/* One map of maps.h, as this process keeps it. */
struct shim_map {
	__u32 type, key_size, value_size, max_entries;
	struct ct_htab *h;	/* hash, per-CPU hash */
	__u8 *data;		/* array, per-CPU array, ring buffer */
	/* ring buffer: positions, and the record reserved (one at a time, as flow.h does) */
	__u64 prod, cons, resv_pos;
	__u8 *bounce;		/* a record that wraps round the end, in one piece */
	int bounced;
};

static struct shim_map m_flows, m_emb_ring, m_est_ring, m_storm, m_counters, m_events,
	m_new_flow;
static int in_use;

/*
 * The storage of map definition @def. Called with the address of a map of maps.h, a
 * constant once the helpers are inlined, so the comparisons fold away.
 */
static inline struct shim_map *shim_of(const void *def)
{
	if (def == &flows)
		return &m_flows;
	if (def == &counters)
		return &m_counters;
	if (def == &emb_ring)
		return &m_emb_ring;
	if (def == &est_ring)
		return &m_est_ring;
	if (def == &storm)
		return &m_storm;
	if (def == &events)
		return &m_events;
	if (def == &new_flow)
		return &m_new_flow;

	/* a map maps.h gained and bind_maps() does not know: a bug, not an input */
	fprintf(stderr, "closetrace: in-process engine: unknown map\n");
	abort();
}

static __u64 round8(__u64 n)
{
	return (n + 7) & ~7ull;
}

/* --- the helpers ------------------------------------------------------------------------ */

static inline void *bpf_map_lookup_elem(void *map, const void *key)
{
	struct shim_map *m = shim_of(map);
	__u32 i;

	switch (m->type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
		return ct_htab_lookup(m->h, key);
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		i = *(const __u32 *)key;
		return i < m->max_entries ? m->data + (size_t)i * round8(m->value_size) : NULL;
	default:
		return NULL;
	}
}

static inline long bpf_map_update_elem(void *map, const void *key, const void *value,
				       __u64 flags)
{
	struct shim_map *m = shim_of(map);
	__u32 i;

	switch (m->type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
		return ct_htab_update(m->h, key, value, flags);
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		i = *(const __u32 *)key;
		if (flags > BPF_EXIST)
			return -EINVAL;
		if (i >= m->max_entries)
			return -E2BIG;
		if (flags == BPF_NOEXIST)
			return -EEXIST;	/* every element of an array exists */
		memcpy(m->data + (size_t)i * round8(m->value_size), value, m->value_size);
		return 0;
	default:
		return -EINVAL;
	}
}

static inline long bpf_map_delete_elem(void *map, const void *key)
{
	struct shim_map *m = shim_of(map);

	if (m->type == BPF_MAP_TYPE_HASH || m->type == BPF_MAP_TYPE_PERCPU_HASH)
		return ct_htab_delete(m->h, key);
	return -EINVAL;
}

/*
 * The ring buffer: records of an 8-byte header and the data rounded up to 8 bytes, as the
 * kernel's, in max_entries bytes. A reservation fails when the ring would be full, at the
 * same point as the kernel's (it never fills the last 8 bytes).
 */
static inline void *bpf_ringbuf_reserve(void *ringbuf, __u64 size, __u64 flags)
{
	struct shim_map *m = shim_of(ringbuf);
	__u64 need = CT_RB_HDR + round8(size), mask = m->max_entries - 1, off;

	if (flags || size > m->max_entries / 4 || m->prod - m->cons + need > mask)
		return NULL;
	m->resv_pos = m->prod;
	*(__u32 *)(m->data + (m->prod & mask)) = (__u32)size;
	m->prod += need;
	off = (m->resv_pos + CT_RB_HDR) & mask;
	m->bounced = off + size > m->max_entries;
	return m->bounced ? m->bounce : m->data + off;
}

static inline void bpf_ringbuf_submit(void *data, __u64 flags)
{
	struct shim_map *m = &m_events;
	__u64 mask = m->max_entries - 1, off = (m->resv_pos + CT_RB_HDR) & mask;
	__u32 size = *(__u32 *)(m->data + (m->resv_pos & mask)), first;

	(void)flags;	/* wake-ups: the reader is this process, between packets */
	if (!m->bounced || data != m->bounce)
		return;
	first = (__u32)(m->max_entries - off);
	memcpy(m->data + off, m->bounce, first);
	memcpy(m->data, m->bounce + first, size - first);
}

static inline __u64 bpf_ringbuf_query(void *ringbuf, __u64 flags)
{
	struct shim_map *m = shim_of(ringbuf);

	switch (flags) {
	case BPF_RB_AVAIL_DATA:
		return m->prod - m->cons;
	case BPF_RB_RING_SIZE:
		return m->max_entries;
	case BPF_RB_CONS_POS:
		return m->cons;
	case BPF_RB_PROD_POS:
		return m->prod;
	default:
		return 0;
	}
}

static inline long bpf_loop(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags)
{
	long (*fn)(__u32 i, void *ctx) = callback_fn;

	if (flags)
		return -EINVAL;
	if (nr_loops > (1u << 23))	/* the kernel's BPF_MAX_LOOPS */
		return -E2BIG;
	for (__u32 i = 0; i < nr_loops; i++)
		if (fn(i, callback_ctx))
			return i + 1;
	return nr_loops;
}

/* The engine runs with the capture's clock (cfg.user_clock); these are never read then. */
static inline __u64 bpf_ktime_get_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static inline __u64 bpf_jiffies64(void)
{
	return bpf_ktime_get_ns() / CT_REPLAY_TICK_NS;
}

/* --- the maps as user space reads them (struct ct_map) ---------------------------------- */

static int hash_lookup(const struct ct_map *cm, const void *key, void *value)
{
	struct shim_map *m = cm->impl;
	void *v = ct_htab_lookup(m->h, key);

	if (!v)
		return -ENOENT;
	memcpy(value, v, m->value_size);
	return 0;
}

static int hash_update(const struct ct_map *cm, const void *key, const void *value, __u64 flags)
{
	return ct_htab_update(((struct shim_map *)cm->impl)->h, key, value, flags);
}

static int hash_lookup_and_delete(const struct ct_map *cm, const void *key, void *value)
{
	int err = hash_lookup(cm, key, value);

	return err ? err : ct_htab_delete(((struct shim_map *)cm->impl)->h, key);
}

static int hash_next_key(const struct ct_map *cm, const void *key, void *next_key)
{
	struct shim_map *m = cm->impl;
	__u32 pos = key ? ct_htab_pos(m->h, key) : 0;
	void *k, *v;

	if (!ct_htab_next(m->h, &pos, &k, &v))
		return -ENOENT;
	memcpy(next_key, k, m->key_size);
	return 0;
}

/* Batches in slot order; the batch position is the next slot, a __u32 as the kernel's is. */
static int hash_lookup_batch(const struct ct_map *cm, void *in_batch, void *out_batch, void *keys,
			     void *values, __u32 *count)
{
	struct shim_map *m = cm->impl;
	__u32 pos = in_batch ? *(__u32 *)in_batch : 0, n = 0;
	void *k, *v;
	int more = 1;

	while (n < *count && (more = ct_htab_next(m->h, &pos, &k, &v))) {
		memcpy((__u8 *)keys + (size_t)n * m->key_size, k, m->key_size);
		memcpy((__u8 *)values + (size_t)n * m->value_size, v, m->value_size);
		n++;
	}
	*count = n;
	*(__u32 *)out_batch = pos;
	return more ? 0 : -ENOENT;
}

static const struct ct_map_ops hash_ops = {
	.lookup = hash_lookup,
	.update = hash_update,
	.lookup_and_delete = hash_lookup_and_delete,
	.get_next_key = hash_next_key,
	.lookup_batch = hash_lookup_batch,
};

static int array_lookup(const struct ct_map *cm, const void *key, void *value)
{
	struct shim_map *m = cm->impl;
	__u32 i = *(const __u32 *)key;

	if (i >= m->max_entries)
		return -ENOENT;
	memcpy(value, m->data + (size_t)i * round8(m->value_size), m->value_size);
	return 0;
}

/* What the session never asks of an array. */
static int array_update(const struct ct_map *cm, const void *key, const void *value,
			__u64 flags)
{
	(void)cm, (void)key, (void)value, (void)flags;
	return -EOPNOTSUPP;
}

static int array_lookup_and_delete(const struct ct_map *cm, const void *key, void *value)
{
	(void)cm, (void)key, (void)value;
	return -EOPNOTSUPP;
}

static int array_next_key(const struct ct_map *cm, const void *key, void *next_key)
{
	(void)cm, (void)key, (void)next_key;
	return -EOPNOTSUPP;
}

static int array_lookup_batch(const struct ct_map *cm, void *in_batch, void *out_batch,
			      void *keys, void *values, __u32 *count)
{
	(void)cm, (void)in_batch, (void)out_batch, (void)keys, (void)values, (void)count;
	return -EOPNOTSUPP;
}

static const struct ct_map_ops array_ops = {
	.lookup = array_lookup,
	.update = array_update,
	.lookup_and_delete = array_lookup_and_delete,
	.get_next_key = array_next_key,
	.lookup_batch = array_lookup_batch,
};

/* --- the engine ------------------------------------------------------------------------- */

static void free_maps(void)
{
	struct shim_map *all[] = { &m_flows, &m_emb_ring, &m_est_ring, &m_storm, &m_counters,
				   &m_events, &m_new_flow };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		ct_htab_free(all[i]->h);
		free(all[i]->data);
		free(all[i]->bounce);
		memset(all[i], 0, sizeof(*all[i]));
	}
}

/* A hash map's storage: what its definition says, @max entries. */
static int bind_hash(struct shim_map *m, __u32 type, __u32 key_size, __u32 value_size, __u32 max)
{
	*m = (struct shim_map){ .type = type, .key_size = key_size, .value_size = value_size,
				.max_entries = max };
	m->h = ct_htab_new(key_size, value_size, max);
	return m->h ? 0 : -1;
}

/* An array's, zeroed as the kernel's are; calloc leaves untouched pages unallocated. */
static int bind_array(struct shim_map *m, __u32 type, __u32 value_size, __u32 max)
{
	*m = (struct shim_map){ .type = type, .key_size = sizeof(__u32),
				.value_size = value_size, .max_entries = max };
	m->data = calloc(max, round8(value_size));
	return m->data ? 0 : -1;
}

static int bind_maps(__u32 nflows, __u32 rb_bytes)
{
	__u32 ring = ct_ring_size(nflows);

	if (bind_hash(&m_flows, CT_SHIM_UINT(flows, type), CT_SHIM_KEY_SIZE(flows),
		      CT_SHIM_VALUE_SIZE(flows), nflows) ||
	    bind_array(&m_emb_ring, CT_SHIM_UINT(emb_ring, type), CT_SHIM_VALUE_SIZE(emb_ring),
		       ring) ||
	    bind_array(&m_est_ring, CT_SHIM_UINT(est_ring, type), CT_SHIM_VALUE_SIZE(est_ring),
		       ring) ||
	    bind_hash(&m_storm, CT_SHIM_UINT(storm, type), CT_SHIM_KEY_SIZE(storm),
		      CT_SHIM_VALUE_SIZE(storm), CT_SHIM_UINT(storm, max_entries)) ||
	    bind_array(&m_counters, CT_SHIM_UINT(counters, type), CT_SHIM_VALUE_SIZE(counters),
		       CT_SHIM_UINT(counters, max_entries)) ||
	    bind_array(&m_new_flow, CT_SHIM_UINT(new_flow, type), CT_SHIM_VALUE_SIZE(new_flow),
		       CT_SHIM_UINT(new_flow, max_entries)))
		return -1;
	m_events = (struct shim_map){ .type = CT_SHIM_UINT(events, type), .max_entries = rb_bytes };
	m_events.data = calloc(1, rb_bytes);
	m_events.bounce = malloc(rb_bytes / 4);
	return m_events.data && m_events.bounce ? 0 : -1;
}

int ct_inproc_open(struct ct_engine *e, const struct ct_load_opts *o, char *err, size_t errlen)
{
	__u32 nflows = o->flows ? o->flows : CT_DEFAULT_FLOWS;
	__u32 rb = o->ringbuf ? o->ringbuf : CT_DEFAULT_RINGBUF;

	if (in_use) {
		snprintf(err, errlen, "the in-process engine is in use already");
		return -1;
	}
	if (!o->user_clock || rb < 4096 || (rb & (rb - 1))) {
		snprintf(err, errlen, "the in-process engine runs replay only, with a ring buffer "
			 "of a power of two bytes");
		return -1;
	}
	if (bind_maps(nflows, rb)) {
		free_maps();
		snprintf(err, errlen, "out of memory for the flow table of %u entries", nflows);
		return -1;
	}
	in_use = 1;
	/* the switches, as ct_load() sets them; the globals, as a fresh load has them */
	ct_cfg_fill(o, nflows, &cfg);
	memcpy(if_index, cfg.ifindex, sizeof(if_index));
	user_clock_ns = 0;
	user_clock_tick = 0;
	last_result = 0;
	memset(&clock_probe, 0, sizeof(clock_probe));
	memset(&emb_pos, 0, sizeof(emb_pos));
	memset(&est_pos, 0, sizeof(est_pos));
	storm_win_start = 0;
	storm_win_count = 0;
	storm_epoch = 0;
	wake_cons = 0;

	e->flows = (struct ct_map){ .ops = &hash_ops, .fd = -1, .impl = &m_flows,
				    .max_entries = nflows, .ncpu = 1 };
	e->storm = (struct ct_map){ .ops = &hash_ops, .fd = -1, .impl = &m_storm,
				    .max_entries = m_storm.max_entries, .ncpu = 1 };
	e->counters = (struct ct_map){ .ops = &array_ops, .fd = -1, .impl = &m_counters,
				       .max_entries = m_counters.max_entries, .ncpu = 1 };
	e->nifs = cfg.nifs ? cfg.nifs : 1;
	e->clock_ns = &user_clock_ns;
	e->clock_tick = &user_clock_tick;
	e->storm_epoch = &storm_epoch;
	return 0;
}

void ct_inproc_close(void)
{
	free_maps();
	in_use = 0;
}

int ct_inproc_run(const void *frame, __u32 len)
{
	static __u64 buf[(CT_FRAME_ALIGN + CT_TEST_RUN_MAX + 7) / 8];
	__u8 *data = (__u8 *)buf + CT_FRAME_ALIGN;

	if (len < CT_TEST_RUN_MIN || len > CT_TEST_RUN_MAX)
		return -EINVAL;
	memcpy(data, frame, len);
	ct_frame(data, data + len, CT_TEST_RUN_IFINDEX);
	return (int)last_result;
}

int ct_inproc_consume(struct ct_engine *e)
{
	struct shim_map *m = &m_events;
	__u64 mask = m->max_entries - 1;
	int n = 0;

	while (m->cons < m->prod) {
		__u32 size = *(__u32 *)(m->data + (m->cons & mask));
		__u64 off = (m->cons + CT_RB_HDR) & mask;
		void *rec = m->data + off;
		int r;

		if (off + size > m->max_entries) {	/* round the end: in one piece */
			__u32 first = (__u32)(m->max_entries - off);

			memcpy(m->bounce, m->data + off, first);
			memcpy(m->bounce + first, m->data, size - first);
			rec = m->bounce;
		}
		m->cons += CT_RB_HDR + round8(size);
		r = e->on_event(e->ctx, rec, size);
		if (r < 0)
			return r;
		n++;
	}
	/* drained: start again at the front, so only the largest backlog's pages are touched */
	m->prod = m->cons = 0;
	return n;
}
