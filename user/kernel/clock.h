/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * clock.h - the flow map's clocks in user-space terms. first_ns and event times are
 * CLOCK_MONOTONIC nanoseconds (capture time in replay); last_seen is jiffies live, which
 * a probe reading of (jiffies, monotonic ns) and the tick length turn into nanoseconds.
 */
#ifndef CT_CLOCK_H
#define CT_CLOCK_H

#include <linux/types.h>

#include "ct_expiry.h"	/* struct ct_clock, shared with the kernel's scan cut */

struct closetrace;
struct ct_flow;

/*
 * Take a reading: live, through the loaded object's probe program; in replay
 * (@user_clock), from the capture clock replay last set. 0 or -errno.
 */
int ct_clock_sync(struct closetrace *skel, int user_clock, struct ct_clock *c);

/* The reading replay has: the capture clock it last set, in ns and in ticks. */
void ct_clock_replay(__u64 clock_ns, __u32 clock_tick, struct ct_clock *c);

/* last_seen of a flow in the clock of first_ns, to one tick; valid within 2^31 ticks. */
__u64 ct_clock_last_ns(const struct ct_clock *c, __u32 last_seen);

/* A flow's last packet in the clock of first_ns, never before its first: ct_flow_last_of(). */
__u64 ct_flow_last_ns(const struct ct_clock *c, const struct ct_flow *f);

#endif /* CT_CLOCK_H */
