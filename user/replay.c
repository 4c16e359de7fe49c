// SPDX-License-Identifier: BSD-3-Clause
/*
 * replay.c - captures as a session's packets: every packet of a capture goes through the
 * XDP program's code, the capture's timestamps as the flow clock, in one of two engines
 * (engine.h): the flow code compiled into this process (the default: no privilege, no
 * system call a packet), or the BPF program itself with BPF_PROG_TEST_RUN (--engine bpf).
 * Kernel-decided closes come back through the ring buffer; a scan at each second of
 * capture time, and at the end of each file, decides the rest. Also the
 * `closetrace replay FILE...` command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closetrace.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "pcapin.h"
#include "privs.h"
#include "replay.h"
#include "session.h"

/* Only headers matter, and test_run takes at most about a page: pass this much. */
#define CT_REPLAY_SNAP 1024
/* test_run's least frame: an Ethernet header; the in-process engine keeps the same rule */
#define CT_REPLAY_MIN_FRAME 14
#define CT_SCAN_EVERY_NS 1000000000ull

struct ct_replay {
	struct ct_session s;
	const char *iface;		/* the current file's name, as the records' iface */
};

static const char *file_name(void *ctx, __u32 ifindex)
{
	(void)ifindex;
	return ((struct ct_replay *)ctx)->iface;
}

static void set_clock(struct ct_replay *rp, __u64 ts)
{
	struct ct_engine *e = &rp->s.eng;

	/* a capture may step back in time; the flow clock does not */
	if (ts < *e->clock_ns)
		ts = *e->clock_ns;
	*e->clock_ns = ts;
	*e->clock_tick = (__u32)(ts / CT_REPLAY_TICK_NS);
}

struct ct_replay *ct_replay_new(const struct ct_replay_opts *o, char *err, size_t errlen)
{
	struct ct_replay *rp = calloc(1, sizeof(*rp));
	struct ct_session_opts so = {
		.engine = o->engine,
		.load = { .progs = CT_PROG_XDP, .emit_graceful = 1, .user_clock = 1,
			  .flows = o->table_size, .storm_rate = o->storm_rate },
		.exp = o->exp, .out = o->out,
		.iface = file_name, .iface_ctx = rp,
	};

	if (!rp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ct_session_open(&rp->s, &so, err, errlen)) {
		ct_replay_free(rp);
		return NULL;
	}
	return rp;
}

void ct_replay_free(struct ct_replay *rp)
{
	if (!rp)
		return;
	ct_session_close(&rp->s);
	free(rp);
}

/* The first packet of a file: continue the last capture's flows, or close them first. */
static void start_file(struct ct_replay *rp, const char *path, __u64 ts)
{
	__u64 *clock = rp->s.eng.clock_ns;

	/*
	 * A capture that starts where the last one ended (tcpdump -C / -G rotation) continues
	 * its flows; one that starts earlier is another capture: what was open is closed
	 * first.
	 */
	if (ts < *clock) {
		ct_session_scan(&rp->s, CT_SCAN_FLUSH);
		*clock = 0;
	}
	rp->iface = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

/* Run one frame through the engine; 0, or 1 after saying what was wrong with it. */
static int run_frame(struct ct_replay *rp, const char *path, __u64 pktno,
		     const struct ct_frame *fr)
{
	int res;

	if (fr->len < CT_REPLAY_MIN_FRAME) {
		pr_warn("%s: packet %llu: %u bytes, shorter than an Ethernet header; skipped\n",
			path, (unsigned long long)pktno, fr->len);
		return 1;
	}
	res = ct_engine_run(&rp->s.eng, fr->data,
			    fr->len < CT_REPLAY_SNAP ? fr->len : CT_REPLAY_SNAP);
	if (res < 0) {
		pr_warn("%s: packet %llu: the BPF program could not run on it (%s); skipped\n",
			path, (unsigned long long)pktno, strerror(-res));
		return 1;
	}
	if (res == CT_P_MALFORMED && fr->len < fr->wire_len) {
		pr_warn("%s: packet %llu: cut by the snap length at %u of %u bytes, before the "
			"end of its TCP header; not counted\n", path, (unsigned long long)pktno,
			fr->len, fr->wire_len);
		return 1;
	}
	return 0;
}

int ct_replay_file(struct ct_replay *rp, const char *path)
{
	char err[512];
	struct ct_pcap cap;
	struct ct_frame fr;
	__u64 next_scan = 0, *clock = rp->s.eng.clock_ns;
	int ret = 0, r, first = 1;

	if (ct_pcap_open(&cap, path, err, sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	while (!rp->s.stopped && (r = ct_pcap_next(&cap, &fr, err, sizeof(err))) != 0) {
		if (r < 0) {
			pr_warn("%s\n", err);
			ret = 1;
			if (r == -1)
				break;	/* the rest of the file cannot be read */
			continue;
		}
		if (first)
			start_file(rp, path, fr.ts_ns);
		first = 0;
		set_clock(rp, fr.ts_ns);
		/* time moves first: what timed out before this packet ends before it counts */
		if (*clock >= next_scan) {
			if (next_scan)
				ct_session_scan(&rp->s, CT_SCAN_EXPIRE);
			next_scan = *clock + CT_SCAN_EVERY_NS;
		}
		ret |= run_frame(rp, path, cap.pktno, &fr);
		ct_session_drain(&rp->s);
	}
	/* what was read is reported, whatever stopped the reading */
	ct_session_drain(&rp->s);
	pr_info("%s: %llu packets\n", path, cap.pktno);
	ct_pcap_close(&cap);
	return rp->s.stopped ? -1 : ret;
}

int ct_replay_finish(struct ct_replay *rp)
{
	/* the end of the last capture: every flow still open is closed now */
	return ct_session_finish(&rp->s, CT_SCAN_FLUSH);
}

/* --- the command --------------------------------------------------------------------- */

static int run_replay(struct ct_config *c)
{
	struct ct_output_opts oo;
	struct ct_output out;
	struct ct_replay_opts ro = { .table_size = (__u32)c->table_size,
				     .storm_rate = (__u32)(c->storm_rate < 0 ? 0 : c->storm_rate), .out = {
					     .record = ct_output_take, .ctx = &out } };
	struct ct_replay *rp;
	char err[256];
	int ret = 0, r = 0;

	ct_config_expiry(c, &ro.exp);
	ro.engine = (enum ct_engine_kind)c->engine;
	/* only the kernel's engine needs privileges: the one in process, none */
	if (ro.engine == CT_ENGINE_BPF && ct_privs_check(err, sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	ct_config_output(c, &oo);
	if (ct_output_open(&out, &oo, 0))
		return 1;
	rp = ct_replay_new(&ro, err, sizeof(err));
	/* ready: the captures are read without any capability (and as --user) */
	if (!rp || ct_privs_drop(ro.engine == CT_ENGINE_BPF ? CT_KEEP_MAP_READS : 0, c->user,
				 c->uid, c->gid, err, sizeof(err))) {
		pr_warn("%s\n", err);
		ct_replay_free(rp);
		ct_output_close(&out);
		return 1;
	}
	for (int i = 0; i < c->nargs && r >= 0; i++) {
		r = ct_replay_file(rp, c->args[i]);
		if (r > 0)
			ret = 1;
	}
	/* stdout went away (r < 0): stop quietly, there is nobody to tell */
	if (r >= 0)
		ret |= ct_replay_finish(rp);
	ct_replay_free(rp);
	ct_output_close(&out);
	return ret;
}

static const struct ct_opt_group *const replay_groups[] = {
	&ct_grp_expiry, &ct_grp_table, &ct_grp_engine, &ct_grp_select, &ct_grp_output,
	&ct_grp_privs, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_replay = {
	.name = "replay",
	.synopsis = (const char *const[]){ "[OPTIONS] FILE [FILE...]", NULL },
	.summary = "classify the TCP connections of pcap / pcapng captures",
	.description =
		"Runs the code of closetrace's BPF program over pcap / pcapng captures (Ethernet,\n"
		"Linux cooked, BSD loopback, raw IP), capture time as the clock, and prints how\n"
		"the TCP connections in them ended. FILE - reads standard input. Needs no\n"
		"privilege: the flow code runs in this process (--engine bpf runs the BPF program\n"
		"itself in the kernel, with BPF_PROG_TEST_RUN, as root).",
	.groups = replay_groups,
	.min_args = 1,
	.max_args = -1,
	.args_meta = "a capture FILE",
	.examples = (const char *const[]){
		"closetrace replay trace.pcap                   # abnormal closes in a capture",
		"closetrace replay -o json trace.pcapng | jq .  # as NDJSON",
		"closetrace replay --final --all a.pcap b.pcap  # every flow's final counts",
		"closetrace replay -f 'ip.srv in 10.0.0.0/8 and close = refused' t.pcap",
		NULL },
	.run = run_replay,
};
