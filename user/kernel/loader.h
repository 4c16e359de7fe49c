/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loader.h - open, configure and load the closetrace BPF objects (the skeletons: the packet
 * programs, and the reset tracepoints apart), and turn load failures into one sentence an
 * operator can act on.
 */
#ifndef CT_LOADER_H
#define CT_LOADER_H

#include <stddef.h>
#include <linux/types.h>

/* Flow-table sizes: the kernel preallocates every entry of the hash and its rings. */
#define CT_TABLE_MIN 1024
#define CT_TABLE_MAX (1l << 24)

struct closetrace;
struct ct_cfg;

/* Which programs to load (the clock probe always is); 0 means all. */
#define CT_PROG_XDP 1u
#define CT_PROG_TC 2u
#define CT_PROG_RESET 4u	/* the reset tracepoints, loaded apart (ct_load_resets) */

struct ct_reasons;

struct ct_tunnels;

struct ct_load_opts {
	unsigned int progs;	/* CT_PROG_* */
	__u32 flows;		/* flow-table entries; 0: CT_DEFAULT_FLOWS */
	__u32 ringbuf;		/* ring-buffer bytes, a power of two; 0: CT_DEFAULT_RINGBUF */
	__u32 wakeup_bytes;	/* 0: wake the reader on every event */
	int emit_graceful;
	int user_clock;		/* replay: time comes from the capture */
	int owners;		/* the owners of local sockets (tc, and the reset object's
				 * socket tracepoints) */
	__u32 storm_rate;	/* orphan RSTs a second sent as events, the rest summarised;
				 * 0: all sent */
	/* CT_PROG_RESET: what the kernel's BTF says of its reset tracepoints */
	const struct ct_reasons *reasons;
	/* the interfaces watched: their counter slots, in this order */
	const int *ifindex;
	int nifs;
	/* the tunnels decapsulated; NULL: the default (ct_tunnels_default) */
	const struct ct_tunnels *tunnels;
};

/*
 * The kernel memory a flow table of @n entries takes (preallocated hash elements,
 * eviction rings and buckets), and whether it fits: 0, or -1 with one sentence in @err when @n is
 * over CT_TABLE_MAX or the table would need more than @avail bytes (0: not known).
 */
double ct_table_bytes(long n);
int ct_table_fits(long n, __u64 avail, char *err, size_t errlen);

/* The eviction rings' size for a table of @flows entries: the power of two >= @flows. */
__u32 ct_ring_size(__u32 flows);

/* The switches of @o for a table of @flows entries, as the packet programs read them. */
void ct_cfg_fill(const struct ct_load_opts *o, __u32 flows, struct ct_cfg *c);

/* Returns the loaded object, or NULL with @err holding one sentence. */
struct closetrace *ct_load(const struct ct_load_opts *o, char *err, size_t errlen);
void ct_unload(struct closetrace *skel);

struct resets;

/*
 * The reset tracepoint programs (resets.bpf.c), loaded on the maps of @skel, loaded from
 * @o before: they need the kernel's BTF, which the packet programs do not. Returns them,
 * not attached, or NULL with @err holding one sentence.
 */
struct resets *ct_load_resets(struct closetrace *skel, const struct ct_load_opts *o, char *err,
			      size_t errlen);
void ct_unload_resets(struct resets *rs);

struct scan;
struct bpf_link;

/*
 * The kernel's first cut of expiry passes (scan.bpf.c), loaded and attached as an
 * iterator over @flows_fd: the link, with *@out the object (its .bss holds the cut's
 * parameters). NULL with @err holding one sentence, and errno set, when it is not to be had:
 * ECANCELED where CLOSETRACE_DISABLE turns it off; the kernel's error where it refuses map
 * iterators (ct_probe_map_iter(): ENOENT without BTF); else why ours was refused. User
 * space then reads the whole table.
 */
struct bpf_link *ct_load_scan(int flows_fd, struct scan **out, char *err, size_t errlen);
void ct_unload_scan(struct bpf_link *link, struct scan *sc);

/*
 * Interface slot @slot is now index @ifindex (it was deleted and created again): the
 * loaded programs (and the reset tracepoints', @rs, when loaded) count and look flows up
 * under it from now on.
 */
void ct_set_ifindex(struct closetrace *skel, struct resets *rs, int slot, int ifindex);

#endif /* CT_LOADER_H */
