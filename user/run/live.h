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

#include <sys/socket.h>
#include <sys/types.h>

#include "attach.h"
#include "http.h"
#include "metrics.h"
#include "reasons.h"
#include "session.h"
#include "share.h"

#define CT_SCAN_PERIOD_NS 1000000000ull
/*
 * watch: the time one tick's expiry scan may take (4 % of the period); a table it cannot
 * go through in that time is gone through in several ticks (about 100 000 flows a tick
 * on a slow VM: the default table in one or two, a million in ten).
 */
#define CT_SCAN_BUDGET_NS 40000000ull
/* ct_live_run(): how long it waits for events between looks at the clock */
#define CT_LIVE_POLL_MS 10

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
	struct bpf_link *state_link;	/* the socket tracepoints: owners */
	struct bpf_link *retrans_link;
	struct ct_cgroups *cgroups;	/* the owners' cgroup ids as paths */
	struct ct_http *http;		/* --metrics: the endpoint, and what it is fed */
	struct ct_metrics snap;
	/* the session offered to viewers: records go to them, then to the command's @cmd */
	struct ct_share *share;
	struct ct_rec_out cmd;
	int visits;			/* a viewer wants the flows scans leave (top) */
	int wait_iface;			/* --wait-interface */
	enum ct_xdp_mode xdp_mode;
	unsigned long long closes[CT_CLOSE_MAX];	/* by kind, at the end (ct_live_end) */
};

/* What a live session is asked for (the commands fill it from their options). */
struct ct_live_opts {
	char *const *ifaces;
	int nifaces;
	int xdp;			/* XDP on each interface (a mirror port), else tc */
	enum ct_xdp_mode xdp_mode;
	int force;			/* take another XDP program's place */
	int beside;			/* --no-agent: beside another closetrace (tcx) */
	int wait_iface;			/* --wait-interface: an interface deleted is waited
					 * for, and attached to again when it comes back */
	__u32 table_size;
	__u32 storm_rate;
	struct ct_expiry exp;
	int emit_graceful;		/* the kernel reports graceful closes too */
	/* --metrics: served at @metrics_addr when @metrics, with closes by these ports */
	int metrics;
	const struct sockaddr_storage *metrics_addr;
	const __u16 *metrics_ports;
	int nmetrics_ports;
	const char *web_config;		/* --web-config: TLS and users, or NULL */
	const struct ct_zones *zones;	/* what clt_zone and srv_zone come from */
	const struct ct_tunnels *tunnels;	/* what the parser decapsulates; NULL: the default */
	int metrics_by;			/* enum ct_app_by: closes by application too */
	int metrics_top;		/* ... in at most this many rows */
	/* --user: who to run as once attached */
	int user;
	uid_t uid;
	gid_t gid;
	/* where records go (visit: NULL for none; flush: NULL for none) */
	struct ct_rec_out out;
	/*
	 * offer the session to local viewers (watch, the service): every close is then
	 * reported by the kernel, graceful ones too, for them (the command's own output
	 * selects as it always did)
	 */
	int share;
	/* say in one line what is watched, how, and how to see more (watch; top has a screen) */
	int announce;
	int all;			/* every close is printed (for the start line) */
};

/*
 * Open the interfaces of @o, load and attach, records going to @o->out. Errors are said
 * (one sentence each) and return 1; what was attached is then detached by ct_live_end(),
 * which must be called in every case. Stops early, returning 0, once ct_stop_signal is
 * set.
 */
int ct_live_start(struct ct_live *l, const struct ct_live_opts *o);

/*
 * The periodic work: drop interfaces that disappeared, scan the table (expiry, and the
 * visitor), say what was lost. Returns how many interfaces are left (0, said: nothing
 * more to watch); *@scan_failed tells whether the scan read the whole table.
 */
int ct_live_tick(struct ct_live *l, int *scan_failed);

/*
 * The session's loop, as watch runs it: events as they come, a tick a second (the scan in
 * slices of a share of a core), until a stop signal, the sink refusing more, nothing left
 * to watch, or monotonic time @until_ns (0: none). 0, or 1 when something failed.
 */
int ct_live_run(struct ct_live *l, __u64 until_ns);

/*
 * Detach, hand out the last events, then (with @final) the final state of every flow
 * still open, say what was lost, the counters and the signal that stopped it under -v,
 * and free everything.
 */
void ct_live_end(struct ct_live *l, int final);

/* The signal that asked the command to stop, 0 while none has. */
extern volatile sig_atomic_t ct_stop_signal;

/* What SIGHUP does. */
enum ct_hup {
	CT_HUP_STOP,	/* it ends the command, as SIGINT does (top: an interactive view) */
	/*
	 * watch: it ends the command where there is a controlling terminal (it went away);
	 * elsewhere (a service: systemctl reload, logrotate) it reopens the output file, or,
	 * without one, is said once and ignored. An inherited SIG_IGN (nohup) is kept.
	 */
	CT_HUP_TERMINAL,
};

/*
 * SIGINT, SIGTERM and SIGQUIT set ct_stop_signal, and SIGHUP as @hup says (@has_file: an
 * --output-file to reopen). Writes are restarted, so that a line is never cut; waits
 * (poll) return at once.
 */
void ct_catch_stop_signals(enum ct_hup hup, int has_file);
/* Say, once, that a SIGHUP came with nothing to reopen (from the command's loop). */
void ct_signals_note(void);

#endif /* CT_LIVE_H */
