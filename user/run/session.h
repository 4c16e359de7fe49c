/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * session.h - what a live session and a replay share: the engine (the loaded BPF object,
 * or the same flow code in this process for replay), the ring buffer of kernel-decided
 * closes (with closes held for a reset's reason), the scans of the flow table, the record
 * sink, and the accounting of what was lost, said on stderr in one wording. Live and
 * replay differ only in where packets and time come from.
 */
#ifndef CT_SESSION_H
#define CT_SESSION_H

#include <stddef.h>
#include <linux/types.h>

#include "engine.h"
#include "flows.h"
#include "loader.h"
#include "metrics.h"
#include "record.h"
#include "storm.h"

#define CT_HELD_MAX 256
#define CT_HELD_NS 100000000ull	/* 100 ms: the reason follows within microseconds */
#define CT_HELD_CLOCK_EVERY 64	/* held closes that share one reading of the clock */

struct ct_session_opts {
	enum ct_engine_kind engine;	/* BPF (0) live; replay chooses */
	struct ct_load_opts load;
	struct ct_expiry exp;
	/*
	 * records: kernel closes, and what scans decide and remove (< 0 stops the session);
	 * visit: every flow a scan leaves in the table; flush: the records handed out so
	 * far make a batch (a drain of the ring buffer, a scan), to be written out together
	 */
	struct ct_rec_out out;
	/* the name records carry for an interface index */
	const char *(*iface)(void *ctx, __u32 ifindex);
	void *iface_ctx;
	/* optional: the zones records carry (clt_zone, srv_zone) */
	const struct ct_zones *zones;
	/* optional: the path records carry for a cgroup id (NULL: none, as in replay) */
	const char *(*cgroup)(void *ctx, __u64 id);
	void *cgroup_ctx;
	/* optional: where closes are counted for metrics (by slot, by server port) */
	struct ct_metrics *tally;
};

struct ct_session {
	struct ct_engine eng;
	struct ct_scanner scan;
	struct ct_expiry exp;
	struct ct_scan_out scan_out;	/* ctx is the session; records go on to @out */
	struct ct_rec_out out;
	const char *(*iface)(void *ctx, __u32 ifindex);
	void *iface_ctx;
	const char *(*cgroup)(void *ctx, __u64 id);
	void *cgroup_ctx;
	const struct ct_zones *zones;
	int user_clock;		/* replay: time is the capture's */
	int stopped;		/* the record sink refused more */
	/* closes decided by a RST, held until its reason comes (CT_EVF_* to wait for) */
	__u8 hold;
	struct ct_held {
		struct ct_record r;
		__u64 until;		/* monotonic ns: handed out as it is after this */
		__u8 want;		/* CT_EVF_*: what it waits for */
	} held[CT_HELD_MAX];
	int nheld;
	/* the deadline closes held now get: read once a batch, and every CT_HELD_CLOCK_EVERY */
	__u64 held_until;
	unsigned int held_clock;
	struct ct_loss said;		/* what stderr has said was lost */
	struct ct_loss recorded;	/* ... and loss records */
	struct ct_metrics *tally;
	int ifindex[CT_MAX_IFACES];	/* the interfaces' counter slots, in order */
	int nifs;
	__u64 rst_unknown_max[CT_MAX_IFACES];	/* RSTs sent with no reason, as published */
	/* storms: summaries, and the kernel's unkeyed count as last read, by slot */
	struct ct_storm storm;
	__u64 storm_full_seen[CT_MAX_IFACES];
	__u64 scan_now;			/* the session clock at the last scan */
	int skip_flow;			/* the next final record is of a summarised close */
	__u64 user_closes[CT_CLOSE_MAX];	/* closes the scans decided, by kind */
	struct ct_flow_key skip_key;
};

/*
 * Load the object and set up the ring buffer and the scanner; 0, or -1 with one sentence
 * in @err (what was set up is freed by ct_session_close(), which must be called anyway).
 */
int ct_session_open(struct ct_session *s, const struct ct_session_opts *o, char *err,
		    size_t errlen);
void ct_session_close(struct ct_session *s);

/*
 * Interface slot @slot is index @ifindex from now (deleted and created again): the session's
 * own slot lookups, and the loaded programs' (the reset tracepoints' @rs too, when loaded).
 */
void ct_session_set_ifindex(struct ct_session *s, struct resets *rs, int slot, int ifindex);

/* The visitor scans give the flows they leave in the table to (NULL: none), from now. */
void ct_session_set_visit(struct ct_session *s, ct_record_fn visit);

/* The ring buffer's epoll descriptor, to wait on it with other descriptors (BPF). */
int ct_session_fd(const struct ct_session *s);

/*
 * Wait up to @timeout_ms for events, hand them out, and those held past their deadline;
 * < 0 on a reading error.
 */
int ct_session_poll(struct ct_session *s, int timeout_ms);
/* Hand out the events waiting, without waiting. */
void ct_session_drain(struct ct_session *s);

/*
 * Scan the table at the session's time (monotonic live, the capture's in replay): 0,
 * -errno, or 1 when the sink stopped.
 */
int ct_session_scan(struct ct_session *s, enum ct_scan_mode mode);

/*
 * What could not be reported, in all: flows evicted by class and untracked (the table was
 * full), events lost (the ring buffer was full), all counted in the kernel; 0, or -errno
 * (all 0) when the counters cannot be read.
 */
int ct_session_losses(struct ct_session *s, struct ct_loss *l);
/* Every close so far by kind (@n[CT_CLOSE_MAX]): the kernel's counts and the scans'. */
void ct_session_closes(struct ct_session *s, unsigned long long *n);
/* The flow table: flows at the last scan, and its capacity. */
void ct_session_table(const struct ct_session *s, __u64 *flows, __u64 *capacity);

/*
 * Fill @m (set up by ct_metrics_init() with the session's interfaces) with the kernel's
 * counters of each interface, the table and the losses; names are the caller's.
 */
void ct_session_metrics(struct ct_session *s, struct ct_metrics *m);

/* Say on stderr what was lost since it was last said (evictions once they grow 10 %). */
void ct_session_report(struct ct_session *s);

/*
 * Storm summaries: take the kernel's counts that no program can still be writing (all of
 * them with @all: nothing runs any more, or replay) and hand out the period's summaries.
 */
int ct_session_storms(struct ct_session *s, int all);

/*
 * The end: the last events and held closes, a last scan in @mode (< 0: none), what was
 * lost, and the counters under -v. Returns 1 if closes were lost, else 0.
 */
int ct_session_finish(struct ct_session *s, int mode);

#endif /* CT_SESSION_H */
