/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * storm.h - storm summaries in user space. Past a rate, orphan RSTs (counted in the
 * kernel's "storm" table instead of sent as events) and unanswered SYNs (decided by the
 * scans) are not reported one by one: they are counted by interface, server address,
 * server port and close kind, and each period the counts go out as summary records. So a
 * storm costs one record per server port and second, and the closes that matter still get
 * through; every close is either reported or in exactly one summary.
 */
#ifndef CT_STORM_H
#define CT_STORM_H

#include <linux/types.h>

#include "closetrace.h"
#include "record.h"
#include "siphash.h"

/* Server ports one period can hold; more are summarised by interface only ("unkeyed"). */
#define CT_STORM_ROWS 4096

struct ct_storm_row {
	struct ct_storm_key key;	/* epoch: only CT_BY_* << 4 */
	__u64 count, first_ns, last_ns;	/* wall clock */
};

struct ct_storm {
	__u64 rate;			/* closes a second reported one by one; 0: no limit */
	__u64 win, win_count;		/* the current one-second window and its closes */
	struct ct_storm_row *rows;	/* open addressing, 2 * CT_STORM_ROWS slots */
	int nrows;
	struct ct_sipkey seed;		/* the hash's key: rows hash wire data */
	/* by slot, orphan RSTs then unanswered SYNs; key.ifvlan: the interface */
	struct ct_storm_row unkeyed[CT_MAX_IFACES][2];
	__u64 summarised;		/* closes summarised, in all */
};

int ct_storm_init(struct ct_storm *st, __u64 rate);
void ct_storm_free(struct ct_storm *st);

/* Whether one more close at @now_ns (any clock) is within the rate: 1, or 0 to summarise. */
int ct_storm_admit(struct ct_storm *st, __u64 now_ns);

/*
 * Count @count closes of the kind in @k (decided by a RST from CT_STORM_BY(k->epoch); its
 * period bits are ignored) to the server at k->addr/port on k->ifvlan in k's tunnel, between
 * @first and @last (wall clock). With no room for another server port, they count under the
 * interface of slot @slot alone.
 */
void ct_storm_add(struct ct_storm *st, int slot, const struct ct_storm_key *k, __u64 count,
		  __u64 first, __u64 last);
/* The summary key of record @r's server, decided by a RST from @by. */
void ct_storm_key_of(const struct ct_record *r, __u8 by, struct ct_storm_key *k);
/* Count closes whose server is not known (the kernel's table had no room). */
void ct_storm_add_unkeyed(struct ct_storm *st, int slot, __u32 ifvlan, __u8 close, __u64 count,
			  __u64 first, __u64 last);

/*
 * Hand each summary of the period to @fn as a CT_REC_SUMMARY record (@iface names the
 * interface of a key word) and start a new period; stops at the first @fn < 0.
 */
int ct_storm_flush(struct ct_storm *st, int (*fn)(void *ctx, const struct ct_record *r),
		   void *ctx, const char *(*iface)(void *ctx, __u32 ifindex), void *iface_ctx);

#endif /* CT_STORM_H */
