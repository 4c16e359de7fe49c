// SPDX-License-Identifier: BSD-3-Clause
/*
 * replay.c - captures as a session's packets: every packet of a capture goes through the
 * XDP program's code, the capture's timestamps as the flow clock, in one of two engines
 * (engine.h): the flow code compiled into this process (the default: no privilege, no
 * system call a packet), or the BPF program itself with BPF_PROG_TEST_RUN (--engine bpf).
 * Kernel-decided closes come back through the ring buffer; a scan at each second of
 * capture time, and at the end of each file, decides the rest. The command is
 * cmd_replay.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "closetrace.h"
#include "log.h"
#include "pcapin.h"
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
			  .flows = o->table_size, .storm_rate = o->storm_rate,
			  .tunnels = o->tunnels },
		.exp = o->exp, .out = o->out,
		.iface = file_name, .iface_ctx = rp, .zones = o->zones,
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
		return 2;
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

void ct_replay_closes(struct ct_replay *rp, unsigned long long *n)
{
	ct_session_closes(&rp->s, n);
}
