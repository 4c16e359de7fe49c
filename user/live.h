/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * live.h - a live session, shared by `watch` and `top`: the interfaces, the loaded BPF
 * object attached to them, the ring buffer of kernel-decided closes and the periodic
 * scan of the flow table; and leaving the system as it was found when it ends.
 */
#ifndef CT_LIVE_H
#define CT_LIVE_H

#include <signal.h>
#include <linux/types.h>

#include "attach.h"
#include "flows.h"
#include "reasons.h"
#include "record.h"

#define CT_MAX_IFACES 64
#define CT_SCAN_PERIOD_NS 1000000000ull
#define CT_HELD_MAX 256
#define CT_HELD_NS 100000000ull	/* 100 ms: the reason follows within microseconds */

struct closetrace;
struct ring_buffer;
struct bpf_link;

struct ct_live_opts {
	char **names;		/* interfaces */
	int nnames;
	int xdp;		/* XDP on ingress instead of tc on both directions */
	enum ct_xdp_mode xmode;
	int force;
	__u32 flows;		/* flow-table size */
	int emit_graceful;	/* the kernel reports graceful closes too */
	struct ct_expiry exp;
	/* records: kernel closes, and what scans decide and remove; < 0 stops the session */
	int (*record)(void *ctx, const struct ct_record *r);
	/* optional: every flow a scan leaves in the table */
	int (*visit)(void *ctx, const struct ct_record *r);
	void *ctx;
};

struct ct_live {
	struct closetrace *skel;
	struct ring_buffer *rb;
	struct ct_scanner scan;
	struct ct_expiry exp;
	struct ct_sink sink;	/* ctx is the session; records go on to the callbacks below */
	int (*record)(void *ctx, const struct ct_record *r);
	int (*visit)(void *ctx, const struct ct_record *r);
	void *ctx;
	struct ct_iface ifs[CT_MAX_IFACES];
	int nifs;
	int attached;
	int xdp;
	int stopped;		/* the record sink refused more */
	int scan_failed;	/* the last tick's scan did not read the whole table */
	struct ct_reasons reasons;	/* the reset tracepoint's layout and names */
	struct bpf_link *reset_link;	/* the tracepoints, when attached */
	struct bpf_link *rx_link;
	/* closes decided by this host's RST, held until the reset's reason comes */
	struct ct_held {
		struct ct_record r;
		__u64 until;		/* monotonic ns: printed as it is after this */
		__u8 want;		/* CT_EVF_*: what it waits for */
	} held[CT_HELD_MAX];
	int nheld;
	__u64 said_rb, said_evicted;
};

/* Split a comma-separated interface list into @names (at most CT_MAX_IFACES in all). */
int ct_live_add_ifaces(char *list, char **names, int *n);

/*
 * Open the interfaces, load and attach. Errors are printed (one sentence each) and
 * return 1; what was attached is then already detached by ct_live_end(), which must be
 * called in every case. Stops early, returning 0, if *@stop becomes non-zero.
 */
int ct_live_start(struct ct_live *l, const struct ct_live_opts *o,
		  volatile sig_atomic_t *stop);

/* Wait up to @timeout_ms for events and hand them out; < 0 on a reading error. */
int ct_live_events(struct ct_live *l, int timeout_ms);
/* The ring buffer's epoll descriptor, to wait on it with other descriptors. */
int ct_live_fd(const struct ct_live *l);

/*
 * The periodic work: drop interfaces that disappeared, scan the table (expiry, and the
 * visitor), report losses on stderr once they grow. Returns how many interfaces are
 * left (0: nothing more to watch).
 */
int ct_live_tick(struct ct_live *l);

/* Global counters, summed over CPUs; 0 or -1. */
int ct_live_counters(struct ct_live *l, __u64 *c, int n);
/* Events lost and flows evicted so far. */
void ct_live_losses(struct ct_live *l, __u64 *events, __u64 *evicted);
/* The flow table: flows at the last scan, and its capacity. */
void ct_live_table(const struct ct_live *l, __u64 *flows, __u64 *capacity);

/*
 * Detach, hand out the last events, then (with @final) the final state of every flow
 * still open, print the totals under -v, and free everything.
 */
void ct_live_end(struct ct_live *l, int final);

/* Wall-clock time, and the monotonic clock, in ns. */
__u64 ct_now_ns(void);
__u64 ct_mono_ns(void);

#endif /* CT_LIVE_H */
