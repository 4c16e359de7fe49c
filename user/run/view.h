/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * view.h - a viewer of a running agent's session (share.h): where an agent already
 * watches the interfaces, watch, top, diagnose and report read its records instead of
 * attaching a program of their own. No capability is needed, no packet is touched: each
 * viewer applies its own filters and output to the agent's records. When the agent goes
 * away, the viewer says so and waits for it to come back; what the agent had to drop for a
 * slow viewer is said.
 */
#ifndef CT_VIEW_H
#define CT_VIEW_H

#include <linux/types.h>

#include "closetrace.h"
#include "reasons.h"
#include "record.h"
#include "share.h"

#define CT_VIEW_RETRY_MS 250		/* how often a viewer looks for its agent's return */
#define CT_VIEW_WAIT_S 30		/* ... and for how long, before it gives up */

struct ct_viewer_opts {
	char *const *ifaces;
	int nifaces;
	const char *name;		/* the command, for the agent's log and `check` */
	__u32 flags;			/* CT_SUB_*: top wants the flows scans leave */
	const struct ct_zones *zones;	/* the viewer's own zones for clt_zone, srv_zone */
	struct ct_rec_out out;
	int announce;			/* watch's start line */
	int all;
};

struct ct_viewer_agent {
	char iface[16];
	int fd;				/* -1 while it is away */
	struct ct_share_hello hello;
	struct ct_share_rx rx;
	struct ct_share_status st;	/* the latest */
	__u64 dropped_said;		/* ... said on stderr */
	__u64 dropped_tick;		/* ... at the last tick (top) */
	__u64 away_since, retry_at;	/* monotonic ns */
	__u64 scans_seen;		/* whole scans, at the last tick */
	int fresh;			/* statuses to let by since it (re)joined: the passes
					 * under way began before its subscription counted */
};

struct ct_viewer {
	struct ct_viewer_opts o;
	struct ct_viewer_agent a[CT_MAX_IFACES];
	int n;
	int stopped;			/* the records' receiver refused more */
	int failed;			/* an agent went away for good, or its stream broke */
	unsigned long long closes[CT_CLOSE_MAX];	/* closes seen, by kind */
	struct ct_reasons reasons;	/* the reset reasons' names, from the kernel's BTF */
	int reasons_used;
};

/*
 * Join the agents watching @o->ifaces: 0 viewing; 1 when no agent watches any of them (the
 * command attaches as usual); -1 said in one sentence (an agent watches some of them but
 * not all, this user may not view it, it is of another version).
 */
int ct_viewer_start(struct ct_viewer *v, const struct ct_viewer_opts *o);

/* Read what the agents sent, up to @timeout_ms of waiting, and hand records out; rejoin
 * agents that went away. < 0 once viewing cannot go on (said). */
int ct_viewer_poll(struct ct_viewer *v, int timeout_ms);

/*
 * watch's and diagnose's loop: records as they come until a stop signal, the receiver
 * refusing more, or monotonic @until_ns (0: none). 0, or 1 when viewing failed.
 */
int ct_viewer_run(struct ct_viewer *v, __u64 until_ns);

/*
 * For top's ticks: the agents' losses and table, summed, and whether each made a whole
 * scan of its table since the last call with the flows it left handed over whole.
 */
void ct_viewer_counters(struct ct_viewer *v, struct ct_loss *lost, __u64 *flows, __u64 *cap,
		      int *scanned);

void ct_viewer_end(struct ct_viewer *v);

#endif /* CT_VIEW_H */
