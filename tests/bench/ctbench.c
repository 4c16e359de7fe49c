// SPDX-License-Identifier: BSD-3-Clause
/*
 * ctbench.c - the measurements behind `make bench` (tests/bench/run.sh does the set-up):
 *   pktcost [hot|new|mix] per-packet cost of ct_xdp / ct_tc vs do-nothing programs (one
 *                         part alone: to profile it, e.g. under perf record)
 *   scan N                flow-table scan and expiry at N flows
 *   gen IFACE FLOWS COUNT [rst|vxlan]   send COUNT frames out of IFACE with BPF live
 *                         frames (vxlan: each inside VXLAN, VNI 42)
 *   table IFACE tc|xdp 40|16|slots|hot|sets ENTRIES   a flow table alone on IFACE's
 *                         ingress (floor.bpf.c): the kernel's hash map with 40- or 16-byte
 *                         keys, an array of 192- or 64-byte slots, or of sets of four
 *                         64-byte slots, ENTRIES flows; prints
 *                         "attached", detaches on SIGINT/SIGTERM
 *   churn-server ADDR THREADS fin|rst      accept and close, until killed
 *   churn-client ADDR THREADS SECONDS fin|rst   connect/close loops; prints conn/s
 *   lat                   read NDJSON closes on stdin; print count and latency p50/p99
 *   fmt N json|text [OUT] N synthetic kernel events through the user-space path (record,
 *                         format, stdout queue) to OUT (/dev/null): ns per event by stage
 * Every number is printed as "key value" lines for run.sh to tabulate.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "closetrace.h"
#include "closetrace.skel.h"
#include "ct_logic.h"
#include "flows.h"
#include "floor.skel.h"
#include "gen.skel.h"
#include "live.h"
#include "loader.h"
#include "options.h"
#include "format.h"
#include "output.h"
#include "record.h"
#include "writer.h"
#include "pkt.h"
#include "scan.skel.h"
#include "kfeatures.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "ctbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- per-packet cost -------------------------------------------------------------------- */

/* Mean ns per run of @fd on one frame, the best of @rounds runs of @repeat. */
static double cost(int fd, const void *frame, size_t len, __u32 repeat, int rounds)
{
	double best = 1e18;

	for (int r = 0; r < rounds; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
			    .repeat = repeat);

		if (bpf_prog_test_run_opts(fd, &o))
			die("test_run");
		if (o.duration < best)
			best = o.duration;
	}
	return best;
}

/* a frame of the multi-frame runs: the largest, VXLAN with 100 bytes of payload, is 204 */
#define FRAME_SLOT 256

/* the tunnel frame() wraps its frames in (enum ct_tunnel; 0 none), VNI 42 */
static int bench_tunnel;
#define BENCH_VNI 42

static size_t frame(uint8_t *buf, int family, int vlans, int sport, int from_client,
		    uint8_t flags, uint32_t payload)
{
	char c[64], s[64];
	struct pkt_layout lay;
	struct pkt_spec sp = { .family = family, .vlans = vlans, .flags = flags,
			       .payload = payload, .tunnel = bench_tunnel, .tun_id = BENCH_VNI,
			       .from_client = from_client };

	if (family == 4) {
		snprintf(c, sizeof(c), "10.%d.%d.1", (sport >> 16) & 255, (sport >> 8) & 255);
		snprintf(s, sizeof(s), "10.255.0.1");
	} else {
		snprintf(c, sizeof(c), "2001:db8::%x", sport);
		snprintf(s, sizeof(s), "2001:db8:ffff::1");
	}
	sp.src = from_client ? c : s;
	sp.dst = from_client ? s : c;
	sp.sport = (uint16_t)(from_client ? 10000 + (sport & 0xffff) % 50000 : 443);
	sp.dport = (uint16_t)(from_client ? 443 : 10000 + (sport & 0xffff) % 50000);
	return pkt_build(buf, &sp, &lay);
}

/* frame() into a slot of FRAME_SLOT bytes (pkt_build writes PKT_MAX) */
static size_t frame_slot(uint8_t *slot, int sport, int from_client, uint8_t flags,
			 uint32_t payload)
{
	uint8_t f[PKT_MAX];
	size_t len = frame(f, 4, 0, sport, from_client, flags, payload);

	if (len > FRAME_SLOT)
		die("frame_slot");
	memcpy(slot, f, len);
	return len;
}

static void run_once(int fd, const uint8_t *f, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (__u32)len, .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &o))
		die("test_run");
}

/* Establish flow @id through @fd: SYN, SYN-ACK, ACK, a data packet each way. */
static void establish(int fd, int family, int vlans, int id)
{
	uint8_t f[PKT_MAX];
	static const struct {
		int c;
		uint8_t fl;
		uint32_t pl;
	} seq[] = { { 1, 0x02, 0 }, { 0, 0x12, 0 }, { 1, 0x10, 0 }, { 1, 0x18, 100 },
		    { 0, 0x18, 100 } };

	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		run_once(fd, f, frame(f, family, vlans, id, seq[i].c, seq[i].fl, seq[i].pl));
}

/* Mean ns of one run per frame over @n frames (repeat 1 each): the multi-flow case. */
static double cost_many(int fd, uint8_t (*frames)[FRAME_SLOT], const size_t *lens, size_t n)
{
	__u64 total = 0;

	for (size_t i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[i],
			    .data_size_in = (__u32)lens[i], .repeat = 1);

		if (bpf_prog_test_run_opts(fd, &o))
			die("test_run");
		total += o.duration;
	}
	return (double)total / (double)n;
}

/* Fill the flow map with @n established flows, keyed as the frames of ids 0..n-1 are. */
static void prefill(struct closetrace *sk, __u32 n)
{
	const __u32 batch = 8192;
	struct ct_flow_key *keys = calloc(batch, sizeof(*keys));
	struct ct_flow *vals = calloc(batch, sizeof(*vals));
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	int fd = bpf_map__fd(sk->maps.flows);

	if (!keys || !vals)
		die("calloc");
	for (__u32 base = 0; base < n; base += batch) {
		__u32 cnt = n - base < batch ? n - base : batch;

		for (__u32 i = 0; i < cnt; i++) {
			__u32 id = base + i;
			struct ct_flow_key *k = &keys[i];
			int clt;

			memset(k, 0, sizeof(*k));
			k->addr[0][2] = k->addr[1][2] = htonl(0xffff);
			k->addr[0][3] = htonl(0x0a000001 | ((id >> 16) & 255) << 16 |
					      ((id >> 8) & 255) << 8);
			k->addr[1][3] = htonl(0x0aff0001);
			k->port[0] = (__u16)(10000 + (id & 0xffff) % 50000);
			k->port[1] = 443;
			clt = ct_key_canon(k);
			k->ifvlan = CT_IFVLAN(1, 0);
			if (bench_tunnel) {
				k->tun_type = (__u8)bench_tunnel;
				k->tun_id = BENCH_VNI;
			}
			memset(&vals[i], 0, sizeof(vals[i]));
			vals[i].state = CT_ST_ROLE | (clt ? CT_ST_CLIENT_HI : 0) | CT_ST_CT |
					CT_ST_HS_DONE | CT_ST_LETTER(clt, CT_L_SYN) |
					CT_ST_LETTER(!clt, CT_L_SYNACK) |
					CT_ST_LETTER(clt, CT_L_ACK) | CT_ST_LETTER(clt, CT_L_DATA) |
					CT_ST_LETTER(!clt, CT_L_DATA);
		}
		if (bpf_map_update_batch(fd, keys, vals, &cnt, &bo))
			die("map update batch");
	}
	free(keys);
	free(vals);
}

static void cmd_pktcost(const char *only)
{
	struct ct_load_opts lo = { .flows = 1 << 21, .ringbuf = 1 << 26 };
	struct closetrace *sk;
	struct floor *fl;
	char err[256];
	uint8_t f[PKT_MAX];
	size_t len;
	const __u32 rep = 2000000;
	struct {
		const char *name;
		int family, vlans, from_client;
		uint8_t flags;
		uint32_t payload;
		int tunnel;
	} hot[] = {
		{ "ack", 4, 0, 1, 0x18, 100, 0 },	{ "syn", 4, 0, 1, 0x02, 0, 0 },
		{ "fin", 4, 0, 1, 0x11, 0, 0 },		{ "rst", 4, 0, 1, 0x04, 0, 0 },
		{ "ack-ipv6", 6, 0, 1, 0x18, 100, 0 }, { "ack-vlan", 4, 1, 1, 0x18, 100, 0 },
		{ "ack-vxlan", 4, 0, 1, 0x18, 100, CT_TUN_VXLAN },
	};

	sk = ct_load(&lo, err, sizeof(err));
	/* the insert's map: as many entries as closetrace's table */
	fl = floor__open();
	if (fl) {	/* the slot arrays too, a power of two at least as large */
		__u32 n = 1;

		while (n < lo.flows)
			n <<= 1;
		fl->rodata->slot_mask = n - 1;
		fl->rodata->set_mask = n / 4 - 1;
		if (bpf_map__set_max_entries(fl->maps.slots, n) ||
		    bpf_map__set_max_entries(fl->maps.hotslots, n) ||
		    bpf_map__set_max_entries(fl->maps.sets, n / 4))
			die("slot arrays");
	}
	if (fl && (bpf_map__set_max_entries(fl->maps.table40, lo.flows) || floor__load(fl))) {
		floor__destroy(fl);
		fl = NULL;
	}
	if (!sk || !fl) {
		fprintf(stderr, "ctbench: %s\n", sk ? "cannot load the floor programs" : err);
		exit(1);
	}
	for (int p = 0; p < 2; p++) {
		int fd = bpf_program__fd(p ? sk->progs.ct_tc : sk->progs.ct_xdp);
		int ffd = bpf_program__fd(p ? fl->progs.floor_tc : fl->progs.floor_xdp);
		const char *pn = p ? "tc" : "xdp";

		for (size_t h = 0; h < sizeof(hot) / sizeof(hot[0]) && (!only || !strcmp(only, "hot"));
		     h++) {
			int id = 1000 + (int)h + p * 100;
			double ours, base;

			bench_tunnel = hot[h].tunnel;
			establish(fd, hot[h].family, hot[h].vlans, id);
			if (hot[h].flags & 0x01)	/* a FIN on a flow closed by FINs */
				run_once(fd, f, frame(f, hot[h].family, 0, id, 0, 0x11, 0));
			if (hot[h].flags & 0x04)	/* a RST on a flow already reset */
				run_once(fd, f, frame(f, hot[h].family, 0, id, 0, 0x04, 0));
			len = frame(f, hot[h].family, hot[h].vlans, id, hot[h].from_client,
				    hot[h].flags, hot[h].payload);
			ours = cost(fd, f, len, rep, 5);
			base = cost(ffd, f, len, rep, 5);
			printf("pkt %s %s %.1f %.1f\n", pn, hot[h].name, ours, base);
			bench_tunnel = 0;
		}
		/*
		 * New flows, each packet a new 5-tuple: a SYN (a flow, no event), then an
		 * orphan RST (a flow and an event). The difference is the event's cost.
		 */
		for (int kind = 0; kind < 2 && (!only || !strcmp(only, "new")); kind++) {
			const size_t n = 100000;
			static uint8_t frames[100000][FRAME_SLOT];
			static size_t lens[100000];
			double ours, base;

			for (size_t i = 0; i < n; i++)
				lens[i] = frame_slot(frames[i], 0x200000 + (int)i + p * 0x100000 +
						     kind * 0x400000, 1, kind ? 0x14 : 0x02, 0);
			ours = cost_many(fd, frames, lens, n);
			base = cost_many(ffd, frames, lens, n);
			printf("pkt %s %s %.1f %.1f\n", pn, kind ? "new-flow-event" : "new-flow",
			       ours, base);
			/*
			 * The table's own share: the same frames inserted, and nothing else
			 * done, into the kernel's hash map of the same size, and into slots of
			 * arrays (XDP hook). Once, in the first pass: the second's frames would
			 * find the map three quarters full and the slots taken.
			 */
			if (!kind && !p) {
				double fxdp = cost_many(bpf_program__fd(fl->progs.floor_xdp),
							frames, lens, n);

				printf("bare %.1f %.1f\n",
				       cost_many(bpf_program__fd(fl->progs.insert_xdp), frames, lens,
						 n), fxdp);
				/* a slot of an array taken over: the bound of a table of our own */
				printf("slot %.1f %.1f %.1f\n",
				       cost_many(bpf_program__fd(fl->progs.slots_xdp), frames, lens,
						 n),
				       cost_many(bpf_program__fd(fl->progs.hotslots_xdp), frames,
						 lens, n), fxdp);
				/* ... and one claimed in a set of four */
				printf("set %.1f %.1f\n",
				       cost_many(bpf_program__fd(fl->progs.sets_xdp), frames, lens,
						 n), fxdp);
			}
		}
	}
	/* the multi-flow mix: a pre-filled table, each packet a different flow */
	if (!only || !strcmp(only, "mix")) {
		/* the last: 10K flows again, each inside VXLAN (VNI 42) */
		static const __u32 sizes[] = { 1000, 10000, 100000, 1000000, 10000 };
		const size_t n = 200000;
		static uint8_t frames[200000][FRAME_SLOT];
		static size_t lens[200000];

		for (size_t s = 0; s < 5; s++) {
			struct closetrace *m;

			bench_tunnel = s == 4 ? CT_TUN_VXLAN : 0;
			lo.ringbuf = 1 << 20;
			m = ct_load(&lo, err, sizeof(err));
			if (!m)
				die(err);
			prefill(m, sizes[s]);
			srand(7);
			for (size_t i = 0; i < n; i++)
				lens[i] = frame_slot(frames[i], (int)((__u32)rand() % sizes[s]), 1,
						     0x18, 100);
			for (int p = 0; p < 2; p++) {
				int fd = bpf_program__fd(p ? m->progs.ct_tc : m->progs.ct_xdp);
				int ffd = bpf_program__fd(p ? fl->progs.floor_tc : fl->progs.floor_xdp);
				double ours = cost_many(fd, frames, lens, n);
				double base = cost_many(ffd, frames, lens, n);

				printf("%s %s %u %.1f %.1f\n", bench_tunnel ? "mixvx" : "mix",
				       p ? "tc" : "xdp", sizes[s], ours, base);
			}
			ct_unload(m);
		}
		bench_tunnel = 0;
	}
	floor__destroy(fl);
	ct_unload(sk);
}

/* ---- scan ----------------------------------------------------------------------------- */

static int count_record(void *ctx, const struct ct_record *r)
{
	(void)r;
	(*(__u64 *)ctx)++;
	return 0;
}

/*
 * One pass over @n flows when none has timed out, the slices watch makes of it, and one
 * pass when all have: read with batched lookups (@cut 0: top, the final pass, a kernel
 * without map iterators) or through the kernel's cut (scan.bpf.c: watch's expiry passes).
 */
static void scan_one_way(__u32 n, int cut)
{
	struct ct_load_opts lo = { .flows = n + n / 4, .progs = CT_PROG_XDP };
	struct ct_expiry e = { .syn_timeout_ns = 10ull * 1000000000ull,
			       .idle_timeout_ns = 300ull * 1000000000ull,
			       .linger_ns = 5ull * 1000000000ull };
	const char *how = cut ? "cut" : "batch";
	struct ct_scanner s;
	struct ct_clock clk;
	struct closetrace *sk;
	struct bpf_link *link = NULL;
	struct scan *sc = NULL;
	struct ct_map m;
	char err[256];
	__u64 records = 0, t0, t1, slice_max = 0;
	struct ct_scan_out out = { .rec = { .record = count_record, .ctx = &records } };
	int slices = 0;

	sk = ct_load(&lo, err, sizeof(err));
	if (!sk)
		die("set up");
	ct_map_kernel(&m, bpf_map__fd(sk->maps.flows), bpf_map__max_entries(sk->maps.flows), 0);
	if (ct_scanner_init(&s, &m, 0) || ct_clock_sync(sk, 0, &clk))
		die("set up");
	if (cut) {
		link = ct_load_scan(m.fd, &sc, err, sizeof(err));
		/* where the kernel refuses iterators (or they are off), the row says so */
		if (!link && (ct_feature_off(CT_FEAT_SCAN_ITER) || ct_probe_map_iter())) {
			printf("scan %s %u refused %s\n", how, n, err);
			ct_scanner_free(&s);
			ct_unload(sk);
			return;
		}
		if (!link)
			die(err);
		if (ct_scanner_use_cut(&s, bpf_link__fd(link), &sc->bss->scan_params))
			die("set up");
	}
	prefill(sk, n);	/* last_seen 0: long idle, each flow expires */
	/* a scan that finds nothing to do: last-seen "now" for every flow */
	{
		struct ct_clock fresh = clk;

		fresh.probe_tick = 0;	/* last_seen 0 reads as the probe time */
		t0 = now_ns();
		ct_scan(&s, &e, &fresh, fresh.probe_ns, CT_SCAN_EXPIRE, &out);
		t1 = now_ns();
		printf("scan %s %u keep %.1f %llu\n", how, n, (double)(t1 - t0) / 1e6,
		       (unsigned long long)s.last_seen_flows);
		/* watch's ticks: a slice of at most CT_SCAN_BUDGET_NS each, until a pass is done */
		s.budget_ns = CT_SCAN_BUDGET_NS;
		do {
			t0 = now_ns();
			ct_scan(&s, &e, &fresh, fresh.probe_ns, CT_SCAN_EXPIRE, &out);
			t1 = now_ns();
			slice_max = t1 - t0 > slice_max ? t1 - t0 : slice_max;
			slices++;
		} while (ct_scan_midpass(&s));
		s.budget_ns = 0;
		printf("scan %s %u slices %d %.1f\n", how, n, slices, (double)slice_max / 1e6);
	}
	t0 = now_ns();
	ct_scan(&s, &e, &clk, clk.probe_ns + 3600ull * 1000000000ull, CT_SCAN_EXPIRE,
		&out);
	t1 = now_ns();
	printf("scan %s %u expire %.1f %llu\n", how, n, (double)(t1 - t0) / 1e6,
	       (unsigned long long)records);
	ct_scanner_free(&s);
	if (link)
		ct_unload_scan(link, sc);
	ct_unload(sk);
}

static void cmd_scan(__u32 n)
{
	scan_one_way(n, 0);
	scan_one_way(n, 1);
}

/* ---- live frames ------------------------------------------------------------------------ */

/*
 * Fill in the TCP checksum of the untagged IPv4 frame @f (pkt_build leaves it 0): gen.bpf.c
 * keeps it right as it rewrites the frame, so that a host delivering the frames takes them.
 */
static void tcp4_csum(uint8_t *f)
{
	const uint8_t *ip = f + 14, *th = ip + 20;
	size_t tl = (size_t)(ip[2] << 8 | ip[3]) - 20;
	uint32_t s = 6 + (uint32_t)tl;

	for (int i = 12; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	for (size_t i = 0; i + 1 < tl; i += 2)
		s += (uint32_t)(th[i] << 8 | th[i + 1]);
	if (tl & 1)
		s += (uint32_t)(th[tl - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	f[14 + 20 + 16] = (uint8_t)(~s >> 8);
	f[14 + 20 + 17] = (uint8_t)~s;
}

static void cmd_gen(const char *ifname, __u32 flows, __u64 count, int rst, int vxlan)
{
	struct gen *g = gen__open();
	uint8_t f[PKT_MAX];
	size_t len;
	int ifindex = (int)if_nametoindex(ifname);
	__u64 t0, t1, done = 0;
	struct xdp_md ctx = { .ingress_ifindex = (__u32)ifindex };

	/* test_run wants the context to describe the frame: data_end is its length */

	if (!g || !ifindex)
		die("gen set up");
	g->rodata->nflows = flows;
	/* VXLAN: outer Ethernet, IPv4, UDP, VXLAN, then the inner Ethernet */
	g->rodata->l3_off = vxlan ? 14 + 20 + 8 + 8 + 14 : 14;
	if (gen__load(g))
		die("gen load");
	bench_tunnel = vxlan ? CT_TUN_VXLAN : 0;
	len = frame(f, 4, 0, 1, 1, rst ? 0x14 : 0x18, rst ? 0 : 64);
	bench_tunnel = 0;
	if (!vxlan)
		tcp4_csum(f);
	ctx.data_end = (__u32)len;
	t0 = now_ns();
	while (done < count) {
		__u32 chunk = count - done > 1u << 24 ? 1u << 24 : (__u32)(count - done);
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (__u32)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = chunk,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

		if (bpf_prog_test_run_opts(bpf_program__fd(g->progs.gen), &o))
			die("live frames");
		done += chunk;
	}
	t1 = now_ns();
	printf("gen %llu %.3f\n", (unsigned long long)count, (double)(t1 - t0) / 1e9);
	gen__destroy(g);
}

static volatile sig_atomic_t table_stop;

static void on_stop(int sig)
{
	(void)sig;
	table_stop = 1;
}

/* the flow tables of floor.bpf.c, by the name `table` takes */
static const char *const table_kinds[] = { "40", "16", "slots", "hot", "sets" };

static void cmd_table(const char *ifname, int xdp, const char *kind, __u32 entries)
{
	struct floor *fl = floor__open();
	int ifindex = (int)if_nametoindex(ifname), err, k = 0;
	struct bpf_program *prog;
	struct bpf_map *map;
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tco, .handle = 1, .priority = 1);

	while (k < 5 && strcmp(kind, table_kinds[k]))
		k++;
	if (!fl || !ifindex || k == 5)
		die("table set up");
	struct bpf_map *maps[] = { fl->maps.table40, fl->maps.table16, fl->maps.slots,
				   fl->maps.hotslots, fl->maps.sets };
	struct bpf_program *progs[][2] = {
		{ fl->progs.table40_tc, fl->progs.table40_xdp },
		{ fl->progs.table16_tc, fl->progs.table16_xdp },
		{ fl->progs.slots_tc, fl->progs.slots_xdp },
		{ fl->progs.hotslots_tc, fl->progs.hotslots_xdp },
		{ fl->progs.sets_tc, fl->progs.sets_xdp },
	};

	map = maps[k];
	prog = progs[k][xdp];
	if (k >= 2) {	/* the arrays: a power of two, the hash masked to it */
		while (entries & (entries - 1))
			entries &= entries - 1;
		if (k == 4)	/* four slots a set */
			entries = entries >= 4 ? entries / 4 : 1;
		fl->rodata->slot_mask = entries - 1;
		fl->rodata->set_mask = entries - 1;
	}
	if (bpf_map__set_max_entries(map, entries))
		die("table size");
	if (floor__load(fl))
		die("table load");
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	if (xdp) {
		err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), XDP_FLAGS_DRV_MODE, NULL);
	} else {
		err = bpf_tc_hook_create(&hook);
		if (!err || err == -EEXIST) {
			tco.prog_fd = bpf_program__fd(prog);
			err = bpf_tc_attach(&hook, &tco);
		}
	}
	if (err) {
		if (!xdp)
			bpf_tc_hook_destroy(&hook);
		die("table attach");
	}
	fprintf(stderr, "attached\n");
	while (!table_stop)	/* a signal between the test and a pause() would be lost */
		usleep(100000);
	if (xdp) {
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	} else {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	floor__destroy(fl);
}

/* ---- connection churn ------------------------------------------------------------------ */

struct churn {
	struct sockaddr_storage ss;
	socklen_t len;
	int rst;
	int lfd;
	volatile int stop;
	unsigned long long conns[64];
};

static socklen_t sockaddr_of(const char *a, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	fprintf(stderr, "ctbench: bad address %s\n", a);
	exit(2);
}

static void *acceptor(void *arg)
{
	struct churn *ch = arg;
	char b[16];

	for (;;) {
		int c = accept(ch->lfd, NULL, NULL);

		if (c < 0)
			continue;
		/*
		 * FIN close: the server closes right after the request, so TIME_WAIT stays
		 * on its side and the client never runs out of ports. RST close: the server
		 * waits for the client's abort.
		 */
		if (read(c, b, sizeof(b)) > 0 && ch->rst)
			while (read(c, b, sizeof(b)) > 0)
				;
		close(c);
	}
	return NULL;
}

static void *connector(void *arg)
{
	struct churn *ch = arg;
	struct linger l0 = { 1, 0 };
	char b[16];

	while (!ch->stop) {
		int fd = socket(ch->ss.ss_family, SOCK_STREAM, 0);

		if (fd < 0)
			continue;
		if (connect(fd, (struct sockaddr *)&ch->ss, ch->len) == 0 && write(fd, "x", 1) == 1) {
			if (ch->rst)
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &l0, sizeof(l0));
			else
				while (read(fd, b, sizeof(b)) > 0)
					;
			__atomic_fetch_add(&ch->conns[0], 1, __ATOMIC_RELAXED);
		}
		close(fd);
	}
	return NULL;
}

static void cmd_churn(int server, const char *addr, int threads, int seconds, int rst)
{
	static struct churn ch;
	pthread_t th[64];
	int one = 1;

	ch.len = sockaddr_of(addr, 9000, &ch.ss);
	ch.rst = rst;
	if (threads < 1 || threads > 64)
		threads = 4;
	if (server) {
		ch.lfd = socket(ch.ss.ss_family, SOCK_STREAM, 0);
		setsockopt(ch.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(ch.lfd, (struct sockaddr *)&ch.ss, ch.len) || listen(ch.lfd, 4096))
			die("listen");
		printf("ready\n");
		fflush(stdout);
		for (int i = 0; i < threads; i++)
			pthread_create(&th[i], NULL, acceptor, &ch);
		pause();
		return;
	}
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, connector, &ch);
	sleep((unsigned int)seconds);
	ch.stop = 1;
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("churn %llu %.1f\n", ch.conns[0], (double)ch.conns[0] / seconds);
}

/* ---- user-space event path ------------------------------------------------------------ */

#define FMT_POOL 4096		/* distinct events, cycled: more than the caches hold */
#define FMT_BATCH 256		/* events per simulated ring-buffer drain */

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* A close like the kernel sends: mostly IPv4 resets, some IPv6, a graceful one now and then. */
static void fmt_event(struct ct_event *e, unsigned int i, __u64 ts)
{
	static const __u8 kinds[] = { CT_CLOSE_ORPHAN_RST, CT_CLOSE_REFUSED,
				      CT_CLOSE_RESET_CLIENT, CT_CLOSE_RESET_SERVER,
				      CT_CLOSE_FIN_RESET, CT_CLOSE_SYN_RESET, CT_CLOSE_GRACEFUL };
	static const int hist[][2] = {
		{ 1, CT_L_SYN }, { 0, CT_L_SYNACK }, { 1, CT_L_ACK }, { 1, CT_L_DATA },
		{ 0, CT_L_DATA }, { 1, CT_L_FIN }, { 0, CT_L_RST },
	};
	int c = CT_EP_HI, s = CT_EP_LO, v6 = i % 8 == 7;
	__u32 x = i * 2654435761u;

	memset(e, 0, sizeof(*e));
	e->ts_ns = ts;
	e->type = CT_EV_CLOSE;
	e->close = kinds[i % sizeof(kinds)];
	e->rst_by = e->close == CT_CLOSE_GRACEFUL ? CT_BY_NONE : 1 + (x >> 7) % 2;
	e->client_ep = (__u8)c;
	if (v6) {
		e->key.addr[s][0] = htonl(0x20010db8);
		e->key.addr[c][0] = htonl(0x20010db8);
		e->key.addr[s][3] = htonl(1);
		e->key.addr[c][3] = htonl(x);
	} else {
		e->key.addr[0][2] = e->key.addr[1][2] = htonl(0xffff);
		e->key.addr[s][3] = htonl(0xc0000201);
		e->key.addr[c][3] = htonl(0x0a000000 | (x & 0xffffff));
	}
	e->key.port[s] = 443;
	e->key.port[c] = (__u16)(1024 + x % 60000);
	e->key.ifvlan = CT_IFVLAN(2, 0);
	e->flow.state = CT_ST_ROLE | CT_ST_CLIENT_HI | CT_ST_ENDED;
	if (e->close != CT_CLOSE_ORPHAN_RST) {
		for (int n = 0; n < 7; n++)
			e->flow.history |= ct_hist_code(hist[n][0] ? c : s, hist[n][1]) << (4 * n);
		e->flow.state |= CT_ST_CT | CT_ST_HS_DONE;
		e->flow.syn[c] = 1;
		e->flow.synack[s] = 1;
		e->flow.fin[c] = 1;
		e->flow.rst[s] = 1;
		e->flow.pkts[c] = 5 + x % 20;
		e->flow.pkts[s] = 7 + x % 300;
		e->flow.bytes[c] = 300 + x % 2000;
		e->flow.bytes[s] = 1000 + x % 400000;
		e->flow.first_ns = ts - 1000000 - x % 3000000000u;
	} else {
		e->flow.history = ct_hist_code(c, CT_L_RST);
		e->flow.rst[c] = 1;
		e->flow.pkts[c] = 1;
		e->flow.first_ns = ts;
	}
	e->flow.end_ns = ts;
}

static const char *fmt_iface(__u32 ifindex)
{
	static const struct { __u32 ifindex; const char *name; } ifs[] = { { 2, "eth0" } };

	for (size_t i = 0; i < sizeof(ifs) / sizeof(ifs[0]); i++)
		if (ifs[i].ifindex == ifindex)
			return ifs[i].name;
	return "?";
}

/* the text as watch prints it on an interface in tc mode */
static const struct ct_text_layout text_layout = { .iface = 5, .reasons = 1 };

static void fmt_row(const char *stage, __u64 n, __u64 dt)
{
	printf("fmt %-28s %7.1f ns/event %10.0f events/s\n", stage, (double)dt / (double)n,
	       (double)n * 1e9 / (double)dt);
}

/* The user-space half of an event's way out, stage by stage, then as a whole. */
static void cmd_fmt(__u64 n, int json, const char *path)
{
	struct ct_output_opts cfg = { .fmt = json ? CT_FMT_JSON : CT_FMT_TEXT, .all = 1 };
	struct ct_event *ev = calloc(FMT_POOL, sizeof(*ev));
	struct ct_record *rec = calloc(FMT_POOL, sizeof(*rec));
	char *lines = malloc((size_t)FMT_POOL * 1024);
	size_t *len = calloc(FMT_POOL, sizeof(*len));
	__s64 to_wall = 1795427998001000000ll;	/* 2026-11-23, as the kernel clock is offset */
	__u64 t0, sum = 0, base = 1000000000000ull;
	struct ct_output o;
	struct ct_writer *w;
	int fd, res;

	if (!ev || !rec || !lines || !len)
		die("calloc");
	/* the results go to the old stdout; what is measured goes to @path */
	res = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (res < 0 || fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || !(stdout = fdopen(res, "w")))
		die(path);
	close(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* kernel times one microsecond apart: a million events a second */
	for (unsigned int i = 0; i < FMT_POOL; i++)
		fmt_event(&ev[i], i, base + i * 1000ull);

	t0 = mono_ns();
	for (__u64 i = 0; i < n; i++) {
		struct ct_event *e = &ev[i % FMT_POOL];

		ct_record_from_event(&rec[i % FMT_POOL], e, to_wall,
				     fmt_iface(CT_IFVLAN_IFINDEX(e->key.ifvlan)));
		sum += rec[i % FMT_POOL].ts_ns;
	}
	fmt_row("record_from_event", n, mono_ns() - t0);

	t0 = mono_ns();
	for (__u64 i = 0; i < n; i++) {
		char buf[4096];
		struct ct_record *r = &rec[i % FMT_POOL];

		r->ts_ns += 1000ull * FMT_POOL * (i / FMT_POOL);	/* time moves on */
		r->start_ns += 1000ull * FMT_POOL * (i / FMT_POOL);
		sum += json ? ct_format_json(r, buf, sizeof(buf)) :
			      ct_format_text(r, &text_layout, buf, sizeof(buf));
		r->ts_ns -= 1000ull * FMT_POOL * (i / FMT_POOL);
		r->start_ns -= 1000ull * FMT_POOL * (i / FMT_POOL);
	}
	fmt_row(json ? "format_json" : "format_text", n, mono_ns() - t0);

	for (unsigned int i = 0; i < FMT_POOL; i++)
		len[i] = json ? ct_format_json(&rec[i], lines + (size_t)i * 1024, 1024) :
				ct_format_text(&rec[i], &text_layout, lines + (size_t)i * 1024, 1024);
	w = ct_writer_start(STDOUT_FILENO, 4u << 20);
	if (!w)
		die("ct_writer_start");
	/* the queue and its thread alone: what they take, waiting for room when it is full */
	t0 = mono_ns();
	for (__u64 i = 0; i < n; i++) {
		char *at;

		while (ct_writer_room(w, 1024, &at))
			ct_writer_flush(w);
		memcpy(at, lines + (i % FMT_POOL) * 1024, len[i % FMT_POOL]);
		ct_writer_commit(w, len[i % FMT_POOL]);
		if (i % FMT_BATCH == FMT_BATCH - 1)
			ct_writer_flush(w);
	}
	ct_writer_stop(w, 60000);
	fmt_row("queue+write (no drop)", n, mono_ns() - t0);

	if (ct_output_open(&o, &cfg, 1))
		die("ct_output_open");
	t0 = mono_ns();
	for (__u64 i = 0; i < n; i++) {
		struct ct_event *e = &ev[i % FMT_POOL];
		struct ct_record r;

		/* each round of the pool a little later */
		ct_record_from_event(&r, e, to_wall + (__s64)(1000ull * FMT_POOL * (i / FMT_POOL)),
				     fmt_iface(CT_IFVLAN_IFINDEX(e->key.ifvlan)));
		ct_output_record(&o, &r);
		if (i % FMT_BATCH == FMT_BATCH - 1)
			ct_output_flush(&o);
	}
	ct_output_flush(&o);
	ct_output_close(&o);
	fmt_row("whole path (record->output)", n, mono_ns() - t0);
	printf("fmt printed %llu of %llu (checksum %llu)\n", o.printed, (unsigned long long)n,
	       (unsigned long long)(sum & 0xffff));
	free(ev);
	free(rec);
	free(lines);
	free(len);
}

/* ---- event latency --------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void cmd_lat(void)
{
	static char line[2048];
	size_t cap = 1 << 20, n = 0;
	__u64 *lat = malloc(cap * sizeof(*lat));

	if (!lat)
		die("malloc");
	while (fgets(line, sizeof(line), stdin)) {
		struct timespec now;
		struct tm tm = { 0 };
		char *ts = strstr(line, "\"ts\":\"");
		unsigned int us;
		__u64 t, r;

		clock_gettime(CLOCK_REALTIME, &now);
		if (!ts || !strptime(ts + 6, "%Y-%m-%dT%H:%M:%S", &tm) ||
		    sscanf(ts + 6 + 20, "%6u", &us) != 1)
			continue;
		t = (__u64)timegm(&tm) * 1000000ull + us;
		r = (__u64)now.tv_sec * 1000000ull + (__u64)now.tv_nsec / 1000;
		if (n == cap) {
			cap *= 2;
			lat = realloc(lat, cap * sizeof(*lat));
			if (!lat)
				die("realloc");
		}
		lat[n++] = r > t ? r - t : 0;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("lat %zu %.2f %.2f %.2f\n", n, n ? lat[n / 2] / 1000.0 : 0.0,
	       n ? lat[n * 99 / 100] / 1000.0 : 0.0, n ? lat[n - 1] / 1000.0 : 0.0);
	free(lat);
}

int main(int argc, char **argv)
{
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (argc >= 2 && !strcmp(argv[1], "pktcost")) {
		cmd_pktcost(argc > 2 ? argv[2] : NULL);
	} else if (argc >= 3 && !strcmp(argv[1], "scan")) {
		cmd_scan((__u32)strtoul(argv[2], NULL, 10));
	} else if (argc >= 5 && !strcmp(argv[1], "gen")) {
		cmd_gen(argv[2], (__u32)strtoul(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
			argc > 5 && !strcmp(argv[5], "rst"), argc > 5 && !strcmp(argv[5], "vxlan"));
	} else if (argc >= 6 && !strcmp(argv[1], "table")) {
		cmd_table(argv[2], !strcmp(argv[3], "xdp"), argv[4],
			  (__u32)strtoul(argv[5], NULL, 10));
	} else if (argc >= 5 && !strcmp(argv[1], "churn-server")) {
		cmd_churn(1, argv[2], atoi(argv[3]), 0, !strcmp(argv[4], "rst"));
	} else if (argc >= 6 && !strcmp(argv[1], "churn-client")) {
		cmd_churn(0, argv[2], atoi(argv[3]), atoi(argv[4]), !strcmp(argv[5], "rst"));
	} else if (argc >= 4 && !strcmp(argv[1], "fmt")) {
		cmd_fmt(strtoull(argv[2], NULL, 10), !strcmp(argv[3], "json"),
			argc > 4 ? argv[4] : "/dev/null");
	} else if (argc >= 2 && !strcmp(argv[1], "lat")) {
		cmd_lat();
	} else {
		fprintf(stderr, "usage: see the header of tests/bench/ctbench.c\n");
		return 2;
	}
	return 0;
}
