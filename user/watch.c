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

#include "attach.h"
#include "cli.h"
#include "closetrace.h"
#include "filter.h"
#include "flows.h"
#include "live.h"
#include "log.h"
#include "output.h"

#define CT_POLL_MS 10

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int on_record(void *ctx, const struct ct_record *r)
{
	return ct_output_record(ctx, r);
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
		"  -f, --filter EXPR      only closes matching EXPR, e.g. 'rst.count > 0 and\n"
		"                         fin.count = 0'; with -a among every close (README,\n"
		"                         \"Filters\", lists the fields)\n"
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
		"  closetrace watch -i mirror0 --mode xdp --all  # a mirror port, every close\n"
		"  closetrace watch -i eth0 -f 'close = refused and port.srv = 1194'\n",
		CT_DEFAULT_SYN_TIMEOUT_S, CT_DEFAULT_IDLE_TIMEOUT_S, CT_DEFAULT_FLOWS);
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
		{ "filter", required_argument, NULL, 'f' },
		{ "syn-timeout", required_argument, NULL, CT_OPT_SYN },
		{ "idle-timeout", required_argument, NULL, CT_OPT_IDLE },
		{ "flows", required_argument, NULL, CT_OPT_TABLE },
		{ "table-size", required_argument, NULL, CT_OPT_TABLE },
		{ "wide", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct ct_live l;
	char *names[CT_MAX_IFACES];
	struct ct_output out = { .out = stdout };
	struct ct_live_opts lo = { .names = names, .record = on_record, .ctx = &out };
	struct ct_common co;
	int c, r, ret = 0;
	__u64 next_scan;
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	ct_common_init(&co);
	while ((c = getopt_long(argc, argv, "i:m:" CT_COMMON_SHORT "h", opts, NULL)) != -1) {
		r = ct_common_opt("watch", c, optarg, &out, &co);
		if (r == 2)
			return 2;
		if (r)
			continue;
		switch (c) {
		case 'i':
			if (ct_live_add_ifaces(optarg, names, &lo.nnames))
				return ct_usage_error("watch", "at most %d interfaces", CT_MAX_IFACES);
			break;
		case 'm':
			if (!strcmp(optarg, "tc"))
				lo.xdp = 0;
			else if (!strcmp(optarg, "xdp"))
				lo.xdp = 1;
			else
				return ct_usage_error("watch", "--mode takes tc or xdp, not '%s'", optarg);
			break;
		case OPT_XDP_MODE:
			if (!strcmp(optarg, "native"))
				lo.xmode = CT_XDP_NATIVE;
			else if (!strcmp(optarg, "generic"))
				lo.xmode = CT_XDP_GENERIC;
			else
				return ct_usage_error("watch", "--xdp-mode takes native or generic");
			break;
		case OPT_FORCE:
			lo.force = 1;
			break;
		case OPT_FINAL:
			out.flows = 1;
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
	if (!lo.nnames)
		return ct_usage_error("watch", "-i IFACE is required");
	if (lo.xmode != CT_XDP_AUTO && !lo.xdp)
		return ct_usage_error("watch", "--xdp-mode goes with --mode xdp");
	for (int i = 0; i < lo.nnames; i++)
		for (int k = 0; k < i; k++)
			if (!strcmp(names[k], names[i]))
				return ct_usage_error("watch", "%s is given twice", names[i]);

	ct_common_expiry(&co, &lo.exp);
	lo.flows = (__u32)co.table;
	lo.emit_graceful = out.all || out.flows;

	/* signals first: an interrupted start still detaches what it attached */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (ct_live_start(&l, &lo, &stop_signal)) {
		ret = 1;
		goto out;
	}

	next_scan = ct_mono_ns() + CT_SCAN_PERIOD_NS;
	while (!stop_signal && !l.stopped) {
		r = ct_live_events(&l, CT_POLL_MS);
		if (r < 0) {
			fprintf(stderr, "closetrace: reading events failed: %s\n", strerror(-r));
			ret = 1;
			break;
		}
		if (ct_mono_ns() < next_scan)
			continue;
		r = ct_live_tick(&l);
		/* a scan slower than the period must not start the next one at once */
		next_scan = ct_mono_ns() + CT_SCAN_PERIOD_NS;
		if (!r) {
			fprintf(stderr, "closetrace: no interface left to watch\n");
			ret = 1;
			break;
		}
	}
out:
	ct_live_end(&l, out.flows);
	ct_filter_free(out.filter);
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
	char *names[CT_MAX_IFACES], err[256];
	int c, nnames = 0, total = 0, ret = 0, r;

	while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (ct_live_add_ifaces(optarg, names, &nnames))
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
