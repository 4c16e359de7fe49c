// SPDX-License-Identifier: BSD-3-Clause
/*
 * replay.c - `closetrace replay FILE...`: every packet of a capture goes through the same
 * XDP program as live traffic, with BPF_PROG_TEST_RUN, the capture's timestamps as the
 * flow clock. Kernel-decided closes come back through the ring buffer; a scan at each
 * second of capture time, and at the end of each file, decides the rest.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "clock.h"
#include "closetrace.h"
#include "closetrace.skel.h"
#include "filter.h"
#include "flows.h"
#include "loader.h"
#include "log.h"
#include "output.h"
#include "pcapin.h"
#include "replay.h"

/* Only headers matter, and test_run takes at most about a page: pass this much. */
#define CT_REPLAY_SNAP 1024
#define CT_SCAN_EVERY_NS 1000000000ull

struct ct_replay {
	struct closetrace *skel;
	struct ring_buffer *rb;
	struct ct_scanner scan;
	struct ct_expiry exp;
	struct ct_sink sink;
	int (*record)(void *ctx, const struct ct_record *r);
	void *ctx;
	const char *iface;		/* the current file's name, as the records' iface */
	int prog_fd;
	int stopped;			/* the sink refused more */
};

static int on_record(void *ctx, const struct ct_record *r)
{
	struct ct_replay *rp = ctx;

	if (rp->record(rp->ctx, r) < 0) {
		rp->stopped = 1;
		return -1;
	}
	return 0;
}

static const char *on_iface(void *ctx, __u32 ifindex)
{
	(void)ifindex;
	return ((struct ct_replay *)ctx)->iface;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct ct_replay *rp = ctx;
	struct ct_record r;

	if (len < sizeof(struct ct_event))
		return 0;
	ct_record_from_event(&r, data, 0, rp->iface);
	return on_record(rp, &r) < 0 ? -1 : 0;
}

static int scan(struct ct_replay *rp, enum ct_scan_mode mode)
{
	struct ct_clock clk;

	ct_clock_sync(rp->skel, 1, &clk);
	return ct_scan(&rp->scan, &rp->exp, &clk, rp->skel->bss->user_clock_ns, mode, &rp->sink);
}

static void set_clock(struct ct_replay *rp, __u64 ts)
{
	/* a capture may step back in time; the flow clock does not */
	if (ts < rp->skel->bss->user_clock_ns)
		ts = rp->skel->bss->user_clock_ns;
	rp->skel->bss->user_clock_ns = ts;
	rp->skel->bss->user_clock_tick = (__u32)(ts / CT_REPLAY_TICK_NS);
}

struct ct_replay *ct_replay_new(const struct ct_replay_opts *o, char *err, size_t errlen)
{
	struct ct_load_opts lo = { .progs = CT_PROG_XDP, .emit_graceful = 1, .user_clock = 1,
				   .flows = o->table_size };
	struct ct_replay *rp = calloc(1, sizeof(*rp));

	if (!rp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rp->exp = o->exp;
	rp->record = o->record;
	rp->ctx = o->ctx;
	rp->skel = ct_load(&lo, err, errlen);
	if (!rp->skel) {
		free(rp);
		return NULL;
	}
	rp->prog_fd = bpf_program__fd(rp->skel->progs.ct_xdp);
	rp->rb = ring_buffer__new(bpf_map__fd(rp->skel->maps.events), on_event, rp, NULL);
	if (!rp->rb || ct_scanner_init(&rp->scan, bpf_map__fd(rp->skel->maps.flows), 0)) {
		snprintf(err, errlen, "cannot set up the ring buffer or the flow scan");
		ct_replay_free(rp);
		return NULL;
	}
	rp->sink = (struct ct_sink){ .record = on_record, .iface = on_iface, .ctx = rp };
	return rp;
}

void ct_replay_free(struct ct_replay *rp)
{
	if (!rp)
		return;
	ct_scanner_free(&rp->scan);
	ring_buffer__free(rp->rb);
	if (rp->skel)
		ct_unload(rp->skel);
	free(rp);
}

int ct_replay_file(struct ct_replay *rp, const char *path)
{
	char err[512];
	struct ct_pcap cap;
	struct ct_frame fr;
	__u64 next_scan = 0;
	int ret = 0, r, first;

	if (ct_pcap_open(&cap, path, err, sizeof(err))) {
		fprintf(stderr, "closetrace: %s\n", err);
		return 1;
	}
	first = 1;

	while (!rp->stopped && (r = ct_pcap_next(&cap, &fr, err, sizeof(err))) != 0) {
		if (r < 0) {
			fprintf(stderr, "closetrace: %s\n", err);
			ret = 1;
			if (r == -1)
				break;	/* the rest of the file cannot be read */
			continue;
		}
		if (first) {
			/*
			 * A capture that starts where the last one ended (tcpdump -C / -G
			 * rotation) continues its flows; one that starts earlier is another
			 * capture: what was open is closed first.
			 */
			if (fr.ts_ns < rp->skel->bss->user_clock_ns && scan(rp, CT_SCAN_FLUSH) < 0)
				pr_warn("%s: cannot read the flow table\n", path);
			if (fr.ts_ns < rp->skel->bss->user_clock_ns)
				rp->skel->bss->user_clock_ns = 0;
			rp->iface = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
			next_scan = 0;
			first = 0;
		}
		set_clock(rp, fr.ts_ns);
		/* time moves first: what timed out before this packet ends before it counts */
		if (rp->skel->bss->user_clock_ns >= next_scan) {
			if (next_scan && scan(rp, CT_SCAN_EXPIRE) < 0)
				pr_warn("%s: cannot scan the flow table\n", path);
			next_scan = rp->skel->bss->user_clock_ns + CT_SCAN_EVERY_NS;
		}
		{
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = fr.data,
				    .data_size_in = fr.len < CT_REPLAY_SNAP ? fr.len : CT_REPLAY_SNAP,
				    .repeat = 1);

			if (bpf_prog_test_run_opts(rp->prog_fd, &o)) {
				fprintf(stderr, "closetrace: %s: packet %llu: the BPF program could "
					"not run on it (%s); skipped\n", path, cap.pktno, strerror(errno));
				ret = 1;
				continue;
			}
		}
		if (rp->skel->bss->last_result == CT_P_MALFORMED && fr.len < fr.wire_len) {
			fprintf(stderr, "closetrace: %s: packet %llu: cut by the snap length at %u "
				"of %u bytes, before the end of its TCP header; not counted\n",
				path, cap.pktno, fr.len, fr.wire_len);
			ret = 1;
		}
		ring_buffer__consume(rp->rb);
	}
	/* what was read is reported, whatever stopped the reading */
	ring_buffer__consume(rp->rb);
	pr_info("%s: %llu packets\n", path, cap.pktno);
	ct_pcap_close(&cap);
	return rp->stopped ? -1 : ret;
}

int ct_replay_finish(struct ct_replay *rp)
{
	__u64 cnt[CT_C_MAX], lost;
	int ret = 0;

	/* the end of the last capture: every flow still open is closed now */
	if (!rp->stopped && scan(rp, CT_SCAN_FLUSH) < 0) {
		fprintf(stderr, "closetrace: cannot read the flow table: %s\n", strerror(errno));
		ret = 1;
	}
	if (rp->stopped)
		return 0;

	if (ct_read_counters(rp->skel, cnt, CT_C_MAX))
		return 1;
	/* every flow created ended in a scan, in a restart, or by eviction */
	lost = cnt[CT_C_FLOWS] - cnt[CT_C_RESTARTS];
	lost = lost > rp->scan.removed ? lost - rp->scan.removed : 0;
	if (lost) {
		fprintf(stderr, "closetrace: %llu flows were evicted from the full flow table "
			"before they ended; raise --table-size\n", (unsigned long long)lost);
		ret = 1;
	}
	if (cnt[CT_C_RB_FAIL]) {
		fprintf(stderr, "closetrace: %llu events were lost (ring buffer full)\n",
			(unsigned long long)cnt[CT_C_RB_FAIL]);
		ret = 1;
	}
	pr_info("%llu packets, %llu TCP, %llu other, %llu malformed, %llu flows\n",
		(unsigned long long)cnt[CT_C_PACKETS], (unsigned long long)cnt[CT_C_TCP],
		(unsigned long long)cnt[CT_C_OTHER], (unsigned long long)cnt[CT_C_MALFORMED],
		(unsigned long long)cnt[CT_C_FLOWS]);
	return ret;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: closetrace replay [OPTIONS] FILE [FILE...]\n"
		"\n"
		"Runs the closetrace BPF program over pcap / pcapng captures (Ethernet, Linux\n"
		"cooked, BSD loopback, raw IP), capture time as the clock, and prints how the TCP\n"
		"connections in them ended. Needs root (BPF_PROG_TEST_RUN).\n"
		"\n"
		"Options:\n"
		"  -o, --output FMT       text (default) or json (NDJSON, one object per line)\n"
		"  -a, --all              every close, not only abnormal ones\n"
		"      --flows, --final   each flow's final state instead of its close\n"
		"  -f, --filter EXPR      only records matching EXPR, e.g. 'rst.count > 0 and\n"
		"                         fin.count = 0' (see README, \"Filters\")\n"
		"      --syn-timeout SECS close unanswered SYNs after SECS of silence (default %d)\n"
		"      --idle-timeout SECS close silent established flows after SECS (default %d)\n"
		"      --table-size N     flow-table entries (default %d)\n"
		"  -w, --wide             text columns wide enough for IPv6 addresses\n"
		"  -h, --help             this text\n"
		"\n"
		"EXAMPLES:\n"
		"  closetrace replay trace.pcap                  # abnormal closes in a capture\n"
		"  closetrace replay -o json trace.pcapng | jq .  # as NDJSON\n"
		"  closetrace replay --flows --all a.pcap b.pcap  # every flow's final counts\n"
		"  closetrace replay -f 'ip.srv in 10.0.0.0/8 and close = refused' t.pcap\n",
		CT_DEFAULT_SYN_TIMEOUT_S, CT_DEFAULT_IDLE_TIMEOUT_S, CT_DEFAULT_FLOWS);
}

static int print_record(void *ctx, const struct ct_record *r)
{
	return ct_output_record(ctx, r);
}

int cmd_replay(int argc, char **argv)
{
	enum { OPT_FLOWS = 256 };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "flows", no_argument, NULL, OPT_FLOWS },
		{ "filter", required_argument, NULL, 'f' },
		{ "final", no_argument, NULL, OPT_FLOWS },
		{ "syn-timeout", required_argument, NULL, CT_OPT_SYN },
		{ "idle-timeout", required_argument, NULL, CT_OPT_IDLE },
		{ "table-size", required_argument, NULL, CT_OPT_TABLE },
		{ "wide", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ct_output out = { .out = stdout };
	struct ct_replay_opts ro = { .record = print_record, .ctx = &out };
	struct ct_replay *rp;
	struct ct_common co;
	char err[256];
	int c, ret = 0, r;

	ct_common_init(&co);
	while ((c = getopt_long(argc, argv, CT_COMMON_SHORT "h", opts, NULL)) != -1) {
		r = ct_common_opt("replay", c, optarg, &out, &co);
		if (r == 2)
			return 2;
		if (r)
			continue;
		switch (c) {
		case OPT_FLOWS:
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
	if (optind >= argc)
		return ct_usage_error("replay", "no capture file given");

	ct_common_expiry(&co, &ro.exp);
	ro.table_size = (__u32)co.table;
	rp = ct_replay_new(&ro, err, sizeof(err));
	if (!rp) {
		fprintf(stderr, "closetrace: %s\n", err);
		return 1;
	}
	for (r = 0; optind < argc && r >= 0; optind++) {
		r = ct_replay_file(rp, argv[optind]);
		if (r > 0)
			ret = 1;
	}
	/* stdout went away (r < 0): stop quietly, there is nobody to tell */
	if (r >= 0)
		ret |= ct_replay_finish(rp);
	ct_replay_free(rp);
	ct_filter_free(out.filter);
	return ret;
}
