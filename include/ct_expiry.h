/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct_expiry.h - when a flow that no packet ended is closed by time, shared by user space
 * (flows.c decides and removes) and the kernel's first cut of an expiry pass
 * (bpf/scan.bpf.c, which hands user space only the flows this says may go). The flow
 * map's clocks: first_ns and event times are CLOCK_MONOTONIC nanoseconds (capture time in
 * replay); last_seen is jiffies live, which a reading of both clocks at once and the tick
 * length turn into nanoseconds.
 */
#ifndef CT_EXPIRY_H
#define CT_EXPIRY_H

#include <linux/types.h>

#include "closetrace.h"
#include "ct_logic.h"

struct ct_expiry {
	__u64 syn_timeout_ns;	/* unanswered / half-open: silence before deciding */
	__u64 idle_timeout_ns;	/* idle / half-closed / midstream */
	__u64 linger_ns;	/* an ended flow stays this long after its last packet */
};

struct ct_clock {
	__u32 replay;		/* ticks are capture ms: convert from each flow's first_ns */
	__u32 probe_tick;	/* a simultaneous reading of both clocks */
	__u64 tick_ns;		/* one tick of last_seen */
	__u64 probe_ns;
};

/* last_seen of a flow in the clock of first_ns, to one tick; valid within 2^31 ticks. */
static __always_inline __u64 ct_clock_last_ns_of(const struct ct_clock *c, __u32 last_seen)
{
	/* signed distance in ticks: last_seen may be before or after the reading */
	__s32 d = (__s32)(last_seen - c->probe_tick);

	return c->probe_ns + (__u64)((__s64)d * (__s64)c->tick_ns);
}

/*
 * A flow's last packet in the clock of first_ns, never before its first. In replay the
 * ticks are milliseconds of capture time, counted from the flow's own first packet, so a
 * gap of any length between captures cannot make them wrap.
 */
static __always_inline __u64 ct_flow_last_of(const struct ct_clock *c, const struct ct_flow *f)
{
	__u64 first_tick, last;

	if (!c->replay) {
		last = ct_clock_last_ns_of(c, f->last_seen);
	} else {
		/* the kernel stored (capture ns / tick) truncated to 32 bits */
		first_tick = f->first_ns / c->tick_ns;
		last = first_tick * c->tick_ns +
		       (__u64)(__u32)(f->last_seen - (__u32)first_tick) * c->tick_ns;
	}
	return last < f->first_ns ? f->first_ns : last;
}

/* Joined midstream: no SYN and no SYN-ACK seen. */
static __always_inline int ct_midstream(__u32 st)
{
	return !ct_has_any(st, CT_L_SYN) && !ct_has_any(st, CT_L_SYNACK);
}

/* The close a flow that has not ended would get if it ended now. */
static __always_inline __u8 ct_open_kind_of(__u32 st)
{
	int clt = ct_client_ep(st), srv = !clt;

	if (ct_midstream(st))
		return CT_CLOSE_MIDSTREAM;
	if (!(st & CT_ST_CT)) {
		if (ct_has_any(st, CT_L_FIN))
			return CT_CLOSE_HALF_OPEN;
		/* no reply at all: a SYN-ACK, an ACK or data would be one */
		if (!ct_has(st, srv, CT_L_SYNACK) && !ct_has(st, srv, CT_L_ACK) &&
		    !ct_has(st, srv, CT_L_DATA))
			return CT_CLOSE_UNANSWERED;
		return CT_CLOSE_IDLE;
	}
	if (ct_has_any(st, CT_L_FIN))
		return CT_CLOSE_HALF_CLOSED;
	return CT_CLOSE_IDLE;
}

/*
 * Whether a flow that has not ended is to be closed at @now (its clock), @last being its
 * last packet. A connection attempt without a reply has the SYN timeout from its first
 * packet, however much the client keeps sending; anything else is closed after the idle
 * timeout of silence.
 */
static __always_inline int ct_open_expired_at(const struct ct_expiry *e, __u8 kind, __u64 first,
					      __u64 last, __u64 now)
{
	switch (kind) {
	case CT_CLOSE_UNANSWERED:
	case CT_CLOSE_HALF_OPEN:
		return now >= first && now - first >= e->syn_timeout_ns;
	default:
		return now >= last && now - last >= e->idle_timeout_ns;
	}
}

/*
 * Whether an expiry pass at @now may take flow @f out: it has ended (the pass then looks
 * at its close and linger time), or it has timed out. The kernel's cut hands user space
 * exactly these; user space decides each one again (flows.c) on what it read.
 */
static __always_inline int ct_expiry_candidate(const struct ct_expiry *e, const struct ct_clock *c,
					       const struct ct_flow *f, __u64 now)
{
	if (f->state & CT_ST_ENDED)
		return 1;
	return ct_open_expired_at(e, ct_open_kind_of(f->state), f->first_ns,
				  ct_flow_last_of(c, f), now);
}

/*
 * A shortcut of the above for the kernel's cut, on the state word and last_seen only (the
 * entry's second cache line: first_ns is in its third): 1 when the flow is certainly no
 * candidate, a live flow of an idle-timeout kind heard from within the idle timeout. Its
 * last packet in ct_flow_last_of() is at least what last_seen alone says, so if that is
 * within the timeout, so is it. 0: ask ct_expiry_candidate().
 */
static __always_inline int ct_expiry_keeps(const struct ct_expiry *e, const struct ct_clock *c,
					   __u32 st, __u32 last_seen, __u64 now)
{
	__u8 kind;
	__u64 last;

	if ((st & CT_ST_ENDED) || c->replay)
		return 0;
	kind = ct_open_kind_of(st);
	if (kind == CT_CLOSE_UNANSWERED || kind == CT_CLOSE_HALF_OPEN)
		return 0;
	last = ct_clock_last_ns_of(c, last_seen);
	return now < last || now - last < e->idle_timeout_ns;
}

/*
 * What user space writes into the kernel's cut (scan.bpf.c's .bss) before each slice of a
 * pass, and what it counts there.
 */
struct ct_scan_params {
	__u64 now;		/* the pass's time, the flows' clock */
	struct ct_clock clk;
	struct ct_expiry exp;
	__u32 mark_every;	/* a mark record after this many entries without output */
	__u32 pad;
	__u64 seen;		/* entries met since the iterator was made */
};

/* One record of the cut's output: a flow that may go, or a mark (nothing: the reader's
 * read returns and it can drain events, or stop for this tick). */
enum ct_scan_rec_type { CT_SCAN_REC_FLOW = 1, CT_SCAN_REC_MARK = 2 };
struct ct_scan_rec {
	__u32 type;
	__u32 pad;
	struct ct_flow_key key;
	struct ct_flow flow;
};
_Static_assert(sizeof(struct ct_scan_rec) == 240, "ct_scan_rec layout");

#endif /* CT_EXPIRY_H */
