/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * agg.h - what `closetrace top` shows, without the screen: the flows of a window (those
 * in the table and those that ended within the window), grouped by server, server IP,
 * client IP or flow, with per-group counts and ratios, ranked by a column; and a history
 * of per-interval samples (connections, RSTs by side, closes by kind) for rates and the
 * sparkline. Pure: fed with records, no I/O, unit-tested alone.
 *
 * Bounded whatever the traffic: ended flows are kept one by one up to a cap, older ones
 * are folded into one "(other)" row that keeps their counts for the window; groups past
 * a cap are summed into it too. Totals stay exact: the rows and (other) add up to them.
 * A flow folded while still in the kernel's table is remembered (a few words, up to the
 * table's capacity of them), so that its close and final state add to (other) what they
 * bring instead of counting it again.
 * Flows and groups are found through a hash keyed at random (SipHash), so addresses
 * and ports chosen by a sender cannot pile up in one chain.
 */
#ifndef CT_AGG_H
#define CT_AGG_H

#include <stddef.h>
#include <linux/types.h>

#include "closetrace.h"
#include "filter.h"
#include "record.h"
#include "zones.h"

enum ct_grouping {
	CT_G_SERVER = 0,	/* ip.srv + port.srv */
	CT_G_SERVER_IP,		/* ip.srv */
	CT_G_CLIENT_IP,		/* ip.clt */
	CT_G_FLOW,		/* the whole 5-tuple (and interface, VLAN) */
	CT_G_APP,		/* the local socket's process (comm) and cgroup */
	CT_G_UNIT,		/* its cgroup: a unit, container or pod */
	CT_G_CLIENT_ZONE,	/* the client's zone (--zones, --zone-prefix) */
	CT_G_SERVER_ZONE,	/* the server's */
	CT_G_TUNNEL,		/* the tunnel: type and id (VNI, TEID, key, session) */
	CT_G_MAX,
};

/* Table columns, in screen order; every one can be the sort key. */
enum ct_col {
	CT_COL_FLOWS = 0,	/* connections: flows (attempts included) */
	CT_COL_CT,		/* completed handshakes */
	CT_COL_SYN_PER,		/* client SYNs per connection */
	CT_COL_FIN_CLT,
	CT_COL_FIN_SRV,
	CT_COL_RST_CLT,
	CT_COL_RST_SRV,
	CT_COL_REFUSED,
	CT_COL_RESETS,		/* reset-client + reset-server */
	CT_COL_FIN_RESET,
	CT_COL_UNANSWERED,
	CT_COL_RST_PER,		/* RSTs (both sides) per connection */
	CT_COL_LAST,		/* the last abnormal close: most recent first */
	CT_COL_MAX,
};

struct ct_gkey {
	__u32 addr[2][4];	/* [0] client, [1] server; zero where the grouping ignores it */
	__u16 port[2];
	__u32 ifvlan;
	__u64 cgroup;		/* app, unit: the owner's cgroup id (ct_flow.own) */
	char comm[16];		/* app: its command */
	__u8 own;		/* app, unit: 1 a socket's owner, 2 a refusal's listener,
				 * 3 a refusal with no listener seen, 0 nothing known */
	__u8 tun_type;		/* tunnel, flow: the tunnel (enum ct_tunnel) */
	__u8 pad[2];
	__u32 tun_id;		/* ... its id (GTP-U: the client's TEID) */
};

struct ct_group {
	struct ct_gkey key;
	int v4;			/* addresses are IPv4 */
	__u64 flows, ct, syn;
	__u64 fin[2], rst[2];	/* [0] client, [1] server */
	__u64 closes[CT_CLOSE_MAX];
	__u64 last_abn_ns;	/* when the last abnormal close happened, 0 if none */
	__u8 last_abn;		/* its kind */
	__u8 last_reason;	/* this host's reset reason in it (ct_flow.rst_reason) */
	const char *iface;	/* flow grouping: the flow's interface */
	const char *cgroup;	/* app, unit: the owner's cgroup path (NULL unknown) */
	char zone[CT_ZONE_TEXT_MAX];	/* zones: the zone's name or prefix */
	__u32 pid;		/* app: a pid of it (the last seen) */
};

/* One refresh interval, summed over the flows that pass the filter. */
struct ct_sample {
	__u64 t_ns;		/* end of the interval */
	__u64 dt_ns;		/* its length */
	__u64 conns;		/* flows first seen in it */
	__u64 rst[2];		/* RSTs sent in it: [0] client, [1] server */
	__u64 closes[CT_CLOSE_MAX];	/* closes decided in it, by kind */
};

#define CT_HISTORY 256		/* samples kept for the sparkline, whatever --window */

/* The defaults of --max-flows and --max-groups, and their ranges. */
#define CT_AGG_MAX_FLOWS 100000
#define CT_AGG_MAX_GROUPS 10000
#define CT_AGG_FLOWS_LIMIT 10000000
#define CT_AGG_GROUPS_LIMIT 100000

struct ct_agg_caps {
	__u32 max_ended;	/* ended flows kept one by one; older ones are folded */
	__u32 max_open;		/* flows the kernel's table holds: past this many and
				 * max_ended, the flow fed least recently is folded */
	__u32 max_groups;	/* ranked groups; the rest are summed in (other) */
};

/* What the caps did, since the start or the last reset. */
struct ct_agg_stats {
	__u64 folded;		/* flows folded into (other): their counts stay there */
	__u64 folded_open;	/* ... of which had not yet been seen to leave the table */
	__u64 forgotten;	/* ... of which were forgotten, more being open than the table
				 * holds: a later record of one counts it again */
	__u64 groups_over;	/* groups past max_groups at the last ct_agg_groups() */
	__u64 summarised;	/* closes of storm summaries, in (other) */
	__u32 max_ended, max_groups;	/* the caps */
	size_t kept, ended;	/* flows held one by one, and of them those that ended */
	size_t open_folded;	/* folded flows still in the table, whose records are awaited */
	size_t bytes;		/* memory the model holds */
};

struct ct_agg;

/*
 * @window_ns: how long ended flows keep counting; 0 keeps them for ever (replay).
 * @caps: NULL for the defaults (a default-sized table). NULL on failure, errno set.
 */
struct ct_agg *ct_agg_new(__u64 window_ns, const struct ct_agg_caps *caps);
void ct_agg_free(struct ct_agg *a);

/*
 * The filter samples, groups and folding apply (NULL: none); @flt must live until the
 * next call. A new filter empties (other): what was folded was counted under the old one.
 */
void ct_agg_set_filter(struct ct_agg *a, const struct ct_filter *flt);

/*
 * Feed a record at time @now: CLOSE sets the flow's close kind, OPEN refreshes a flow the
 * scan saw in the table, FLOW is a flow's final state (it left the table at @now and
 * keeps counting for the window). A flow is its key and first packet time, so a flow
 * that restarted on the same 5-tuple is another one. Returns 0, or -1 out of memory.
 */
int ct_agg_feed(struct ct_agg *a, const struct ct_record *r, __u64 now);

/*
 * Close an interval at @now: when @scanned (a whole scan fed every flow in the table
 * since the last tick), flows not fed left the table (evicted); ended flows older than
 * the window are forgotten; the interval's sample (counted over flows passing the
 * filter: a connection when it first passes) is appended to the history and returned.
 */
const struct ct_sample *ct_agg_tick(struct ct_agg *a, __u64 now, int scanned);

/* Forget ended flows, (other), the caps' counts and the history; flows still in the
 * table stay as they are. */
void ct_agg_reset(struct ct_agg *a);

/* Flows held one by one: in the table, and ended but kept for the window. */
size_t ct_agg_flows(const struct ct_agg *a, size_t *ended);

void ct_agg_stats(const struct ct_agg *a, struct ct_agg_stats *st);

/* The most memory one flow held takes: itself, its bucket, and its group at a frame. */
size_t ct_agg_flow_bytes(void);

/*
 * Group the flows passing the filter by @g and rank by @col (descending; ties by key).
 * Returns the number of groups, at most max_groups; *@out (owned by @a, valid until the
 * next call) holds them. The groups past the cap, and the folded flows, are in
 * ct_agg_other().
 */
size_t ct_agg_groups(struct ct_agg *a, enum ct_grouping g, enum ct_col col,
		     const struct ct_group **out);

/* (other) as of the last ct_agg_groups(): NULL when it holds no flow. */
const struct ct_group *ct_agg_other(const struct ct_agg *a);

/* The last @n samples, oldest first; returns how many there are (<= n). */
size_t ct_agg_history(const struct ct_agg *a, const struct ct_sample **out, size_t n);

/*
 * Rebuild the history from the flows themselves, in @n equal intervals from @t0 to @t1:
 * a flow's connection counts at its start, its RSTs and close at its end. For captures,
 * where the whole time span is known at once. Folded flows are placed to within the
 * resolution their time was kept at (256 steps over their span).
 */
void ct_agg_history_span(struct ct_agg *a, __u64 t0, __u64 t1, size_t n);

/* The value of column @col for group @g, as a number (ratios as such). */
double ct_group_value(const struct ct_group *g, enum ct_col col);

/* Per-connection ratios, 0 when there is no connection. */
double ct_ratio(__u64 num, __u64 den);

const char *ct_grouping_name(enum ct_grouping g);
const char *ct_col_name(enum ct_col c);

#endif /* CT_AGG_H */
