/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * live.h - a session on live interfaces, shared by `watch` and `top`: open the interfaces,
 * attach the programs (and the reset tracepoints), notice interfaces that go away, and
 * leave the system as it was found when it ends. The session core does the rest.
 */
#ifndef CT_LIVE_H
#define CT_LIVE_H

#include <signal.h>
#include <linux/types.h>

#include "attach.h"
#include "http.h"
#include "metrics.h"
#include "options.h"
#include "reasons.h"
#include "session.h"

#define CT_SCAN_PERIOD_NS 1000000000ull
/*
 * watch: the time one tick's expiry scan may take (4 % of the period); a table it cannot
 * go through in that time is gone through in several ticks (about 100 000 flows a tick
 * on a slow VM: the default table in one or two, a million in ten).
 */
#define CT_SCAN_BUDGET_NS 40000000ull

struct bpf_link;
struct resets;

struct ct_live {
	struct ct_session s;
	struct ct_iface ifs[CT_MAX_IFACES];
	int nifs;
	int attached;
	int xdp;
	struct ct_reasons reasons;	/* the reset tracepoints and reason names */
	struct resets *resets;		/* their programs, when loaded */
	struct bpf_link *reset_link;	/* ... and attached */
	struct bpf_link *rx_link;
	struct ct_http *http;		/* --metrics: the endpoint, and what it is fed */
	struct ct_metrics snap;
};

/*
 * Open the interfaces of @c, load and attach, records going to @record / @visit (NULL:
 * none) with @ctx, and @flush (NULL: none) told when a batch of them ends. Errors are
 * said (one sentence each) and return 1; what was attached is then detached by
 * ct_live_end(), which must be called in every case. Stops early, returning 0, once
 * ct_stop_signal is set.
 */
int ct_live_start(struct ct_live *l, const struct ct_config *c, int emit_graceful,
		  ct_record_fn record, ct_record_fn visit, void (*flush)(void *ctx), void *ctx);

/*
 * The periodic work: drop interfaces that disappeared, scan the table (expiry, and the
 * visitor), say what was lost. Returns how many interfaces are left (0, said: nothing
 * more to watch); *@scan_failed tells whether the scan read the whole table.
 */
int ct_live_tick(struct ct_live *l, int *scan_failed);

/*
 * Detach, hand out the last events, then (with @final) the final state of every flow
 * still open, say what was lost, the counters and the signal that stopped it under -v,
 * and free everything.
 */
void ct_live_end(struct ct_live *l, int final);

/* Options of watch and top that only make sense together: 0, or 2 after a usage error. */
int ct_validate_live(const struct ct_command *cmd, struct ct_config *c);

/* The signal that asked the command to stop, 0 while none has. */
extern volatile sig_atomic_t ct_stop_signal;

/*
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT set ct_stop_signal; with @hup_reopen, SIGHUP reopens
 * --output-file instead (logrotate, systemctl reload). Writes are restarted, so that a
 * line is never cut; waits (poll) return at once.
 */
void ct_catch_stop_signals(int hup_reopen);

#endif /* CT_LIVE_H */
