// SPDX-License-Identifier: BSD-3-Clause
/*
 * watch.c - `closetrace watch -i IFACE[,IFACE...]`: attaches to live interfaces (tc on
 * ingress and egress, or XDP on ingress), prints closes as the kernel decides them, scans
 * the flow table once a second for the closes only time can tell, and leaves the system
 * as it found it on exit. Also `closetrace cleanup`, for what a killed instance left.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "cli.h"
#include "clock.h"
#include "closetrace.h"
#include "closetrace.skel.h"
#include "flows.h"
#include "loader.h"
#include "log.h"
#include "output.h"

#define CT_MAX_IFACES 64
#define CT_SCAN_PERIOD_NS 1000000000ull
/* the reader is woken once this many events wait, or at the latest after one poll tick */
#define CT_WAKEUP_EVENTS 64
#define CT_POLL_MS 10

struct watch {
	struct closetrace *skel;
	struct ring_buffer *rb;
	struct ct_output out;
	struct ct_scanner scan;
	struct ct_expiry exp;
	struct ct_sink sink;
	struct ct_iface ifs[CT_MAX_IFACES];
	int nifs;
	int stopped;		/* the output went away */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int live_ifaces(struct watch *w)
{
	int left = 0;

	for (int i = 0; i < w->nifs; i++)
		left += !w->ifs[i].gone;
	return left;
}

/*
 * Say while running, not only at exit, when events were lost (ring buffer full) or flows
 * were evicted before they ended (table full): both mean closes that were not reported.
 */
static void report_losses(struct watch *w)
{
	static __u64 said_rb, said_evicted;
	__u64 c[CT_C_MAX], evicted;

	if (ct_read_counters(w->skel, c, CT_C_MAX))
		return;
	/* every flow created either ended in a scan, was replaced, is in the table, or
	 * was evicted */
	evicted = c[CT_C_FLOWS] - c[CT_C_RESTARTS] - w->scan.removed;
	evicted = evicted > w->scan.last_seen_flows ? evicted - w->scan.last_seen_flows : 0;
	evicted += c[CT_C_FLOW_FAIL];
	if (c[CT_C_RB_FAIL] > said_rb) {
		fprintf(stderr, "closetrace: %llu events lost so far: the ring buffer was full\n",
			(unsigned long long)c[CT_C_RB_FAIL]);
		said_rb = c[CT_C_RB_FAIL];
	}
	if (evicted > said_evicted + said_evicted / 10) {
		fprintf(stderr, "closetrace: %llu flows evicted before they ended: the flow "
			"table is full; raise --flows\n", (unsigned long long)evicted);
		said_evicted = evicted;
	}
}

static const char *iface_name(void *ctx, __u32 ifindex)
{
	struct watch *w = ctx;

	for (int i = 0; i < w->nifs; i++)
		if ((__u32)(w->ifs[i].ifindex & 0xfffff) == ifindex)
			return w->ifs[i].name;
	return "?";
}

static int on_record(void *ctx, const struct ct_record *r)
{
	struct watch *w = ctx;

	if (ct_output_record(&w->out, r) < 0) {
		w->stopped = 1;
		return -1;
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct watch *w = ctx;
	const struct ct_event *e = data;
	struct ct_record r;

	if (len < sizeof(*e))
		return 0;
	ct_record_from_event(&r, e, w->sink.to_wall, iface_name(w, CT_IFVLAN_IFINDEX(e->key.ifvlan)));
	return on_record(w, &r) < 0 ? -1 : 0;
}

static int scan(struct watch *w, enum ct_scan_mode mode)
{
	struct ct_clock clk;
	int err;

	err = ct_clock_sync(w->skel, 0, &clk);
	if (err)
		return err;
	/* wall clock = monotonic + offset; taken again each time in case the clock was set */
	w->sink.to_wall = (__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	return ct_scan(&w->scan, &w->exp, &clk, clock_ns(CLOCK_MONOTONIC), mode, &w->sink);
}

/*
 * Interfaces deleted while watched are reported once and dropped. A renamed one is the
 * same interface: it keeps being watched under its new name. Returns how many are left.
 */
static int check_ifaces(struct watch *w)
{
	char now[IF_NAMESIZE];

	for (int i = 0; i < w->nifs; i++) {
		struct ct_iface *ifc = &w->ifs[i];

		if (ifc->gone)
			continue;
		if (!if_indextoname((unsigned int)ifc->ifindex, now)) {
			ifc->gone = 1;
			ct_detach(ifc);
			fprintf(stderr, "closetrace: %s: interface disappeared; no longer watched\n",
				ifc->name);
			continue;
		}
		if (strcmp(now, ifc->name)) {
			pr_warn("%s: renamed to %s; still watched\n", ifc->name, now);
			snprintf(ifc->name, sizeof(ifc->name), "%s", now);
		}
	}
	return live_ifaces(w);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: closetrace watch -i IFACE[,IFACE...] [OPTIONS]\n"
		"\n"
		"Attaches to live interfaces and prints each abnormal TCP close as it happens.\n"
		"Needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON).\n"
		"\n"
		"Options:\n"
		"  -i, --interface LIST   interfaces to watch, comma-separated (repeatable)\n"
		"  -m, --mode MODE        tc (default): ingress and egress of this host's traffic;\n"
		"                         xdp: ingress only, for a mirror/TAP port or a gateway\n"
		"      --xdp-mode MODE    native or generic; default: native, else generic\n"
		"      --force            replace another XDP program (it is not put back)\n"
		"  -o, --output FMT       text (default) or json (NDJSON, one object per line)\n"
		"  -a, --all              every close, not only abnormal ones\n"
		"      --final            each flow's final state when it leaves the table, instead\n"
		"                         of closes; flows still open are printed on exit\n"
		"      --syn-timeout SECS close unanswered SYNs after SECS (default %d)\n"
		"      --idle-timeout SECS close silent flows after SECS (default %d)\n"
		"      --flows N          flow-table size (default %d; also --table-size)\n"
		"  -w, --wide             text columns wide enough for IPv6 addresses\n"
		"  -h, --help             this text\n"
		"\n"
		"Stops on SIGINT, SIGTERM or SIGHUP, detaching and printing the last events.\n"
		"\n"
		"EXAMPLES:\n"
		"  closetrace watch -i eth0                      # abnormal closes on eth0\n"
		"  closetrace watch -i eth0 -o json | jq .close  # as NDJSON\n"
		"  closetrace watch -i mirror0 --mode xdp --all  # a mirror port, every close\n",
		CT_DEFAULT_SYN_TIMEOUT_S, CT_DEFAULT_IDLE_TIMEOUT_S, CT_DEFAULT_FLOWS);
}

static int add_ifaces(char *list, char ***names, int *n)
{
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		if (*n >= CT_MAX_IFACES)
			return -1;
		(*names)[(*n)++] = tok;
	}
	return 0;
}

static void print_stats(struct watch *w)
{
	__u64 c[CT_C_MAX];

	if (ct_read_counters(w->skel, c, CT_C_MAX))
		return;
	pr_info("%llu packets, %llu TCP, %llu flows, %llu events lost, %llu malformed\n",
		(unsigned long long)c[CT_C_PACKETS], (unsigned long long)c[CT_C_TCP],
		(unsigned long long)c[CT_C_FLOWS], (unsigned long long)c[CT_C_RB_FAIL],
		(unsigned long long)c[CT_C_MALFORMED]);
	if (c[CT_C_RB_FAIL])
		fprintf(stderr, "closetrace: %llu events were lost: the ring buffer was full\n",
			(unsigned long long)c[CT_C_RB_FAIL]);
}

int cmd_watch(int argc, char **argv)
{
	enum { OPT_XDP_MODE = 256, OPT_FORCE, OPT_FINAL };
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "final", no_argument, NULL, OPT_FINAL },
		{ "syn-timeout", required_argument, NULL, CT_OPT_SYN },
		{ "idle-timeout", required_argument, NULL, CT_OPT_IDLE },
		{ "flows", required_argument, NULL, CT_OPT_TABLE },
		{ "table-size", required_argument, NULL, CT_OPT_TABLE },
		{ "wide", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct watch w;
	char *names_buf[CT_MAX_IFACES], **names = names_buf, err[512];
	struct ct_load_opts lo = { 0 };
	enum ct_xdp_mode xmode = CT_XDP_AUTO;
	struct ct_common co;
	int c, r, nnames = 0, xdp = 0, force = 0, ret = 0, attached = 0;
	__u64 next_scan;
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	memset(&w, 0, sizeof(w));
	w.out.out = stdout;
	ct_common_init(&co);
	while ((c = getopt_long(argc, argv, "i:m:" CT_COMMON_SHORT "h", opts, NULL)) != -1) {
		r = ct_common_opt("watch", c, optarg, &w.out, &co);
		if (r == 2)
			return 2;
		if (r)
			continue;
		switch (c) {
		case 'i':
			if (add_ifaces(optarg, &names, &nnames))
				return ct_usage_error("watch", "at most %d interfaces", CT_MAX_IFACES);
			break;
		case 'm':
			if (!strcmp(optarg, "tc"))
				xdp = 0;
			else if (!strcmp(optarg, "xdp"))
				xdp = 1;
			else
				return ct_usage_error("watch", "--mode takes tc or xdp, not '%s'", optarg);
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "native"))
				xmode = CT_XDP_NATIVE;
			else if (!strcmp(optarg, "generic"))
				xmode = CT_XDP_GENERIC;
			else
				return ct_usage_error("watch", "--xdp-mode takes native or generic");
			break;
		case OPT_FORCE:
			force = 1;
			break;
		case OPT_FINAL:
			w.out.flows = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		return ct_usage_error("watch", "unexpected argument '%s'", argv[optind]);
	if (!nnames)
		return ct_usage_error("watch", "-i IFACE is required");
	if (xmode != CT_XDP_AUTO && !xdp)
		return ct_usage_error("watch", "--xdp-mode goes with --mode xdp");

	for (int i = 0; i < nnames; i++) {
		for (int k = 0; k < i; k++)
			if (!strcmp(names[k], names[i]))
				return ct_usage_error("watch", "%s is given twice", names[i]);
		if (ct_iface_open(&w.ifs[w.nifs], names[i], err, sizeof(err))) {
			fprintf(stderr, "closetrace: %s\n", err);
			return 1;
		}
		w.nifs++;
	}

	ct_common_expiry(&co, &w.exp);
	lo.progs = xdp ? CT_PROG_XDP : CT_PROG_TC;
	lo.flows = (__u32)co.table;
	lo.emit_graceful = w.out.all || w.out.flows;
	lo.wakeup_bytes = CT_WAKEUP_EVENTS * sizeof(struct ct_event);
	w.skel = ct_load(&lo, err, sizeof(err));
	if (!w.skel) {
		fprintf(stderr, "closetrace: %s\n", err);
		return 1;
	}
	w.rb = ring_buffer__new(bpf_map__fd(w.skel->maps.events), on_event, &w, NULL);
	if (!w.rb || ct_scanner_init(&w.scan, bpf_map__fd(w.skel->maps.flows), 0)) {
		fprintf(stderr, "closetrace: cannot set up the ring buffer or the flow scan\n");
		ret = 1;
		goto out;
	}
	w.sink = (struct ct_sink){ .record = on_record, .iface = iface_name, .ctx = &w };
	w.sink.to_wall = (__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));

	/* signals first: an interrupted start still detaches what it attached */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (int i = 0; i < w.nifs && !stop_signal; i++) {
		int fd = bpf_program__fd(xdp ? w.skel->progs.ct_xdp : w.skel->progs.ct_tc);

		if (xdp ? ct_attach_xdp(&w.ifs[i], fd, xmode, force, err, sizeof(err)) :
			  ct_attach_tc(&w.ifs[i], fd, err, sizeof(err))) {
			fprintf(stderr, "closetrace: %s\n", err);
			ret = 1;
			goto out;
		}
		attached++;
	}
	pr_info("watching %d interface%s in %s mode\n", w.nifs, w.nifs > 1 ? "s" : "",
		xdp ? "xdp" : "tc");

	next_scan = clock_ns(CLOCK_MONOTONIC) + CT_SCAN_PERIOD_NS;
	while (!stop_signal && !w.stopped) {
		int n = ring_buffer__poll(w.rb, CT_POLL_MS);

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "closetrace: reading events failed: %s\n", strerror(-n));
			ret = 1;
			break;
		}
		/* events below the wakeup mark do not wake us: the poll tick picks them up */
		ring_buffer__consume(w.rb);
		if (clock_ns(CLOCK_MONOTONIC) < next_scan)
			continue;
		if (check_ifaces(&w) && scan(&w, CT_SCAN_EXPIRE) < 0)
			pr_warn("cannot scan the flow table\n");
		/* a scan slower than the period must not start the next one at once */
		next_scan = clock_ns(CLOCK_MONOTONIC) + CT_SCAN_PERIOD_NS;
		if (!live_ifaces(&w)) {
			fprintf(stderr, "closetrace: no interface left to watch\n");
			ret = 1;
			break;
		}
		report_losses(&w);
	}
out:
	for (int i = 0; i < w.nifs; i++)
		ct_detach(&w.ifs[i]);
	if (w.rb && !w.stopped) {
		ring_buffer__consume(w.rb);	/* the last events */
		if (w.out.flows && attached)
			scan(&w, CT_SCAN_OPEN);	/* final states of the flows still open */
	}
	if (w.skel && attached)
		print_stats(&w);
	ct_scanner_free(&w.scan);
	ring_buffer__free(w.rb);
	if (w.skel)
		ct_unload(w.skel);
	if (stop_signal)
		pr_info("stopped by signal %d\n", (int)stop_signal);
	return ret;
}

int cmd_cleanup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct if_nameindex *all = NULL;
	char *names_buf[CT_MAX_IFACES], **names = names_buf, err[256];
	int c, nnames = 0, total = 0, ret = 0, r;

	while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (add_ifaces(optarg, &names, &nnames))
				return ct_usage_error("cleanup", "at most %d interfaces", CT_MAX_IFACES);
			break;
		case 'h':
			printf("Usage: closetrace cleanup [-i IFACE[,IFACE...]]\n\n"
			       "Removes the tc filters and XDP programs a killed closetrace left on the\n"
			       "given interfaces (default: all). A running instance is left alone.\n\n"
			       "EXAMPLES:\n"
			       "  closetrace cleanup            # every interface\n"
			       "  closetrace cleanup -i eth0\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc)
		return ct_usage_error("cleanup", "unexpected argument '%s'", argv[optind]);
	if (!nnames) {
		all = if_nameindex();
		if (!all) {
			fprintf(stderr, "closetrace: cannot list interfaces: %s\n", strerror(errno));
			return 1;
		}
	}
	for (int i = 0; all ? !!all[i].if_index : i < nnames; i++) {
		const char *name = all ? all[i].if_name : names[i];
		int ifindex = all ? (int)all[i].if_index : (int)if_nametoindex(name);

		if (!ifindex) {
			fprintf(stderr, "closetrace: %s: no such interface\n", name);
			ret = 1;
			continue;
		}
		r = ct_cleanup(ifindex, name, err, sizeof(err));
		if (err[0]) {
			fprintf(stderr, "closetrace: %s\n", err);
			ret = 1;
		}
		if (r > 0)
			printf("%s: removed %d closetrace attachment%s\n", name, r, r > 1 ? "s" : "");
		total += r > 0 ? r : 0;
	}
	if (all)
		if_freenameindex(all);
	if (!total && !ret)
		printf("nothing to clean up\n");
	return ret;
}
