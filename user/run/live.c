// SPDX-License-Identifier: BSD-3-Clause
/*
 * live.c - a session on interfaces: attach, load the reset reasons' tracepoints, notice
 * interfaces that go away, and detach on the way out. Packets come from the interfaces
 * and time from the kernel's clock; everything else is the session core's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "closetrace.h"
#include "closetrace.skel.h"
#include "kfeatures.h"
#include "cgroups.h"
#include "now.h"
#include "live.h"
#include "loader.h"
#include "log.h"
#include "privs.h"
#include "reasons_btf.h"
#include "resets.skel.h"
#include "sink.h"
#include "webconfig.h"

/*
 * The reader is woken once this many events wait, or at the latest after one poll tick
 * (10 ms): below some 100 000 events a second, the tick alone. Every wakeup is an
 * interrupt and a context switch: at 64, connection churn with every close printed kept
 * 0.86 of its rate, at 1024 0.94 (medians of five runs). 1024 events are 4 % of the ring.
 */
#define CT_WAKEUP_EVENTS 1024

volatile sig_atomic_t ct_stop_signal;

/* what SIGHUP does here (ct_catch_stop_signals()), and whether one came to nothing */
static enum { HUP_STOP, HUP_REOPEN, HUP_NOTE } hup_does;
static volatile sig_atomic_t hup_noted;

static void on_stop_signal(int sig)
{
	if (sig != SIGHUP || hup_does == HUP_STOP)
		ct_stop_signal = sig;
	else if (hup_does == HUP_REOPEN)
		ct_file_reopen_later();
	else
		hup_noted = 1;
}

/* Whether this process has a controlling terminal: SIGHUP then says it went away. */
static int has_tty(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

void ct_catch_stop_signals(enum ct_hup hup, int has_file)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESTART }, old;

	if (hup == CT_HUP_STOP || has_tty())
		hup_does = HUP_STOP;
	else
		hup_does = has_file ? HUP_REOPEN : HUP_NOTE;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	/* nohup's SIGHUP stays ignored: whoever started it asked for that */
	if (sigaction(SIGHUP, NULL, &old) || old.sa_handler != SIG_IGN || hup == CT_HUP_STOP)
		sigaction(SIGHUP, &sa, NULL);
	pr_info("SIGHUP %s\n", hup_does == HUP_STOP ? "stops (a terminal, or an interactive view)" :
		hup_does == HUP_REOPEN ? "reopens --output-file" : "is noted and ignored (no terminal, "
		"no --output-file)");
}

void ct_signals_note(void)
{
	static int said;

	if (hup_noted && !said++)
		pr_warn("SIGHUP: no --output-file to reopen; going on (SIGINT or SIGTERM stops)\n");
}

static const char *iface_name(void *ctx, __u32 ifindex)
{
	struct ct_live *l = ctx;

	for (int i = 0; i < l->nifs; i++)
		if (((__u32)l->ifs[i].ifindex & CT_IFINDEX_MASK) == ifindex)
			return l->ifs[i].name;
	return "?";
}

/* Attach the session's program to @ifc, as its mode says */
static int attach_one(struct ct_live *l, struct ct_iface *ifc, int force, char *err,
		      size_t errlen)
{
	struct closetrace *skel = l->s.eng.skel;
	int fd = bpf_program__fd(l->xdp ? skel->progs.ct_xdp : skel->progs.ct_tc);

	return l->xdp ? ct_attach_xdp(ifc, fd, l->xdp_mode, force, err, errlen) :
			ct_attach_tc(ifc, fd, err, errlen);
}

/* --wait-interface: interface @i, gone, is looked for; attached again once it is back */
static void come_back(struct ct_live *l, int i)
{
	struct ct_iface *ifc = &l->ifs[i], fresh;
	char err[512];

	/* there again? (it may still be missing, or down: looked at again next tick) */
	if (ct_iface_open(&fresh, ifc->name, err, sizeof(err))) {
		pr_debug("%s\n", err);
		return;
	}
	fresh.beside = ifc->beside;
	if (attach_one(l, &fresh, 0, err, sizeof(err))) {
		pr_warn("%s; waiting on\n", err);
		ct_detach(&fresh);
		return;
	}
	*ifc = fresh;
	/* the programs, and the session, count and find its flows under its new index */
	ct_session_set_ifindex(&l->s, l->resets, i, ifc->ifindex);
	pr_warn("%s: back (index %d): watched again\n", ifc->name, ifc->ifindex);
}

/*
 * Interfaces deleted while watched are reported once and dropped, or with --wait-interface
 * waited for and attached to again when they come back. A renamed one is the same
 * interface: it keeps being watched under its new name. Returns how many are left
 * (waited for ones included).
 */
static int check_ifaces(struct ct_live *l)
{
	char now[IF_NAMESIZE];
	int left = 0;

	for (int i = 0; i < l->nifs; i++) {
		struct ct_iface *ifc = &l->ifs[i];

		if (ifc->gone) {
			if (l->wait_iface) {
				left++;
				come_back(l, i);
			}
			continue;
		}
		if (!if_indextoname((unsigned int)ifc->ifindex, now)) {
			ifc->gone = 1;
			ct_detach(ifc);
			if (l->wait_iface) {
				left++;
				pr_warn("%s: interface disappeared; waiting for it to come back "
					"(--wait-interface)\n", ifc->name);
			} else {
				pr_warn("%s: interface disappeared; no longer watched\n", ifc->name);
			}
			continue;
		}
		if (strcmp(now, ifc->name)) {
			pr_warn("%s: renamed to %s; still watched\n", ifc->name, now);
			snprintf(ifc->name, sizeof(ifc->name), "%s", now);
			/* its viewers keep its socket, and its records under the new name */
			ct_share_rename(l->share, i, now);
		}
		left++;
	}
	return left;
}

/*
 * Why this host sends a RST: in tc mode, where its own RSTs pass (XDP watches a mirror or
 * a gateway, whose RSTs are other hosts'). Sets up @lo to load the tracepoints, when the
 * kernel's BTF shows them.
 */
static void want_reasons(struct ct_live *l, struct ct_load_opts *lo)
{
	char err[256];

	if (ct_feature_off(CT_FEAT_RESETS)) {
		pr_info("CLOSETRACE_DISABLE turns the reset tracepoints off: reset reasons show "
			"as -\n");
		return;
	}
	if (ct_reasons_probe(&l->reasons, err, sizeof(err))) {
		pr_info("%s\n", err);
		return;
	}
	if (!l->reasons.reason_arg)
		pr_info("this kernel's tcp_send_reset passes no reason (before 6.10): "
			"reset reasons show as -, socket states are kept\n");
	lo->progs |= CT_PROG_RESET;
	lo->reasons = &l->reasons;
	if (l->nifs > CT_RR_IFACES)
		pr_info("reset reasons on the first %d interfaces only\n", CT_RR_IFACES);
}

/*
 * Load the tracepoint programs on the session's maps and attach them (raw tracepoints:
 * no tracefs needed); a close decided by a RST then waits for what they tell.
 */
static void attach_reasons(struct ct_live *l, const struct ct_load_opts *lo)
{
	char err[256];

	l->resets = ct_load_resets(l->s.eng.skel, lo, err, sizeof(err));
	if (!l->resets) {
		pr_info("%s: reset reasons show as -\n", err);
		return;
	}
	l->reset_link = bpf_program__attach(l->resets->progs.ct_send_reset);
	if (!l->reset_link) {
		pr_info("cannot attach to tcp_send_reset: reset reasons show as -\n");
	} else {
		ct_reasons_use(&l->reasons);
		l->s.hold |= CT_EVF_LOCAL_RST;
	}
	if (l->reasons.receive_reset)
		l->rx_link = bpf_program__attach(l->resets->progs.ct_receive_reset);
	if (l->rx_link)
		l->s.hold |= CT_EVF_RX_RST;
	else
		pr_info("no tcp_receive_reset tracepoint: RSTs accepted by local sockets are not "
			"told apart\n");
	if (!lo->owners)
		return;
	l->state_link = bpf_program__attach(l->resets->progs.ct_sock_state);
	l->retrans_link = bpf_program__attach(l->resets->progs.ct_retransmit);
	if (!l->state_link)
		pr_info("cannot attach to inet_sock_set_state: closes name no process, only the "
			"cgroup and socket cookie tc sees\n");
}

/* Records go to the viewers first, then to the command */
static int shared_record(void *ctx, const struct ct_record *r)
{
	struct ct_live *l = ctx;

	if (l->share)
		ct_share_record(l->share, r, 0);
	return l->cmd.record(l->cmd.ctx, r);
}

static int shared_visit(void *ctx, const struct ct_record *r)
{
	struct ct_live *l = ctx;

	if (l->share)
		ct_share_record(l->share, r, 1);
	return l->cmd.visit ? l->cmd.visit(l->cmd.ctx, r) : 0;
}

static void shared_flush(void *ctx)
{
	struct ct_live *l = ctx;

	if (l->cmd.flush)
		l->cmd.flush(l->cmd.ctx);
}

/*
 * The viewers' part of a tick: the session's counters for their status (@whole_pass: a
 * pass of the table began and ended in this tick), and the flows scans leave in the table
 * while one wants them (switched between passes only).
 */
static void share_tick(struct ct_live *l, int whole_pass)
{
	struct ct_loss lost;
	__u64 flows, cap;

	if (!l->share)
		return;
	if (ct_session_losses(&l->s, &lost))
		memset(&lost, 0, sizeof(lost));
	ct_session_table(&l->s, &flows, &cap);
	ct_share_status(l->share, &lost, flows, cap, whole_pass);
	if (!ct_scan_midpass(&l->s.scan))
		ct_session_set_visit(&l->s, l->visits || l->cmd.visit ? shared_visit : NULL);
}

/* Publish what the session counted for the next scrape. */
static void publish(struct ct_live *l)
{
	/* the names stay those of the start: a rename does not start new series */
	if (!l->http)
		return;
	ct_session_metrics(&l->s, &l->snap);
	ct_share_counts(l->share, &l->snap.viewers, &l->snap.viewer_dropped);
	ct_metrics_apps_promote(&l->snap);
	ct_http_publish(l->http, &l->snap);
}

/* --metrics: listen before anything is attached, so that a busy port leaves nothing. */
static int start_metrics(struct ct_live *l, const struct ct_live_opts *c)
{
	struct ct_web_config *web = NULL;
	char err[512], where[80];

	if (ct_metrics_init(&l->snap, l->nifs, c->metrics_ports, c->nmetrics_ports)) {
		pr_warn("out of memory\n");
		return 1;
	}
	if (c->metrics_by &&
	    ct_metrics_apps_init(&l->snap, (enum ct_app_by)c->metrics_by, c->metrics_top)) {
		pr_warn("out of memory\n");
		return 1;
	}
	l->snap.version = CT_VERSION;
	for (int i = 0; i < l->nifs; i++)
		snprintf(l->snap.ifs[i].name, sizeof(l->snap.ifs[i].name), "%s", l->ifs[i].name);
	if (c->web_config) {
		web = calloc(1, sizeof(*web));
		if (!web || ct_web_config_load(c->web_config, web, err, sizeof(err))) {
			pr_warn("%s\n", web ? err : "out of memory");
			free(web);
			return 1;
		}
		pr_info("--metrics: %s%s\n", web->cert_pem ? "TLS" : "plain HTTP",
			web->nusers ? ", basic authentication" : "");
	}
	l->http = ct_http_open(c->metrics_addr, &l->snap, web, err, sizeof(err));
	if (!l->http) {
		pr_warn("%s\n", err);
		return 1;
	}
	ct_http_addr_str(c->metrics_addr, where, sizeof(where));
	pr_info("metrics at %s://%s/metrics\n", web && web->cert_pem ? "https" : "http", where);
	return 0;
}

static int drop_privs(struct ct_live *l, const struct ct_live_opts *c)
{
	int netlink = 0;
	char err[256];

	/* netlink attachments (tc, or XDP that replaced another) are removed by request */
	for (int i = 0; i < l->nifs; i++)
		netlink |= l->ifs[i].tc_netlink || l->ifs[i].xdp_nl >= 0;
	if (ct_privs_drop((netlink ? CT_KEEP_NET_ADMIN : 0) | CT_KEEP_MAP_READS |
			  (c->wait_iface ? CT_KEEP_ATTACH : 0), c->user, c->uid, c->gid, err,
			  sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	pr_info("capabilities dropped%s%s\n", c->wait_iface ? " but CAP_BPF and CAP_NET_ADMIN "
		"(--wait-interface attaches again)" : netlink ? " but CAP_NET_ADMIN (netlink)" :
		"", c->user ? ", now running as --user" : "");
	return 0;
}

/* watch's start line: what is watched, how, and how to see every close */
static void announce(const struct ct_live *l, const struct ct_live_opts *c)
{
	char names[CT_MAX_IFACES * 17] = "";
	size_t off = 0;

	for (int i = 0; i < l->nifs && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? "," : "",
					l->ifs[i].name);
	pr_note("watching %s (%s) for %s closes%s; Ctrl-C stops\n", names,
		l->xdp ? "xdp: what arrives on it, as on a mirror port" :
			 "tc: both directions of this host's traffic",
		c->all ? "all" : "abnormal", c->all ? "" : " (--all: every close)");
}

int ct_live_start(struct ct_live *l, const struct ct_live_opts *c)
{
	struct ct_session_opts so = { .out = c->out, .iface = iface_name, .iface_ctx = l,
				      .zones = c->zones };
	struct ct_rec_out shared = { .record = shared_record, .flush = shared_flush, .ctx = l };
	int ifindex[CT_MAX_IFACES];
	char err[512];

	memset(l, 0, sizeof(*l));
	l->xdp = c->xdp;
	l->xdp_mode = c->xdp_mode;
	l->wait_iface = c->wait_iface;
	l->cmd = c->out;
	if (c->share) {
		shared.visit = c->out.visit ? shared_visit : NULL;
		so.out = shared;
	}
	for (int i = 0; i < c->nifaces; i++) {
		if (ct_iface_open(&l->ifs[l->nifs], c->ifaces[i], err, sizeof(err))) {
			pr_warn("%s\n", err);
			return 1;
		}
		l->ifs[l->nifs].beside = c->beside;
		l->nifs++;
	}
	/* XDP sees ingress only: right on a mirror port, half of each connection on the host's */
	for (int i = 0; i < l->nifs && l->xdp; i++) {
		char addr[64];

		if (ct_iface_own_addr(l->ifs[i].name, addr, sizeof(addr)))
			pr_warn("%s: --mode xdp sees only what arrives on it, and it carries this "
				"host's own traffic (it has %s): closes come out wrong, half of each "
				"connection unseen; --mode tc sees both directions\n", l->ifs[i].name,
				addr);
	}
	if (ct_privs_check(err, sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	if (c->metrics && start_metrics(l, c))
		return 1;
	so.tally = l->http ? &l->snap : NULL;
	so.exp = c->exp;
	so.load.progs = l->xdp ? CT_PROG_XDP : CT_PROG_TC;
	for (int i = 0; i < l->nifs; i++)
		ifindex[i] = l->ifs[i].ifindex;
	so.load.ifindex = ifindex;
	so.load.nifs = l->nifs;
	if (!l->xdp) {
		/* this host's sockets pass on tc; a mirror port's (XDP) are other hosts' */
		so.load.owners = !ct_feature_off(CT_FEAT_OWNERS);
		if (!so.load.owners)
			pr_info("CLOSETRACE_DISABLE turns the socket owners off: closes name no "
				"application\n");
		else if (!(l->cgroups = ct_cgroups_open(NULL)))
			pr_info("no cgroup2 file system mounted here: closes name processes, not "
				"their units, containers or pods\n");
		else
			pr_debug("cgroup2 at %s: %u cgroups\n", ct_cgroups_mount(l->cgroups),
				 ct_cgroups_count(l->cgroups));
		so.cgroup = l->cgroups ? ct_cgroups_lookup : NULL;
		so.cgroup_ctx = l->cgroups;
		want_reasons(l, &so.load);
	}
	so.load.flows = c->table_size;
	so.load.storm_rate = c->storm_rate;
	so.load.tunnels = c->tunnels;
	/* viewers (top, diagnose) count every close: the kernel reports them all */
	so.load.emit_graceful = c->emit_graceful || c->share;
	so.load.wakeup_bytes = CT_WAKEUP_EVENTS * CT_EVENT_PLAIN_SIZE;
	if (ct_session_open(&l->s, &so, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	if (so.load.progs & CT_PROG_RESET)
		attach_reasons(l, &so.load);
	for (int i = 0; i < l->nifs && !ct_stop_signal; i++) {
		if (attach_one(l, &l->ifs[i], c->force, err, sizeof(err))) {
			pr_warn("%s\n", err);
			return 1;
		}
		l->attached++;
	}
	/* the viewers' sockets, made while this process still may */
	if (c->share && l->attached == l->nifs) {
		l->share = ct_share_open(c->ifaces, l->nifs, l->xdp, err, sizeof(err));
		if (!l->share)
			pr_warn("%s; no viewer can join this session\n", err);
		else
			pr_info("shared with local viewers at %s\n", ct_share_dir());
		ct_share_set_owners(l->share, l->state_link != NULL);
	}
	/* attached: every capability goes but what detaching netlink filters needs */
	if (drop_privs(l, c))
		return 1;
	/* threads keep the capabilities they had: the server's starts only now */
	if (l->http && ct_http_serve(l->http, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	/*
	 * Started: the programs --force replaced are let go. Until here, any failure (or a
	 * stop before every interface was attached) puts them back in ct_live_end().
	 */
	if (l->attached == l->nifs)
		for (int i = 0; i < l->nifs; i++)
			ct_attach_keep(&l->ifs[i]);
	if (c->announce)
		announce(l, c);
	else
		pr_info("watching %d interface%s in %s mode\n", l->nifs, l->nifs > 1 ? "s" : "",
			l->xdp ? "xdp" : "tc");
	publish(l);
	return 0;
}

int ct_live_tick(struct ct_live *l, int *scan_failed)
{
	int left = check_ifaces(l);
	/* a pass that begins in this tick and ends in it visited every flow since the last */
	int begins = !ct_scan_midpass(&l->s.scan);
	__u64 passes = l->s.scan.passes;

	*scan_failed = left && ct_session_scan(&l->s, CT_SCAN_EXPIRE) < 0;
	if (left)
		ct_session_report(&l->s);
	else
		pr_warn("no interface left to watch\n");
	share_tick(l, begins && l->s.scan.passes > passes);
	publish(l);
	return left;
}

int ct_live_run(struct ct_live *l, __u64 until_ns)
{
	__u64 next_scan = ct_mono_ns() + CT_SCAN_PERIOD_NS;
	int failed;

	/* a big table's expiry is gone through a slice a tick: a share of a core, not all */
	l->s.scan.budget_ns = CT_SCAN_BUDGET_NS;
	while (!ct_stop_signal && !l->s.stopped && (!until_ns || ct_mono_ns() < until_ns)) {
		if (ct_session_poll(&l->s, CT_LIVE_POLL_MS) < 0)
			return 1;
		if (l->share)
			l->visits = ct_share_service(l->share);
		if (ct_mono_ns() < next_scan)
			continue;
		ct_signals_note();
		if (!ct_live_tick(l, &failed))
			return 1;
		/* a scan slower than the period must not start the next one at once */
		next_scan = ct_mono_ns() + CT_SCAN_PERIOD_NS;
	}
	return 0;
}

void ct_live_end(struct ct_live *l, int final)
{
	for (int i = 0; i < l->nifs; i++)
		ct_detach(&l->ifs[i]);
	/* nothing ran if nothing was attached: no final states, no counters */
	if (l->attached) {
		ct_session_finish(&l->s, final ? CT_SCAN_OPEN : -1);
		ct_session_closes(&l->s, l->closes);
	}
	/* the viewers get what the end handed out, as far as their queues take it */
	ct_share_close(l->share);
	l->share = NULL;
	ct_http_stop(l->http);
	l->http = NULL;
	ct_metrics_free(&l->snap);
	bpf_link__destroy(l->reset_link);
	bpf_link__destroy(l->rx_link);
	bpf_link__destroy(l->state_link);
	bpf_link__destroy(l->retrans_link);
	l->reset_link = NULL;
	l->rx_link = NULL;
	l->state_link = NULL;
	l->retrans_link = NULL;
	ct_unload_resets(l->resets);
	l->resets = NULL;
	/* the reasons' names stay in use: diagnose names them after the end (@l is static) */
	ct_session_close(&l->s);
	ct_cgroups_free(l->cgroups);
	l->cgroups = NULL;
	if (ct_stop_signal)
		pr_info("stopped by signal %d\n", (int)ct_stop_signal);
}
