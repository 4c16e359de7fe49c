/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replay.h - replay: captures through the XDP program's code, in this process or in the
 * kernel with BPF_PROG_TEST_RUN (engine.h), capture time as the flow clock, over the
 * session core that live uses too.
 * `closetrace replay`, `closetrace top -r` and the oracle tests drive it.
 */
#ifndef CT_REPLAY_H
#define CT_REPLAY_H

#include <stddef.h>

#include "engine.h"
#include "flows.h"
#include "record.h"

struct ct_replay;

struct ct_replay_opts {
	enum ct_engine_kind engine;	/* CT_ENGINE_BPF is 0: set CT_ENGINE_USER explicitly */
	__u32 table_size;		/* 0: CT_DEFAULT_FLOWS */
	__u32 storm_rate;		/* --storm-rate; 0: every close is a record */
	struct ct_expiry exp;
	/* where records go: record() returns < 0 to stop (the reader went away) */
	struct ct_rec_out out;
	const struct ct_zones *zones;	/* what clt_zone and srv_zone come from */
	const struct ct_tunnels *tunnels;	/* what the parser decapsulates; NULL: the default */
};

/* Set up the engine for replay; NULL with one sentence in @err. */
struct ct_replay *ct_replay_new(const struct ct_replay_opts *o, char *err, size_t errlen);

/*
 * Replay one capture. A capture that starts where the previous one ended continues its
 * flows; one that starts earlier closes them first. Problems (unreadable file, unusable
 * packets) are printed to stderr, one line each, naming the file and packet. Returns 0
 * when all of it was read and counted, 1 when some was not, 2 when the file could not be
 * read at all (missing, not a capture), -1 when the sink stopped.
 */
int ct_replay_file(struct ct_replay *rp, const char *path);

/*
 * Close every flow still open, then say what was lost (flows evicted, events lost);
 * 0 if nothing was, 1 otherwise.
 */
int ct_replay_finish(struct ct_replay *rp);
/* Every close so far, by kind (@n[CT_CLOSE_MAX]). */
void ct_replay_closes(struct ct_replay *rp, unsigned long long *n);
void ct_replay_free(struct ct_replay *rp);

#endif /* CT_REPLAY_H */
