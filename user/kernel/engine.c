// SPDX-License-Identifier: BSD-3-Clause
/*
 * engine.c - the two engines behind one interface (see engine.h): kernel maps through
 * their descriptors, events through libbpf's ring buffer, frames through BPF_PROG_TEST_RUN;
 * or all of it in this process (inproc.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "closetrace.h"
#include "closetrace.skel.h"
#include "engine.h"
#include "kfeatures.h"
#include "inproc.h"
#include "loader.h"
#include "log.h"
#include "ct_expiry.h"
#include "scan.skel.h"

const char *ct_engine_name(int kind)
{
	static const char *const names[CT_ENGINE_MAX] = { "bpf", "user" };

	return kind >= 0 && kind < CT_ENGINE_MAX ? names[kind] : NULL;
}

/* --- kernel maps: libbpf's calls, which return -errno ------------------------------------ */

static int k_lookup(const struct ct_map *m, const void *key, void *value)
{
	return bpf_map_lookup_elem(m->fd, key, value);
}

static int k_update(const struct ct_map *m, const void *key, const void *value, __u64 flags)
{
	return bpf_map_update_elem(m->fd, key, value, flags);
}

static int k_lookup_and_delete(const struct ct_map *m, const void *key, void *value)
{
	return bpf_map_lookup_and_delete_elem(m->fd, key, value);
}

static int k_get_next_key(const struct ct_map *m, const void *key, void *next_key)
{
	return bpf_map_get_next_key(m->fd, key, next_key);
}

static int k_lookup_batch(const struct ct_map *m, void *in_batch, void *out_batch, void *keys,
			  void *values, __u32 *count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	return bpf_map_lookup_batch(m->fd, in_batch, out_batch, keys, values, count, &opts);
}

static const struct ct_map_ops kernel_ops = {
	.lookup = k_lookup,
	.update = k_update,
	.lookup_and_delete = k_lookup_and_delete,
	.get_next_key = k_get_next_key,
	.lookup_batch = k_lookup_batch,
};

void ct_map_kernel(struct ct_map *m, int fd, __u32 max_entries, int percpu)
{
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;

	*m = (struct ct_map){ .ops = &kernel_ops, .fd = fd, .max_entries = max_entries,
			      .ncpu = ncpu > 0 ? ncpu : 1 };
}

/* --- the engines -------------------------------------------------------------------------- */

static int open_bpf(struct ct_engine *e, const struct ct_load_opts *o, char *err, size_t errlen)
{
	struct closetrace *skel = ct_load(o, err, errlen);
	char why[256];

	if (!skel)
		return -1;
	e->skel = skel;
	e->rb = ring_buffer__new(bpf_map__fd(skel->maps.events), e->on_event, e->ctx, NULL);
	if (!e->rb) {
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
		return -1;
	}
	e->xdp_fd = bpf_program__fd(skel->progs.ct_xdp);
	ct_map_kernel(&e->flows, bpf_map__fd(skel->maps.flows),
		      bpf_map__max_entries(skel->maps.flows), 0);
	ct_map_kernel(&e->storm, bpf_map__fd(skel->maps.storm),
		      bpf_map__max_entries(skel->maps.storm), 1);
	ct_map_kernel(&e->counters, bpf_map__fd(skel->maps.counters),
		      bpf_map__max_entries(skel->maps.counters), 1);
	e->nifs = skel->rodata->cfg.nifs ? skel->rodata->cfg.nifs : 1;
	e->clock_ns = &skel->bss->user_clock_ns;
	e->clock_tick = &skel->bss->user_clock_tick;
	e->storm_epoch = &skel->bss->storm_epoch;
	e->scan_link = ct_load_scan(e->flows.fd, &e->scan_skel, why, sizeof(why));
	if (e->scan_link) {
		e->cut_link_fd = bpf_link__fd(e->scan_link);
		e->cut = &e->scan_skel->bss->scan_params;
		pr_info("expiry scans go through the kernel's cut (a map iterator)\n");
	} else if (errno == ECANCELED || ct_probe_map_iter()) {
		/* what this kernel, or the user, chose: closetrace check names it */
		pr_info("degraded: %s (%s): %s\n", ct_feature_name(CT_FEAT_SCAN_ITER), why,
			ct_feature_fallback(CT_FEAT_SCAN_ITER));
	} else {
		/* the kernel takes iterators but not ours: a defect to report, not a setting */
		pr_warn("%s (a defect: the kernel takes map iterators): %s\n", why,
			ct_feature_fallback(CT_FEAT_SCAN_ITER));
	}
	return 0;
}

int ct_engine_open(struct ct_engine *e, enum ct_engine_kind kind, const struct ct_load_opts *o,
		   ct_event_fn fn, void *ctx, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->xdp_fd = -1;
	e->cut_link_fd = -1;
	e->on_event = fn;
	e->ctx = ctx;
	if (kind == CT_ENGINE_BPF)
		return open_bpf(e, o, err, errlen);
	return ct_inproc_open(e, o, err, errlen);
}

void ct_engine_close(struct ct_engine *e)
{
	if (e->kind == CT_ENGINE_USER && e->clock_ns)
		ct_inproc_close();
	ring_buffer__free(e->rb);
	if (e->scan_link)
		ct_unload_scan(e->scan_link, e->scan_skel);
	if (e->skel)
		ct_unload(e->skel);
	memset(e, 0, sizeof(*e));
	e->xdp_fd = -1;
	e->cut_link_fd = -1;
}

int ct_engine_run(struct ct_engine *e, const void *frame, __u32 len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = 1);

	if (e->kind == CT_ENGINE_USER)
		return ct_inproc_run(frame, len);
	if (bpf_prog_test_run_opts(e->xdp_fd, &o))
		return -errno;
	return (int)e->skel->bss->last_result;
}

int ct_engine_consume(struct ct_engine *e)
{
	if (e->kind == CT_ENGINE_USER)
		return ct_inproc_consume(e);
	return e->rb ? ring_buffer__consume(e->rb) : 0;
}

int ct_engine_poll(struct ct_engine *e, int timeout_ms)
{
	if (e->kind == CT_ENGINE_USER)
		return ct_inproc_consume(e);
	return ring_buffer__poll(e->rb, timeout_ms);
}

int ct_engine_fd(const struct ct_engine *e)
{
	return e->rb ? ring_buffer__epoll_fd(e->rb) : -1;
}

int ct_counters_read(const struct ct_map *counters, __u32 nifs, int slot,
		     struct ct_counters *out)
{
	int ncpu = counters->ncpu, ret = 0;
	struct ct_counters *per;
	/* all: the slots of the interfaces watched (slot 0 at least: replay, tests) */
	__u32 first = slot < 0 ? 0 : (__u32)slot, last = slot < 0 ? (nifs ? nifs : 1) : first + 1;

	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	for (__u32 k = first; k < last && !ret; k++) {
		ret = ct_map_lookup(counters, &k, per);
		for (int cpu = 0; cpu < ncpu && !ret; cpu++) {
			for (int i = 0; i < CT_C_MAX; i++)
				out->c[i] += per[cpu].c[i];
			for (int i = 0; i < CT_RST_REASONS; i++)
				out->rst_sent[i] += per[cpu].rst_sent[i];
		}
	}
	free(per);
	return ret;
}

int ct_read_slot(struct closetrace *skel, int slot, struct ct_counters *out)
{
	struct ct_map m;

	ct_map_kernel(&m, bpf_map__fd(skel->maps.counters),
		      bpf_map__max_entries(skel->maps.counters), 1);
	return ct_counters_read(&m, skel->rodata->cfg.nifs, slot, out);
}

int ct_read_counters(struct closetrace *skel, __u64 *out, size_t n)
{
	struct ct_counters sum;
	int ret = ct_read_slot(skel, -1, &sum);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		out[i] = i < CT_C_MAX ? sum.c[i] : 0;
	return 0;
}
