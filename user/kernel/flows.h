/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flows.h - the user-space side of the flow table: decide the closes only time can tell
 * (unanswered, half-open, half-closed, idle, midstream), remove ended flows once they have
 * been quiet for a while, and hand every removed flow's final record to a sink. The map
 * (the kernel's or the in-process engine's, see engine.h) is read with batched lookups;
 * an entry is removed (lookup-and-delete) before it is reported, and only if no packet
 * changed it since it was read (else it goes back; if it cannot, the state it was taken
 * out with is reported).
 */
#ifndef CT_FLOWS_H
#define CT_FLOWS_H

#include <stddef.h>
#include <linux/types.h>

#include "clock.h"
#include "closetrace.h"
#include "record.h"


#define CT_DEFAULT_SYN_TIMEOUT_S 10
#define CT_DEFAULT_IDLE_TIMEOUT_S 300
#define CT_DEFAULT_LINGER_S 5

/*
 * What a scan hands its records to: @rec (its flush after each batch the scan reads, where
 * the session drains events), the name of an interface, and how kernel times become
 * wall-clock times.
 */
struct ct_scan_out {
	struct ct_rec_out rec;
	const char *(*iface)(void *ctx, __u32 ifindex);	/* ctx: rec.ctx */
	__s64 to_wall;		/* add to kernel times (monotonic, or capture) for wall clock */
};

/* The close a flow that has not ended would get if it ended now. */
__u8 ct_open_kind(const struct ct_flow *f);
/*
 * Whether a flow that has not ended is to be closed at @now (its clock), @last being its
 * last packet. A connection attempt without a reply has the SYN timeout from its first
 * packet, however much the client keeps sending; anything else is closed after the idle
 * timeout of silence.
 */
int ct_open_expired(const struct ct_expiry *e, __u8 kind, __u64 first, __u64 last, __u64 now);

struct ct_map;

struct ct_scanner {
	const struct ct_map *map;
	__u32 batch;			/* entries per batched lookup */
	struct ct_flow_key *keys;
	struct ct_flow *vals;
	__u64 removed;			/* flows removed by scans, in all */
	__u64 split;			/* ... of which a packet re-created while being taken */
	__u64 last_seen_flows;		/* flows left in the table by the last whole pass
					 * (before the first, by the slices so far) */
	/*
	 * An expiry scan stops after @budget_ns (0: never) once it has done a batch, and the
	 * next one goes on from there: a big table costs a share of a core, not a core, and
	 * is gone through in several ticks. The position and the pass's counts so far:
	 */
	__u64 budget_ns;
	int resume;
	__u32 token;
	__u64 pass_seen, pass_removed;
	__u64 passes;			/* whole passes done */
	/*
	 * The kernel's first cut (scan.bpf.c), when the engine has one: expiry passes with
	 * no visitor read only the flows it lets through, from an iterator kept open
	 * across the slices of a pass.
	 */
	int cut_link;			/* the iterator link, -1: none */
	struct ct_scan_params *cut;	/* its parameters */
	int cut_fd;			/* the pass's iterator, -1 between passes */
	char *cut_buf;
	size_t cut_len;			/* bytes in cut_buf */
	size_t cut_pend;		/* ... the first of them, the last read's whole records */
	/*
	 * Tests only: called while an entry is taken out, after the scan read it (phase 0)
	 * and after it left the table (phase 1), to send packets in those windows.
	 */
	void (*take_hook)(void *ctx, int phase, const struct ct_flow_key *k);
	void *take_ctx;
};

/* Scans of @map (the session keeps it) by batches of @batch entries (0: 4096). */
int ct_scanner_init(struct ct_scanner *s, const struct ct_map *map, __u32 batch);
/* Expiry passes go through the kernel's cut: iterator link @link_fd, parameters @p. */
int ct_scanner_use_cut(struct ct_scanner *s, int link_fd, struct ct_scan_params *p);

/* Whether a pass is under way: the next expiry call goes on with it. */
static inline int ct_scan_midpass(const struct ct_scanner *s)
{
	return s->resume || s->cut_fd >= 0;
}
void ct_scanner_free(struct ct_scanner *s);

enum ct_scan_mode {
	CT_SCAN_EXPIRE = 0,	/* close what has timed out, remove what has ended */
	CT_SCAN_FLUSH,		/* the end of a capture: close and remove everything */
	CT_SCAN_OPEN,		/* watch exits: final records; open flows stay "open" */
};

/*
 * One pass over the table at time @now (the flows' clock; in CT_SCAN_EXPIRE with a
 * budget, the next slice of a pass that may take several calls): closes what has timed out,
 * removes it and the ended flows past their linger time, and gives each a CLOSE record
 * (user-space decisions) and a FLOW record (final state); @mode says what else goes.
 * Returns 0 or -errno; stops early, returning 1, when @out's record() returns < 0.
 */
int ct_scan(struct ct_scanner *s, const struct ct_expiry *e, const struct ct_clock *clk,
	    __u64 now, enum ct_scan_mode mode, const struct ct_scan_out *out);

#endif /* CT_FLOWS_H */
