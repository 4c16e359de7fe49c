/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine.h - where a session's packets go through the flow code, behind one interface:
 * the BPF object loaded in the kernel (live, and replay --engine bpf), or the same
 * bpf/parse.h and bpf/flow.h compiled into this process (inproc.c: replay's default,
 * with no privilege and no system call a packet). The session reads either one the same
 * way: its maps through struct ct_map, its events through a callback, and the few words
 * user space writes (the replay clock, the storm period) through pointers.
 */
#ifndef CT_ENGINE_H
#define CT_ENGINE_H

#include <stddef.h>
#include <linux/types.h>

struct closetrace;
struct ring_buffer;
struct ct_counters;
struct ct_load_opts;
struct ct_map;
struct ct_scan_params;
struct scan;
struct bpf_link;

enum ct_engine_kind {
	CT_ENGINE_BPF = 0,	/* the BPF programs in the kernel */
	CT_ENGINE_USER,		/* the flow code in this process: replay only */
	CT_ENGINE_MAX,
};

/* "bpf", "user"; NULL past the last */
const char *ct_engine_name(int kind);

/*
 * The calls user space makes on a map, with libbpf's meaning (a value is ncpu values for
 * a per-CPU map; batches and keys as bpf_map_lookup_batch() has them); 0 or -errno.
 */
struct ct_map_ops {
	int (*lookup)(const struct ct_map *m, const void *key, void *value);
	int (*update)(const struct ct_map *m, const void *key, const void *value, __u64 flags);
	int (*lookup_and_delete)(const struct ct_map *m, const void *key, void *value);
	int (*get_next_key)(const struct ct_map *m, const void *key, void *next_key);
	int (*lookup_batch)(const struct ct_map *m, void *in_batch, void *out_batch, void *keys,
			    void *values, __u32 *count);
};

struct ct_map {
	const struct ct_map_ops *ops;
	int fd;			/* a kernel map's */
	void *impl;		/* an in-process map's */
	__u32 max_entries;
	int ncpu;		/* values per key: the CPUs of a per-CPU map, else 1 */
};

/* A kernel map, by its descriptor. */
void ct_map_kernel(struct ct_map *m, int fd, __u32 max_entries, int percpu);

static inline int ct_map_lookup(const struct ct_map *m, const void *key, void *value)
{
	return m->ops->lookup(m, key, value);
}

static inline int ct_map_update(const struct ct_map *m, const void *key, const void *value,
				__u64 flags)
{
	return m->ops->update(m, key, value, flags);
}

static inline int ct_map_lookup_and_delete(const struct ct_map *m, const void *key, void *value)
{
	return m->ops->lookup_and_delete(m, key, value);
}

static inline int ct_map_get_next_key(const struct ct_map *m, const void *key, void *next_key)
{
	return m->ops->get_next_key(m, key, next_key);
}

static inline int ct_map_lookup_batch(const struct ct_map *m, void *in_batch, void *out_batch,
				      void *keys, void *values, __u32 *count)
{
	return m->ops->lookup_batch(m, in_batch, out_batch, keys, values, count);
}

/* A ring-buffer record: return < 0 to stop reading (the record is consumed). */
typedef int (*ct_event_fn)(void *ctx, void *data, size_t len);

struct ct_engine {
	enum ct_engine_kind kind;
	struct closetrace *skel;	/* BPF: the loaded object; NULL in process */
	struct ring_buffer *rb;		/* BPF: its events */
	int xdp_fd;			/* BPF: the XDP program, which replay runs */
	struct ct_map flows, storm, counters;
	__u32 nifs;			/* counter slots in use: at least 1 */
	/* the kernel's .bss (mapped), or inproc.c's variables of the same names */
	__u64 *clock_ns;		/* user_clock_ns */
	__u32 *clock_tick;		/* user_clock_tick */
	__u32 *storm_epoch;
	ct_event_fn on_event;
	void *ctx;
	/*
	 * BPF: the kernel's first cut of expiry passes (scan.bpf.c), an iterator link on the
	 * flow table, and its parameters (its .bss, mapped); -1 and NULL when this kernel
	 * has none: passes then read the whole table.
	 */
	int cut_link_fd;
	struct ct_scan_params *cut;
	struct scan *scan_skel;
	struct bpf_link *scan_link;
};

/*
 * Load the programs of @o (BPF), or set up the in-process engine (USER: only one at a time
 * in a process, for replay: @o's user_clock must be set), events going to @fn with @ctx.
 * 0, or -1 with one sentence in @err; ct_engine_close() must be called in every case.
 */
int ct_engine_open(struct ct_engine *e, enum ct_engine_kind kind, const struct ct_load_opts *o,
		   ct_event_fn fn, void *ctx, char *err, size_t errlen);
void ct_engine_close(struct ct_engine *e);

/*
 * Run one frame through the XDP program's path, as BPF_PROG_TEST_RUN does (on the
 * loopback device): its parse result (enum ct_parse_res), or -errno when it could not run.
 */
int ct_engine_run(struct ct_engine *e, const void *frame, __u32 len);

/* Hand out the events waiting: how many, or -errno. */
int ct_engine_consume(struct ct_engine *e);
/* Wait up to @timeout_ms for events (BPF only), then hand them out. */
int ct_engine_poll(struct ct_engine *e, int timeout_ms);
/* The descriptor to wait on for events (BPF), -1 in process. */
int ct_engine_fd(const struct ct_engine *e);

/* The counters of slot @slot (-1: of all @nifs slots), summed over the CPUs. */
int ct_counters_read(const struct ct_map *counters, __u32 nifs, int slot,
		     struct ct_counters *out);

/* The counters of interface slot @slot (-1: all interfaces), summed over the CPUs. */
int ct_read_slot(struct closetrace *skel, int slot, struct ct_counters *out);
/* The first @n counters of all interfaces, summed over the CPUs. */
int ct_read_counters(struct closetrace *skel, __u64 *out, size_t n);

#endif /* CT_ENGINE_H */
