// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_bpf.c - loads the real closetrace BPF object and drives its XDP and tc programs with
 * BPF_PROG_TEST_RUN over crafted packet sequences: every kernel-decided close kind over
 * IPv4/IPv6, untagged, one VLAN tag, QinQ, and tags in skb metadata (tc); retransmissions,
 * flow restarts, the FIN-then-RST case from the field, and malformed input. Asserts the
 * flow map, the ring-buffer events and the global counters. Also that the verifier's log
 * of a refused program reaches stderr at -v, as the loader's error message says, and not
 * without it. The expiry scans run the path this kernel gives (the kernel's cut where it
 * loads map iterators, batched lookups where it refuses them) and the fallback forced, each
 * test saying which it checked. Every test starts from the objects as loaded (setup()).
 *
 * Needs root (or CAP_BPF+CAP_NET_ADMIN). Without it the tests skip, unless
 * CLOSETRACE_REQUIRE_PRIV=1, where they fail; as root, a refusal is a failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "classify.h"
#include "clock.h"
#include "closetrace.h"
#include "closetrace.skel.h"
#include "ct_logic.h"
#include "engine.h"
#include "flows.h"
#include "iterprobe.skel.h"
#include "kfeatures.h"
#include "session.h"
#include "loader.h"
#include "log.h"
#include "pkt.h"
#include "reject.skel.h"
#include "scan.skel.h"
#include "vlan_meta.skel.h"

enum prog { P_XDP, P_TC, P_TC_META };
static const char *const prog_names[] = { "xdp", "tc", "tc-meta" };

struct variant {
	enum prog prog;
	int family;
	int vlans;
	int tunnel;	/* enum ct_tunnel: the frames come in one */
};

/* The id of the tunnel variants' frames (GTP-U: the client's TEID; the server's is one more) */
#define TUN_ID 0x5a5a5
#define TUN_ID_OF(t) ((t) == CT_TUN_ERSPAN ? 0x2a5 : TUN_ID)

#define MAX_EVENTS 64
#define MAX_FLOWS 64

static struct {
	struct closetrace *skel;
	struct vlan_meta *vm;
	struct ring_buffer *rb;
	struct ct_event ev[MAX_EVENTS];
	int nev;
	char why[256];		/* why the BPF object could not be loaded */
} F;

/* ---- fixture ---------------------------------------------------------------------- */

static int on_event(void *ctx, void *data, size_t len)
{
	(void)ctx;
	/* two sizes: outside tunnels, the record stops before the flow's tunnel part */
	assert_true(len == sizeof(struct ct_event) || len == CT_EVENT_PLAIN_SIZE);
	if (F.nev >= MAX_EVENTS)
		return 0;
	memset(&F.ev[F.nev], 0, sizeof(F.ev[F.nev]));
	memcpy(&F.ev[F.nev++], data, len);
	return 0;
}

static struct closetrace *load_opts(int emit_graceful, int user_clock, __u32 ringbuf,
				    __u32 wakeup)
{
	struct ct_load_opts lo = {
		.flows = 4096,
		.ringbuf = ringbuf,
		.wakeup_bytes = wakeup,
		.emit_graceful = emit_graceful,
		.user_clock = user_clock,
	};

	return ct_load(&lo, F.why, sizeof(F.why));
}

static struct closetrace *load(int emit_graceful, int user_clock)
{
	return load_opts(emit_graceful, user_clock, 1 << 16, 0);
}

static int attach_meta_helper(void)
{
	__u32 zero = 0;
	int fd;

	F.vm = vlan_meta__open();
	if (!F.vm)
		return -1;
	/* a tail call needs caller and callee of one kind: closetrace's is a tcx program */
	bpf_program__set_expected_attach_type(F.vm->progs.push_vlan, CT_BPF_TCX_INGRESS);
	if (vlan_meta__load(F.vm))
		return -1;
	fd = bpf_program__fd(F.skel->progs.ct_tc);
	return bpf_map_update_elem(bpf_map__fd(F.vm->maps.next), &zero, &fd, BPF_ANY);
}

/*
 * A test's own object (and ring buffer) in place of the fixture's, until swap_back(), which
 * teardown calls too: a test that fails half-way leaves nothing swapped.
 */
static struct {
	struct closetrace *skel;
	struct ring_buffer *rb;
	int in;
} swapped;

static void use(struct closetrace *skel, struct ring_buffer *rb)
{
	assert_false(swapped.in);
	swapped.skel = F.skel;
	swapped.rb = F.rb;
	swapped.in = 1;
	F.skel = skel;
	F.rb = rb;
	F.nev = 0;
}

static void swap_back(void)
{
	if (!swapped.in)
		return;
	ring_buffer__free(F.rb);
	ct_unload(F.skel);
	F.skel = swapped.skel;
	F.rb = swapped.rb;
	swapped.in = 0;
}

/*
 * Every map of an object as it was loaded: hash tables emptied, arrays zeroed, global
 * variables (.bss, .data) back to their image after load (taken by save_images()); .rodata
 * is frozen. A map type this cannot reset fails the setup, so that a new map is never left
 * out.
 */
struct image {
	const struct bpf_map *m;
	void *data;
	size_t n;
};

static struct image images[8];
static int nimages;

static void save_images(struct bpf_object *obj)
{
	struct bpf_map *m;
	const void *v;
	size_t n;

	bpf_object__for_each_map(m, obj) {
		if (!bpf_map__is_internal(m) || nimages == 8 ||
		    !(v = bpf_map__initial_value(m, &n)) || strstr(bpf_map__name(m), ".rodata"))
			continue;
		images[nimages].data = malloc(n);
		if (!images[nimages].data)
			continue;
		memcpy(images[nimages].data, v, n);
		images[nimages].m = m;
		images[nimages++].n = n;
	}
}

static int empty_hash(int fd, size_t key_size)
{
	char k[256];

	if (key_size > sizeof(k))
		return -1;
	/* from the first key each time: deleting under a cursor can skip entries */
	while (!bpf_map_get_next_key(fd, NULL, k))
		if (bpf_map_delete_elem(fd, k))
			return -1;
	return errno == ENOENT ? 0 : -1;
}

static int zero_array(int fd, __u32 entries, size_t value_size)
{
	void *zero = calloc(1, value_size);
	int ret = 0;

	if (!zero)
		return -1;
	for (__u32 i = 0; i < entries && !ret; i++)
		ret = bpf_map_update_elem(fd, &i, zero, BPF_ANY);
	free(zero);
	return ret;
}

static int reset_obj(struct bpf_object *obj)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		int fd = bpf_map__fd(m), ret = 0;
		size_t vs = bpf_map__value_size(m);

		if (bpf_map__is_internal(m)) {
			for (int i = 0; i < nimages; i++)
				if (images[i].m == m)
					/* mapped writable: libbpf's prototype is const */
					memcpy((void *)bpf_map__initial_value(m, &vs),
					       images[i].data, images[i].n);
			continue;
		}
		switch (bpf_map__type(m)) {
		case BPF_MAP_TYPE_HASH:
		case BPF_MAP_TYPE_PERCPU_HASH:
		case BPF_MAP_TYPE_LRU_HASH:
		case BPF_MAP_TYPE_LRU_PERCPU_HASH:
			ret = empty_hash(fd, bpf_map__key_size(m));
			break;
		case BPF_MAP_TYPE_ARRAY:
			ret = zero_array(fd, bpf_map__max_entries(m), vs);
			break;
		case BPF_MAP_TYPE_PERCPU_ARRAY:
			ret = zero_array(fd, bpf_map__max_entries(m), ((vs + 7) & ~7ul) * ncpu);
			break;
		case BPF_MAP_TYPE_RINGBUF:
			ret = ring_buffer__consume(F.rb) < 0;	/* the events left, read out */
			break;
		case BPF_MAP_TYPE_PROG_ARRAY:
			break;	/* the helper's tail call: set once, never changed by a test */
		default:
			print_error("the fixture cannot reset map %s (type %d)\n", bpf_map__name(m),
				    bpf_map__type(m));
			return -1;
		}
		if (ret) {
			print_error("cannot reset map %s: %s\n", bpf_map__name(m), strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The flows in the fixture's table, counted without a limit. */
static long table_count(void)
{
	struct ct_flow_key k, next;
	long n = 0;

	while (!bpf_map_get_next_key(bpf_map__fd(F.skel->maps.flows), n ? &k : NULL, &next)) {
		k = next;
		n++;
	}
	return n;
}

/*
 * Before each test: the fixture's objects (loaded by the first test, kept for the others)
 * exactly as loaded - an empty flow table, zeroed counters, nothing in the ring buffer,
 * the clock at 1 s - checked, so that what a failed test left cannot change another's
 * result. The objects a test swaps in are destroyed after it, whatever it did.
 */
static int setup(void **state)
{
	(void)state;
	if (!F.skel) {
		F.skel = load(1, 1);
		if (!F.skel)
			return 0;	/* the test then skips or fails, see need_priv() */
		F.rb = ring_buffer__new(bpf_map__fd(F.skel->maps.events), on_event, NULL,
					NULL);
		if (!F.rb) {
			print_error("cannot set up the ring buffer: %s\n", strerror(errno));
			return -1;
		}
		if (attach_meta_helper()) {
			print_error("cannot load the VLAN helper program: %s\n", strerror(errno));
			return -1;
		}
		save_images(F.skel->obj);
		save_images(F.vm->obj);
	}
	if (reset_obj(F.skel->obj) || reset_obj(F.vm->obj))
		return -1;
	F.nev = 0;
	F.skel->bss->user_clock_ns = 1000000000ull;
	F.skel->bss->user_clock_tick = 1000;
	if (table_count()) {
		print_error("the flow table is not empty after the reset\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	swap_back();
	unsetenv("CLOSETRACE_DISABLE");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ring_buffer__free(F.rb);
	vlan_meta__destroy(F.vm);
	if (F.skel)
		ct_unload(F.skel);
	for (int i = 0; i < nimages; i++)
		free(images[i].data);
	return 0;
}

/*
 * The BPF tests skip only where closetrace could not load for want of privileges, and say so;
 * as root, a kernel that refuses the object is a failure. CLOSETRACE_REQUIRE_PRIV=1 (CI)
 * fails the skip too.
 */
static void need_priv(void)
{
	const char *req = getenv("CLOSETRACE_REQUIRE_PRIV");
	static int said;

	if (F.skel)
		return;
	if (geteuid() == 0)
		fail_msg("the kernel refused closetrace's BPF object, as root: %s", F.why);
	if (req && !strcmp(req, "1"))
		fail_msg("BPF tests cannot run: %s (CLOSETRACE_REQUIRE_PRIV=1)", F.why);
	if (!said++)
		print_message("skipping the BPF tests: %s; run them as root\n", F.why);
	skip();
}

/* ---- running packets ----------------------------------------------------------------- */

static int prog_fd(enum prog p)
{
	switch (p) {
	case P_XDP:
		return bpf_program__fd(F.skel->progs.ct_xdp);
	case P_TC:
		return bpf_program__fd(F.skel->progs.ct_tc);
	default:
		return bpf_program__fd(F.vm->progs.push_vlan);
	}
}

/* Run one frame through @p; assert the verdict, and that the bytes came back unchanged. */
static void run_frame(enum prog p, const uint8_t *frame, size_t len)
{
	uint8_t out[PKT_MAX + 64];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int err = bpf_prog_test_run_opts(prog_fd(p), &o);

	assert_int_equal(err, 0);
	if (p == P_XDP)
		assert_int_equal(o.retval, XDP_PASS);
	else
		assert_int_equal((int)o.retval, TC_ACT_UNSPEC);
	if (p != P_TC_META) {	/* the helper itself adds tags; closetrace must not */
		assert_int_equal(o.data_size_out, len);
		assert_memory_equal(out, frame, len);
	}
	F.skel->bss->user_clock_ns += 1000000;	/* 1 ms between packets */
	F.skel->bss->user_clock_tick += 1;
}

struct conn {
	const struct variant *v;
	char c_ip[64], s_ip[64];
	uint16_t c_port, s_port;
	uint32_t c_seq, s_seq;
};

static void conn_init(struct conn *cn, const struct variant *v, int n)
{
	memset(cn, 0, sizeof(*cn));
	cn->v = v;
	if (v->family == 4) {
		snprintf(cn->c_ip, sizeof(cn->c_ip), "192.0.2.%d", 10 + n);
		snprintf(cn->s_ip, sizeof(cn->s_ip), "198.51.100.%d", 20 + n);
	} else {
		snprintf(cn->c_ip, sizeof(cn->c_ip), "2001:db8:1::%x", 0x10 + n);
		snprintf(cn->s_ip, sizeof(cn->s_ip), "2001:db8:2::%x", 0x20 + n);
	}
	cn->c_port = (uint16_t)(40000 + n);
	cn->s_port = 443;
	cn->c_seq = 1000;
	cn->s_seq = 5000;
}

#define FROM_C 1
#define FROM_S 0

static void send_pkt(struct conn *cn, int from_client, uint8_t flags, uint32_t payload)
{
	const struct variant *v = cn->v;
	struct pkt_spec s = {
		.family = v->family,
		.vlans = v->prog == P_TC_META ? 0 : v->vlans,
		.src = from_client ? cn->c_ip : cn->s_ip,
		.dst = from_client ? cn->s_ip : cn->c_ip,
		.sport = from_client ? cn->c_port : cn->s_port,
		.dport = from_client ? cn->s_port : cn->c_port,
		.flags = flags,
		.payload = payload,
		.seq = from_client ? cn->c_seq : cn->s_seq,
		.tunnel = v->tunnel,
		.tun_id = TUN_ID_OF(v->tunnel) + (v->tunnel == CT_TUN_GTPU && !from_client),
		.from_client = from_client,
	};
	uint8_t frame[PKT_MAX];
	struct pkt_layout lay;
	size_t len = pkt_build(frame, &s, &lay);

	assert_true(len > 0);
	if (v->prog == P_TC_META) {
		/* pushed inner first: the last push is the outermost, left in metadata */
		F.vm->bss->push_vid[0] = v->vlans == 2 ? 200 : v->vlans == 1 ? 100 : 0;
		F.vm->bss->push_vid[1] = v->vlans == 2 ? 100 : 0;
	}
	run_frame(v->prog, frame, len);
	*(from_client ? &cn->c_seq : &cn->s_seq) += payload + !!(flags & (CT_TH_SYN | CT_TH_FIN));
}

#define C(cn, fl, n) send_pkt(cn, FROM_C, fl, n)
#define S(cn, fl, n) send_pkt(cn, FROM_S, fl, n)
#define SYN CT_TH_SYN
#define ACK CT_TH_ACK
#define FIN CT_TH_FIN
#define RST CT_TH_RST
#define PSH CT_TH_PSH

/* ---- reading state back --------------------------------------------------------------- */

static int flows_dump(struct ct_flow_key *keys, struct ct_flow *vals)
{
	int fd = bpf_map__fd(F.skel->maps.flows);
	struct ct_flow_key k, next;
	int n = 0;

	while (n < MAX_FLOWS && !bpf_map_get_next_key(fd, n ? &k : NULL, &next)) {
		assert_int_equal(bpf_map_lookup_elem(fd, &next, &vals[n]), 0);
		keys[n++] = next;
		k = next;
	}
	return n;
}

static void counters(__u64 *c)
{
	assert_int_equal(ct_read_counters(F.skel, c, CT_C_MAX), 0);
}

/* The canonical key of @cn (interface and VLAN left 0) and the endpoint of its client. */
static int conn_key(const struct conn *cn, struct ct_flow_key *k)
{
	int fam = cn->v->family == 4 ? AF_INET : AF_INET6;

	memset(k, 0, sizeof(*k));
	if (fam == AF_INET) {
		k->addr[0][2] = k->addr[1][2] = htonl(0xffff);
		assert_int_equal(inet_pton(fam, cn->c_ip, &k->addr[0][3]), 1);
		assert_int_equal(inet_pton(fam, cn->s_ip, &k->addr[1][3]), 1);
	} else {
		assert_int_equal(inet_pton(fam, cn->c_ip, k->addr[0]), 1);
		assert_int_equal(inet_pton(fam, cn->s_ip, k->addr[1]), 1);
	}
	k->port[0] = cn->c_port;
	k->port[1] = cn->s_port;
	return ct_key_canon(k);
}

static void assert_key(const struct conn *cn, const struct ct_flow_key *got)
{
	struct ct_flow_key want;

	conn_key(cn, &want);
	/* test_run hands both programs the loopback device */
	want.ifvlan = CT_IFVLAN(1, cn->v->vlans ? 100 : 0);
	want.tun_type = (__u8)cn->v->tunnel;
	/* GTP-U's TEIDs are the flow's, by side, not the key's */
	want.tun_id = cn->v->tunnel && cn->v->tunnel != CT_TUN_GTPU &&
		      cn->v->tunnel != CT_TUN_TEREDO ? TUN_ID_OF(cn->v->tunnel) : 0;
	assert_memory_equal(&want, got, sizeof(want));
}

/* Per-side counts, client first. */
struct side_counts {
	__u32 syn[2], synack[2], fin[2], rst[2];
	__u64 pkts[2], bytes[2];
};

static void assert_counts(const struct ct_flow *f, int clt, const struct side_counts *w)
{
	int ep[2] = { clt, !clt };

	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->syn[ep[i]], w->syn[i]);
		assert_int_equal(f->synack[ep[i]], w->synack[i]);
		assert_int_equal(f->fin[ep[i]], w->fin[i]);
		assert_int_equal(f->rst[ep[i]], w->rst[i]);
		assert_int_equal(f->pkts[ep[i]], w->pkts[i]);
		assert_int_equal(f->bytes[ep[i]], w->bytes[i]);
	}
}

struct expect {
	__u8 close;
	__u8 rst_by;
	const char *history;
	int ct;
	struct side_counts map;	/* in the flow map at the end */
	struct side_counts ev;	/* in the event's snapshot */
};

/* One flow, ended with one event, as @w says. */
static void check_flow(const struct conn *cn, const struct expect *w)
{
	struct ct_flow_key keys[MAX_FLOWS], k;
	struct ct_flow vals[MAX_FLOWS];
	char hist[CT_HIST_MAX + 1];
	__u64 c[CT_C_MAX];
	int clt, n;

	ring_buffer__consume(F.rb);
	n = flows_dump(keys, vals);
	assert_int_equal(n, 1);
	clt = conn_key(cn, &k);
	assert_key(cn, &keys[0]);

	assert_true(vals[0].state & CT_ST_ENDED);
	assert_int_equal(vals[0].close, w->close);
	assert_int_equal(vals[0].first_ns, 1000000000ull);
	assert_true(vals[0].end_ns >= vals[0].first_ns);
	assert_int_equal(vals[0].end_ns, F.ev[0].ts_ns);
	/* last packet: one tick (1 ms here) before the clock's current reading */
	assert_int_equal(vals[0].last_seen, F.skel->bss->user_clock_tick - 1);
	assert_int_equal(ct_client_ep(vals[0].state), clt);
	assert_int_equal(!!(vals[0].state & CT_ST_CT), w->ct);
	ct_history_str(vals[0].history, clt, hist, sizeof(hist));
	assert_string_equal(hist, w->history);
	assert_counts(&vals[0], clt, &w->map);

	assert_int_equal(F.nev, 1);
	assert_int_equal(F.ev[0].type, CT_EV_CLOSE);
	assert_int_equal(F.ev[0].close, w->close);
	assert_int_equal(F.ev[0].rst_by, w->rst_by);
	assert_int_equal(F.ev[0].client_ep, clt);
	assert_memory_equal(&F.ev[0].key, &keys[0], sizeof(keys[0]));
	assert_true(F.ev[0].flow.state & CT_ST_ENDED);
	assert_true(F.ev[0].ts_ns >= F.ev[0].flow.first_ns);
	assert_counts(&F.ev[0].flow, clt, &w->ev);

	counters(c);
	assert_int_equal(c[CT_C_CLOSE_BASE + w->close], 1);
	assert_int_equal(c[CT_C_FLOWS], 1);
	assert_int_equal(c[CT_C_MALFORMED], 0);
	assert_int_equal(c[CT_C_RB_FAIL], 0);
	assert_int_equal(c[CT_C_TCP], c[CT_C_PACKETS]);
	assert_int_equal(c[CT_C_VLAN], cn->v->vlans ? c[CT_C_PACKETS] : 0);
	assert_int_equal(c[CT_C_HANDSHAKES], w->ct);
	/* global counts by side agree with the flow's */
	assert_int_equal(c[CT_C_FIN_CLT], w->map.fin[0]);
	assert_int_equal(c[CT_C_FIN_SRV], w->map.fin[1]);
	assert_int_equal(c[CT_C_RST_CLT], w->map.rst[0]);
	assert_int_equal(c[CT_C_RST_SRV], w->map.rst[1]);
	assert_int_equal(c[CT_C_SYN_CLT] + c[CT_C_SYN_SRV], w->map.syn[0] + w->map.syn[1]);
	assert_int_equal(c[CT_C_SYNACK_CLT] + c[CT_C_SYNACK_SRV],
			 w->map.synack[0] + w->map.synack[1]);
	/* a completed handshake lets data packets take the short path */
	if (w->ct)
		assert_true(vals[0].state & CT_ST_HS_DONE);
}

/* ---- one scenario per kernel-decided close ---------------------------------------------- */

static void t_graceful(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_GRACEFUL, .rst_by = CT_BY_NONE, .history = "ShADadFf", .ct = 1,
		.map = { .syn = { 1, 0 }, .synack = { 0, 1 }, .fin = { 1, 1 },
			 .pkts = { 5, 4 }, .bytes = { 100, 200 } },
		.ev = { .syn = { 1, 0 }, .synack = { 0, 1 }, .fin = { 1, 1 },
			.pkts = { 4, 4 }, .bytes = { 100, 200 } },
	};

	need_priv();
	conn_init(&cn, *state, 1);
	C(&cn, SYN, 0);
	S(&cn, SYN | ACK, 0);
	C(&cn, ACK, 0);
	C(&cn, ACK | PSH, 100);
	S(&cn, ACK, 0);
	S(&cn, ACK | PSH, 200);
	C(&cn, FIN | ACK, 0);
	S(&cn, FIN | ACK, 0);
	C(&cn, ACK, 0);
	check_flow(&cn, &w);
}

static void t_refused(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_REFUSED, .rst_by = CT_BY_SRV, .history = "Sr",
		.map = { .syn = { 1, 0 }, .rst = { 0, 1 }, .pkts = { 1, 1 } },
		.ev = { .syn = { 1, 0 }, .rst = { 0, 1 }, .pkts = { 1, 1 } },
	};

	need_priv();
	conn_init(&cn, *state, 2);
	C(&cn, SYN, 0);
	S(&cn, RST | ACK, 0);
	check_flow(&cn, &w);
}

static void t_reset_client(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_RESET_CLIENT, .rst_by = CT_BY_CLT, .history = "ShADR", .ct = 1,
		.map = { .syn = { 1, 0 }, .synack = { 0, 1 }, .rst = { 1, 0 },
			 .pkts = { 4, 1 }, .bytes = { 10, 0 } },
		.ev = { .syn = { 1, 0 }, .synack = { 0, 1 }, .rst = { 1, 0 },
			.pkts = { 4, 1 }, .bytes = { 10, 0 } },
	};

	need_priv();
	conn_init(&cn, *state, 3);
	C(&cn, SYN, 0);
	S(&cn, SYN | ACK, 0);
	C(&cn, ACK, 0);
	C(&cn, ACK | PSH, 10);
	C(&cn, RST | ACK, 0);
	check_flow(&cn, &w);
}

static void t_reset_server(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_RESET_SERVER, .rst_by = CT_BY_SRV, .history = "ShADdr", .ct = 1,
		.map = { .syn = { 1, 0 }, .synack = { 0, 1 }, .rst = { 0, 1 },
			 .pkts = { 3, 3 }, .bytes = { 10, 20 } },
		.ev = { .syn = { 1, 0 }, .synack = { 0, 1 }, .rst = { 0, 1 },
			.pkts = { 3, 3 }, .bytes = { 10, 20 } },
	};

	need_priv();
	conn_init(&cn, *state, 4);
	C(&cn, SYN, 0);
	S(&cn, SYN | ACK, 0);
	C(&cn, ACK, 0);
	C(&cn, ACK | PSH, 10);
	S(&cn, ACK | PSH, 20);
	S(&cn, RST | ACK, 0);
	check_flow(&cn, &w);
}

/*
 * The case from the field: the client closes (FIN) while the server is still sending; the
 * client's stack answers every further segment with a RST. One fin-reset event, by the
 * client; every RST counted on the flow.
 */
static void t_fin_reset(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_FIN_RESET, .rst_by = CT_BY_CLT, .history = "ShADdFR", .ct = 1,
		.map = { .syn = { 1, 0 }, .synack = { 0, 1 }, .fin = { 1, 0 }, .rst = { 3, 0 },
			 .pkts = { 7, 5 }, .bytes = { 10, 4000 } },
		.ev = { .syn = { 1, 0 }, .synack = { 0, 1 }, .fin = { 1, 0 }, .rst = { 1, 0 },
			.pkts = { 5, 3 }, .bytes = { 10, 2000 } },
	};

	need_priv();
	conn_init(&cn, *state, 5);
	C(&cn, SYN, 0);
	S(&cn, SYN | ACK, 0);
	C(&cn, ACK, 0);
	C(&cn, ACK | PSH, 10);
	S(&cn, ACK, 1000);
	C(&cn, FIN | ACK, 0);
	for (int i = 0; i < 3; i++) {
		S(&cn, ACK, 1000);
		C(&cn, RST, 0);
	}
	check_flow(&cn, &w);
}

static void t_syn_reset(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_SYN_RESET, .rst_by = CT_BY_CLT, .history = "SR",
		.map = { .syn = { 1, 0 }, .rst = { 1, 0 }, .pkts = { 2, 0 } },
		.ev = { .syn = { 1, 0 }, .rst = { 1, 0 }, .pkts = { 2, 0 } },
	};

	need_priv();
	conn_init(&cn, *state, 6);
	C(&cn, SYN, 0);
	C(&cn, RST, 0);
	check_flow(&cn, &w);
}

static void t_synack_reset(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_SYNACK_RESET, .rst_by = CT_BY_SRV, .history = "hr",
		.map = { .synack = { 0, 1 }, .rst = { 0, 1 }, .pkts = { 0, 2 } },
		.ev = { .synack = { 0, 1 }, .rst = { 0, 1 }, .pkts = { 0, 2 } },
	};

	need_priv();
	conn_init(&cn, *state, 7);
	S(&cn, SYN | ACK, 0);
	S(&cn, RST, 0);
	check_flow(&cn, &w);
}

static void t_orphan_rst(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_ORPHAN_RST, .rst_by = CT_BY_CLT, .history = "R",
		.map = { .rst = { 1, 0 }, .pkts = { 1, 0 } },
		.ev = { .rst = { 1, 0 }, .pkts = { 1, 0 } },
	};

	need_priv();
	conn_init(&cn, *state, 8);
	C(&cn, RST | ACK, 0);
	check_flow(&cn, &w);
}

/* ---- sequences ---------------------------------------------------------------------- */

static const struct variant v4_xdp = { P_XDP, 4, 0, 0 };
static const struct variant v6_tc = { P_TC, 6, 0, 0 };

/* Retransmitted SYNs count in syn.count; no event while the connection is open. */
static void t_syn_retransmit(void **state)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	__u64 c[CT_C_MAX];
	struct conn cn;
	int clt;

	need_priv();
	conn_init(&cn, *state, 9);
	for (int i = 0; i < 3; i++)
		C(&cn, SYN, 0);
	S(&cn, SYN | ACK, 0);
	C(&cn, ACK, 0);
	ring_buffer__consume(F.rb);
	assert_int_equal(F.nev, 0);
	assert_int_equal(flows_dump(keys, vals), 1);
	clt = conn_key(&cn, &keys[1]);
	assert_int_equal(vals[0].syn[clt], 3);
	assert_int_equal(vals[0].synack[!clt], 1);
	assert_false(vals[0].state & CT_ST_ENDED);
	assert_true(vals[0].state & CT_ST_CT);
	counters(c);
	assert_int_equal(c[CT_C_SYN_CLT], 3);
	assert_int_equal(c[CT_C_SYN_SRV], 0);
	assert_int_equal(c[CT_C_SYNACK_SRV], 1);
	assert_int_equal(c[CT_C_SYNACK_CLT], 0);
	assert_int_equal(c[CT_C_HANDSHAKES], 1);
}

/* After a reset, more RSTs are counted without an event; a new SYN starts a new flow. */
static void t_new_syn_after_reset(void **state)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	__u64 c[CT_C_MAX];
	struct conn cn;
	int clt;

	need_priv();
	conn_init(&cn, *state, 10);
	C(&cn, SYN, 0);
	S(&cn, RST | ACK, 0);
	S(&cn, RST | ACK, 0);
	S(&cn, RST | ACK, 0);
	ring_buffer__consume(F.rb);
	assert_int_equal(F.nev, 1);
	assert_int_equal(flows_dump(keys, vals), 1);
	clt = conn_key(&cn, &keys[1]);
	assert_int_equal(vals[0].rst[!clt], 3);

	/* the client tries again on the same 5-tuple, and is refused again; the old flow's
	 * final state, all three RSTs, comes out as it is replaced */
	C(&cn, SYN, 0);
	ring_buffer__consume(F.rb);
	assert_int_equal(F.nev, 2);
	assert_int_equal(F.ev[0].type, CT_EV_CLOSE);
	assert_int_equal(F.ev[0].flow.rst[!clt], 1);
	assert_int_equal(F.ev[1].type, CT_EV_REPLACED);
	assert_int_equal(F.ev[1].close, CT_CLOSE_REFUSED);
	assert_int_equal(F.ev[1].flow.rst[!clt], 3);
	assert_memory_equal(&F.ev[1].key, &keys[0], sizeof(keys[0]));
	assert_int_equal(flows_dump(keys, vals), 1);
	assert_int_equal(vals[0].syn[clt], 1);
	assert_int_equal(vals[0].rst[!clt], 0);
	assert_false(vals[0].state & CT_ST_ENDED);
	S(&cn, RST | ACK, 0);
	ring_buffer__consume(F.rb);
	assert_int_equal(F.nev, 3);
	assert_int_equal(F.ev[2].type, CT_EV_CLOSE);
	assert_int_equal(F.ev[2].close, CT_CLOSE_REFUSED);
	assert_int_equal(F.ev[2].flow.syn[clt], 1);
	assert_int_equal(F.ev[2].flow.rst[!clt], 1);
	assert_true(F.ev[2].flow.first_ns > F.ev[0].flow.first_ns);
	counters(c);
	assert_int_equal(c[CT_C_FLOWS], 2);
	assert_int_equal(c[CT_C_RESTARTS], 1);
	assert_int_equal(c[CT_C_CLOSE_BASE + CT_CLOSE_REFUSED], 2);
	assert_int_equal(c[CT_C_RST_SRV], 4);
}

/* A SYN-ACK or data after a reset does not restart the flow (late packets in flight). */
static void t_late_packets_after_reset(void **state)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	struct conn cn;
	int clt;

	need_priv();
	conn_init(&cn, *state, 11);
	C(&cn, SYN, 0);
	S(&cn, SYN | ACK, 0);
	C(&cn, ACK, 0);
	C(&cn, RST, 0);
	S(&cn, ACK, 300);
	S(&cn, SYN | ACK, 0);
	ring_buffer__consume(F.rb);
	assert_int_equal(F.nev, 1);
	assert_int_equal(F.ev[0].close, CT_CLOSE_RESET_CLIENT);
	assert_int_equal(flows_dump(keys, vals), 1);
	clt = conn_key(&cn, &keys[1]);
	assert_int_equal(vals[0].bytes[!clt], 300);
	assert_int_equal(vals[0].synack[!clt], 2);
	assert_int_equal(vals[0].close, CT_CLOSE_RESET_CLIENT);
}

/* Without the graceful switch, a graceful close is counted and recorded, not emitted. */
static void t_graceful_switch_and_kernel_clock(void **state)
{
	struct closetrace *quiet;
	struct ring_buffer *rb;
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	__u64 c[CT_C_MAX];
	struct timespec ts;
	struct ct_clock clk;
	struct conn cn;
	__u64 now, last;
	int n;

	(void)state;
	need_priv();
	quiet = load(0, 0);
	assert_non_null(quiet);
	assert_int_equal(ct_clock_sync(quiet, 0, &clk), 0);
	rb = ring_buffer__new(bpf_map__fd(quiet->maps.events), on_event, NULL, NULL);
	if (!rb)
		ct_unload(quiet);
	assert_non_null(rb);
	use(quiet, rb);
	conn_init(&cn, &v4_xdp, 12);
	C(&cn, SYN, 0);
	S(&cn, SYN | ACK, 0);
	C(&cn, ACK, 0);
	C(&cn, FIN | ACK, 0);
	S(&cn, FIN | ACK, 0);
	C(&cn, ACK, 0);
	ring_buffer__consume(F.rb);
	n = flows_dump(keys, vals);
	counters(c);
	swap_back();

	assert_int_equal(F.nev, 0);
	assert_int_equal(n, 1);
	assert_int_equal(vals[0].close, CT_CLOSE_GRACEFUL);
	assert_int_equal(c[CT_C_CLOSE_BASE + CT_CLOSE_GRACEFUL], 1);
	/* the kernel clock is CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	assert_true(vals[0].first_ns > 0 && vals[0].first_ns <= now);
	assert_true(now - vals[0].first_ns < 60ull * 1000000000ull);
	/* last-seen is jiffies: converted, it is within one tick of the precise clock */
	last = ct_clock_last_ns(&clk, vals[0].last_seen);
	assert_true(clk.tick_ns >= 1000000ull && clk.tick_ns <= 10000000ull);
	assert_true(last + clk.tick_ns >= vals[0].first_ns);
	assert_true(last <= now + clk.tick_ns);
}

/* Run @seq ("C:SA" client SYN|ACK ...) and check the one flow it makes. */
struct step {
	int from_client;
	uint8_t flags;
	uint32_t payload;
};

static void run_steps(struct conn *cn, const struct step *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		send_pkt(cn, s[i].from_client, s[i].flags, s[i].payload);
}

#define RUN(cn, ...)                                                                       \
	do {                                                                               \
		static const struct step s_[] = { __VA_ARGS__ };                           \
		run_steps(cn, s_, sizeof(s_) / sizeof(s_[0]));                             \
	} while (0)

/* SYN, SYN-ACK, then the client aborts with RST+ACK: reset, but no handshake. */
static void t_order_synack_client_rstack(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_RESET_CLIENT, .rst_by = CT_BY_CLT, .history = "ShR",
		.map = { .syn = { 1, 0 }, .synack = { 0, 1 }, .rst = { 1, 0 }, .pkts = { 2, 1 } },
		.ev = { .syn = { 1, 0 }, .synack = { 0, 1 }, .rst = { 1, 0 }, .pkts = { 2, 1 } },
	};

	need_priv();
	conn_init(&cn, *state, 13);
	RUN(&cn, { FROM_C, SYN, 0 }, { FROM_S, SYN | ACK, 0 }, { FROM_C, RST | ACK, 0 });
	check_flow(&cn, &w);
}

/* SYN, SYN-ACK, the server resets before the client answered: a reset (Zeek's RSTR),
 * not a refusal, which is a RST instead of a SYN-ACK. */
static void t_order_synack_server_rst(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_RESET_SERVER, .rst_by = CT_BY_SRV, .history = "Shr",
		.map = { .syn = { 1, 0 }, .synack = { 0, 1 }, .rst = { 0, 1 }, .pkts = { 1, 2 } },
		.ev = { .syn = { 1, 0 }, .synack = { 0, 1 }, .rst = { 0, 1 }, .pkts = { 1, 2 } },
	};

	need_priv();
	conn_init(&cn, *state, 14);
	RUN(&cn, { FROM_C, SYN, 0 }, { FROM_S, SYN | ACK, 0 }, { FROM_S, RST, 0 });
	check_flow(&cn, &w);
}

/* The SYN-ACK was not seen, data flowed both ways, then the server reset. */
static void t_order_missed_synack(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_RESET_SERVER, .rst_by = CT_BY_SRV, .history = "SDdr",
		.map = { .syn = { 1, 0 }, .rst = { 0, 1 }, .pkts = { 2, 2 }, .bytes = { 5, 7 } },
		.ev = { .syn = { 1, 0 }, .rst = { 0, 1 }, .pkts = { 2, 2 }, .bytes = { 5, 7 } },
	};
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];

	need_priv();
	conn_init(&cn, *state, 15);
	RUN(&cn, { FROM_C, SYN, 0 }, { FROM_C, ACK, 5 }, { FROM_S, ACK, 7 });
	/* the client's first non-SYN packet settled the handshake, without completing it */
	assert_int_equal(flows_dump(keys, vals), 1);
	assert_true(vals[0].state & CT_ST_HS_DONE);
	assert_false(vals[0].state & CT_ST_CT);
	RUN(&cn, { FROM_S, RST, 0 });
	check_flow(&cn, &w);
}

/* SYN+RST on an ended flow is counted there, and starts nothing. */
static void t_order_syn_rst_no_restart(void **state)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	__u64 c[CT_C_MAX];
	struct conn cn;
	int clt;

	need_priv();
	conn_init(&cn, *state, 16);
	RUN(&cn, { FROM_C, SYN, 0 }, { FROM_S, RST | ACK, 0 }, { FROM_C, SYN | RST, 0 },
	    { FROM_C, SYN | FIN, 0 });
	ring_buffer__consume(F.rb);
	assert_int_equal(F.nev, 1);
	assert_int_equal(F.ev[0].close, CT_CLOSE_REFUSED);
	assert_int_equal(flows_dump(keys, vals), 1);
	clt = conn_key(&cn, &keys[1]);
	assert_int_equal(vals[0].syn[clt], 3);
	assert_int_equal(vals[0].rst[clt], 1);
	counters(c);
	assert_int_equal(c[CT_C_FLOWS], 1);
	assert_int_equal(c[CT_C_RESTARTS], 0);
}

/* Joined midstream: the server speaks first; the well-known port tells who is who. */
static void t_order_midstream(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_RESET_SERVER, .rst_by = CT_BY_SRV, .history = "dAr",
		.map = { .rst = { 0, 1 }, .pkts = { 1, 2 }, .bytes = { 0, 100 } },
		.ev = { .rst = { 0, 1 }, .pkts = { 1, 2 }, .bytes = { 0, 100 } },
	};
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];

	need_priv();
	conn_init(&cn, *state, 17);
	RUN(&cn, { FROM_S, ACK, 100 }, { FROM_C, ACK, 0 });
	assert_int_equal(flows_dump(keys, vals), 1);
	assert_true(vals[0].state & CT_ST_HS_DONE);
	RUN(&cn, { FROM_S, RST, 0 });
	check_flow(&cn, &w);
}

/* Both ports high: the first sender is taken for the client. */
static void t_order_midstream_high_ports(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_RESET_CLIENT, .rst_by = CT_BY_CLT, .history = "DaR",
		.map = { .rst = { 1, 0 }, .pkts = { 2, 1 }, .bytes = { 9, 0 } },
		.ev = { .rst = { 1, 0 }, .pkts = { 2, 1 }, .bytes = { 9, 0 } },
	};

	need_priv();
	conn_init(&cn, *state, 18);
	cn.s_port = 8080;
	RUN(&cn, { FROM_C, ACK, 9 }, { FROM_S, ACK, 0 }, { FROM_C, RST, 0 });
	check_flow(&cn, &w);
}

/* A retransmitted FIN is counted; the close is decided once, by the other side's FIN. */
static void t_order_fin_retransmit(void **state)
{
	struct conn cn;
	struct expect w = {
		.close = CT_CLOSE_GRACEFUL, .rst_by = CT_BY_NONE, .history = "ShAFf", .ct = 1,
		.map = { .syn = { 1, 0 }, .synack = { 0, 1 }, .fin = { 2, 1 }, .pkts = { 5, 2 } },
		.ev = { .syn = { 1, 0 }, .synack = { 0, 1 }, .fin = { 2, 1 }, .pkts = { 4, 2 } },
	};

	need_priv();
	conn_init(&cn, *state, 19);
	RUN(&cn, { FROM_C, SYN, 0 }, { FROM_S, SYN | ACK, 0 }, { FROM_C, ACK, 0 },
	    { FROM_C, FIN | ACK, 0 }, { FROM_C, FIN | ACK, 0 }, { FROM_S, FIN | ACK, 0 },
	    { FROM_C, ACK, 0 });
	check_flow(&cn, &w);
}

/* After a graceful close, a new SYN starts a new flow; the old one comes out final. */
static void t_order_graceful_then_syn(void **state)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	struct conn cn;
	int clt;

	need_priv();
	conn_init(&cn, *state, 20);
	RUN(&cn, { FROM_C, SYN, 0 }, { FROM_S, SYN | ACK, 0 }, { FROM_C, ACK, 0 },
	    { FROM_C, FIN | ACK, 0 }, { FROM_S, FIN | ACK, 0 }, { FROM_C, ACK, 0 },
	    { FROM_C, SYN, 0 });
	ring_buffer__consume(F.rb);
	assert_int_equal(F.nev, 2);
	assert_int_equal(F.ev[0].type, CT_EV_CLOSE);
	assert_int_equal(F.ev[0].close, CT_CLOSE_GRACEFUL);
	assert_int_equal(F.ev[1].type, CT_EV_REPLACED);
	assert_int_equal(F.ev[1].close, CT_CLOSE_GRACEFUL);
	assert_int_equal(flows_dump(keys, vals), 1);
	clt = conn_key(&cn, &keys[1]);
	assert_int_equal(F.ev[1].flow.pkts[clt], 4);
	assert_int_equal(vals[0].pkts[clt], 1);
	assert_false(vals[0].state & CT_ST_ENDED);
}

/* Simultaneous open: both sides send a SYN; the first fixes the roles. */
static void t_order_simultaneous_open(void **state)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	struct conn cn;
	int clt;

	need_priv();
	conn_init(&cn, *state, 21);
	RUN(&cn, { FROM_C, SYN, 0 }, { FROM_S, SYN, 0 }, { FROM_S, SYN | ACK, 0 },
	    { FROM_C, SYN | ACK, 0 });
	assert_int_equal(flows_dump(keys, vals), 1);
	clt = conn_key(&cn, &keys[1]);
	assert_true(vals[0].state & CT_ST_ROLE);
	assert_int_equal(ct_client_ep(vals[0].state), clt);
	assert_int_equal(vals[0].syn[clt], 1);
	assert_int_equal(vals[0].syn[!clt], 1);
}

/* A full ring buffer loses events, and says how many. The wakeup branch loads too. */
static void t_ringbuf_full(void **state)
{
	struct closetrace *small;
	struct ring_buffer *rb;
	__u64 c[CT_C_MAX];
	struct conn cn;
	const int n = 60;

	(void)state;
	need_priv();
	small = load_opts(1, 1, 4096, 1024);
	assert_non_null(small);
	rb = ring_buffer__new(bpf_map__fd(small->maps.events), on_event, NULL, NULL);
	if (!rb)
		ct_unload(small);
	assert_non_null(rb);
	use(small, rb);
	for (int i = 0; i < n; i++) {
		conn_init(&cn, &v4_xdp, 100 + i);
		C(&cn, RST, 0);	/* an orphan RST: one event each */
	}
	counters(c);
	ring_buffer__consume(F.rb);
	swap_back();

	assert_int_equal(c[CT_C_CLOSE_BASE + CT_CLOSE_ORPHAN_RST], n);
	assert_true(c[CT_C_RB_FAIL] > 0);
	assert_int_equal((__u64)F.nev + c[CT_C_RB_FAIL], n);
}

/* ---- the reader is woken once the mark is reached, and again after it has read ------ */

struct producer {
	int fd, n, delay_ms;
	__u32 base;
};

static size_t tuple_frame(uint8_t *frame, __u32 n, uint8_t flags, int net);
static void send_raw(int fd, const uint8_t *frame, size_t len);

static void *produce(void *arg)
{
	struct producer *w = arg;
	uint8_t frame[PKT_MAX];

	usleep((useconds_t)w->delay_ms * 1000);
	for (int i = 0; i < w->n; i++)	/* orphan RSTs: an event each */
		send_raw(w->fd, frame, tuple_frame(frame, w->base + (__u32)i, RST, 77));
	return NULL;
}

static int count_event(void *ctx, void *data, size_t len)
{
	(void)data;
	(void)len;
	(*(int *)ctx)++;
	return 0;
}

static __u64 ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (__u64)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/*
 * With a wakeup mark, a reader asleep in poll is not woken by fewer events (it finds them
 * at its timeout), is woken as soon as the mark is reached, and is woken again the next
 * times, after it has read: the kernel wakes it once per consumer position.
 */
static void t_wakeup_once(void **state)
{
	const int mark = 8;
	struct closetrace *sk;
	struct ring_buffer *rb;
	int got = 0, fd;
	__u32 base = 0;

	(void)state;
	need_priv();
	sk = load_opts(1, 1, 1 << 16, mark * (__u32)(CT_EVENT_PLAIN_SIZE + 8));
	assert_non_null(sk);
	rb = ring_buffer__new(bpf_map__fd(sk->maps.events), count_event, &got, NULL);
	if (!rb)
		ct_unload(sk);
	assert_non_null(rb);
	use(sk, rb);
	fd = bpf_program__fd(sk->progs.ct_xdp);
	for (int round = 0; round < 3; round++) {
		struct producer w;
		struct timespec t0;
		pthread_t th;
		__u64 ms;

		/* a whole mark: woken at once (its poll would otherwise wait 5 s) */
		w = (struct producer){ fd, mark, 50, base };
		got = 0;
		assert_int_equal(pthread_create(&th, NULL, produce, &w), 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (got < mark && ms_since(&t0) < 5000)
			assert_true(ring_buffer__poll(rb, 5000) >= 0);
		ms = ms_since(&t0);
		pthread_join(th, NULL);
		print_message("round %d: %d events, read after %llu ms\n", round, got,
			      (unsigned long long)ms);
		assert_int_equal(got, mark);
		assert_true(ms < 2500);
		base += (__u32)w.n;
		/* below the mark: asleep until the timeout, then read by hand */
		w = (struct producer){ fd, mark / 2, 50, base };
		got = 0;
		assert_int_equal(pthread_create(&th, NULL, produce, &w), 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(ring_buffer__poll(rb, 600), 0);
		ms = ms_since(&t0);
		pthread_join(th, NULL);
		assert_true(ms >= 500);
		assert_int_equal(ring_buffer__consume(rb), mark / 2);
		base += (__u32)w.n;
	}
	swap_back();
}

/* ---- a full table: embryonic flows go first, every removal counted ------------------- */

#define SMALL_TABLE 64

/* Swap in an object with a table of @flows entries (and @storm orphan RSTs a second). */
/* A table of @flows entries, @storm orphan RSTs a second, the user clock at 1 s. */
static void swap_in(__u32 flows, __u32 storm)
{
	struct ct_load_opts lo = {
		.flows = flows, .ringbuf = 1 << 20, .emit_graceful = 1, .user_clock = 1,
		.storm_rate = storm,
	};
	struct closetrace *skel = ct_load(&lo, F.why, sizeof(F.why));
	struct ring_buffer *rb;

	assert_non_null(skel);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb)
		ct_unload(skel);
	assert_non_null(rb);
	use(skel, rb);
	skel->bss->user_clock_ns = 1000000000ull;
	skel->bss->user_clock_tick = 1000;
}

static void establish(struct conn *cn, int n, int data)
{
	conn_init(cn, &v4_xdp, n);
	C(cn, SYN, 0);
	S(cn, SYN | ACK, 0);
	C(cn, ACK, 0);
	if (data)
		C(cn, ACK | PSH, data);
}

/* Whether @cn's flow is in the table (on whichever interface the test run gave it). */
static int flow_present(const struct conn *cn, struct ct_flow *f)
{
	struct ct_flow_key keys[MAX_FLOWS], k;
	struct ct_flow vals[MAX_FLOWS];
	int n = flows_dump(keys, vals);

	conn_key(cn, &k);
	for (int i = 0; i < n; i++) {
		k.ifvlan = keys[i].ifvlan;
		if (!memcmp(&k, &keys[i], sizeof(k))) {
			*f = vals[i];
			return 1;
		}
	}
	return 0;
}

/* A SYN flood into a full table: only embryonic flows go, counted one by one. */
static void t_evict_embryonic_first(void **state)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS], f;
	struct conn est[10], cn;
	__u64 c[CT_C_MAX];
	const int nsyn = 1000, nrst = 300;

	(void)state;
	need_priv();
	swap_in(SMALL_TABLE, 0);
	for (int i = 0; i < 10; i++)
		establish(&est[i], i, 10);
	for (int i = 0; i < nsyn + nrst; i++) {
		conn_init(&cn, &v4_xdp, 200);
		cn.c_port = (uint16_t)(10000 + i);
		C(&cn, i < nsyn ? SYN : RST, 0);	/* SYNs, then orphan RSTs */
	}
	/* the established ones are all there, and saw their FIN close */
	for (int i = 0; i < 10; i++) {
		assert_true(flow_present(&est[i], &f));
		assert_true(f.state & CT_ST_ASSURED);
		C(&est[i], FIN | ACK, 0);
		S(&est[i], FIN | ACK, 0);
	}
	counters(c);
	ring_buffer__consume(F.rb);
	assert_int_equal(flows_dump(keys, vals), SMALL_TABLE);
	swap_back();

	assert_int_equal(c[CT_C_FLOWS], 10 + nsyn + nrst);
	assert_int_equal(c[CT_C_EVICT_EST], 0);
	assert_int_equal(c[CT_C_FLOW_FAIL], 0);
	/* in the table: the 10, and the newest embryonic ones */
	assert_int_equal(c[CT_C_EVICT_EMB], 10 + nsyn + nrst - SMALL_TABLE);
	assert_int_equal(c[CT_C_CLOSE_BASE + CT_CLOSE_GRACEFUL], 10);
	assert_int_equal(c[CT_C_CLOSE_BASE + CT_CLOSE_ORPHAN_RST], nrst);
}

/* No embryonic flow left: the idlest established flow of the sample goes, counted. */
static void t_evict_established_last(void **state)
{
	struct conn est[SMALL_TABLE], cn;
	struct ct_flow f;
	__u64 c[CT_C_MAX];

	(void)state;
	need_priv();
	swap_in(SMALL_TABLE, 0);
	for (int i = 0; i < SMALL_TABLE; i++)
		establish(&est[i], i, 0);
	/* all but the fourth heard from since: it is the idlest */
	for (int i = 0; i < SMALL_TABLE; i++)
		if (i != 3)
			S(&est[i], ACK | PSH, 100);
	conn_init(&cn, &v4_xdp, 200);
	C(&cn, SYN, 0);
	counters(c);
	assert_int_equal(c[CT_C_EVICT_EMB], 0);
	assert_int_equal(c[CT_C_EVICT_EST], 1);
	assert_int_equal(c[CT_C_FLOW_FAIL], 0);
	assert_false(flow_present(&est[3], &f));
	assert_true(flow_present(&cn, &f));
	for (int i = 0; i < SMALL_TABLE; i++)
		if (i != 3)
			assert_true(flow_present(&est[i], &f));
	/* the new one is embryonic: the next new flow evicts it, not an established one */
	conn_init(&cn, &v4_xdp, 201);
	C(&cn, SYN, 0);
	counters(c);
	swap_back();
	assert_int_equal(c[CT_C_EVICT_EMB], 1);
	assert_int_equal(c[CT_C_EVICT_EST], 1);
}

/* Joined midstream: established once both sides were heard, embryonic before. */
static void t_assured_midstream(void **state)
{
	struct conn cn;
	struct ct_flow f;

	(void)state;
	need_priv();
	conn_init(&cn, &v4_xdp, 1);
	C(&cn, ACK | PSH, 100);
	C(&cn, ACK | PSH, 100);
	assert_true(flow_present(&cn, &f));
	assert_false(f.state & CT_ST_ASSURED);
	S(&cn, ACK, 0);
	assert_true(flow_present(&cn, &f));
	assert_true(f.state & CT_ST_ASSURED);
	/* refused: embryonic for good */
	conn_init(&cn, &v4_xdp, 2);
	C(&cn, SYN, 0);
	S(&cn, RST | ACK, 0);
	assert_true(flow_present(&cn, &f));
	assert_false(f.state & CT_ST_ASSURED);
}

/* Past the storm rate, orphan RSTs are counted in the summary table, not sent. */
static void t_storm_summary(void **state)
{
	struct ct_storm_key k, next;
	struct ct_storm_val v[256];
	__u64 c[CT_C_MAX], summed = 0;
	struct conn cn;
	int fd, first = 1, keys = 0, ncpu = libbpf_num_possible_cpus();

	(void)state;
	need_priv();
	assert_true(ncpu <= 256);
	swap_in(4096, 10);
	for (int i = 0; i < 100; i++) {
		conn_init(&cn, &v4_xdp, 1);
		cn.c_port = (uint16_t)(20000 + i);
		C(&cn, RST | ACK, 0);
	}
	conn_init(&cn, &v4_xdp, 2);	/* a refusal: never summarised */
	C(&cn, SYN, 0);
	S(&cn, RST | ACK, 0);
	counters(c);
	ring_buffer__consume(F.rb);
	fd = bpf_map__fd(F.skel->maps.storm);
	for (; !bpf_map_get_next_key(fd, first ? NULL : &k, &next); first = 0) {
		k = next;
		keys++;
		assert_int_equal(bpf_map_lookup_elem(fd, &next, v), 0);
		assert_int_equal(next.port, 443);
		assert_int_equal(next.close, CT_CLOSE_ORPHAN_RST);
		assert_int_equal(CT_STORM_BY(next.epoch), CT_BY_CLT);
		for (int cpu = 0; cpu < ncpu; cpu++)
			summed += v[cpu].count;
	}
	swap_back();
	assert_int_equal(c[CT_C_CLOSE_BASE + CT_CLOSE_ORPHAN_RST], 100);
	assert_int_equal(c[CT_C_SUMMARISED], 90);
	assert_int_equal(c[CT_C_STORM_FULL], 0);
	assert_int_equal(keys, 1);
	assert_int_equal(summed, 90);
	assert_int_equal(F.nev, 11);	/* 10 orphans, 1 refusal */
}

/* ---- taking a flow out while packets come ------------------------------------------- */

struct taken {
	struct ct_record rec[8];
	int n;
	struct conn *cn;
};

static int collect(void *ctx, const struct ct_record *r)
{
	struct taken *t = ctx;

	if (t->n < 8)
		t->rec[t->n++] = *r;
	return 0;
}

/* A data packet after the scan read the flow, then a RST once it is out of the table. */
static void take_race(void *ctx, int phase, const struct ct_flow_key *k)
{
	struct taken *t = ctx;

	(void)k;
	if (phase == 0)
		C(t->cn, ACK | PSH, 100);
	else
		C(t->cn, RST, 0);
}

/* A packet re-creates the flow between removal and re-insertion: nothing is lost. */
static void t_take_race(void **state)
{
	struct ct_scanner sc;
	struct ct_map m;
	struct ct_expiry exp = { 1000000000ull, 1000000000ull, 1000000000ull };
	struct taken t = {};
	struct ct_scan_out out = { .rec = { .record = collect, .ctx = &t } };
	struct ct_clock clk;
	struct ct_flow f;
	struct conn cn;

	(void)state;
	need_priv();
	establish(&cn, 1, 10);
	t.cn = &cn;
	ct_map_kernel(&m, bpf_map__fd(F.skel->maps.flows), bpf_map__max_entries(F.skel->maps.flows),
		      0);
	assert_int_equal(ct_scanner_init(&sc, &m, 0), 0);
	sc.take_hook = take_race;
	sc.take_ctx = &t;
	assert_int_equal(ct_clock_sync(F.skel, 1, &clk), 0);
	assert_int_equal(ct_scan(&sc, &exp, &clk, F.skel->bss->user_clock_ns, CT_SCAN_FLUSH,
				 &out), 0);
	ct_scanner_free(&sc);
	/* the flow as it left the table, with the data packet: closed (idle) and final */
	assert_int_equal(sc.split, 1);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.rec[0].type, CT_REC_CLOSE);
	assert_int_equal(t.rec[0].close, CT_CLOSE_IDLE);
	assert_int_equal(t.rec[1].type, CT_REC_FLOW);
	assert_int_equal(t.rec[1].flow.pkts[t.rec[1].client_ep], 4);
	assert_int_equal(t.rec[1].flow.bytes[t.rec[1].client_ep], 110);
	/* the RST made a new entry, an orphan, reported by the kernel */
	assert_true(flow_present(&cn, &f));
	assert_int_equal(f.close, CT_CLOSE_ORPHAN_RST);
	ring_buffer__consume(F.rb);
	assert_int_equal(F.nev, 1);
	assert_int_equal(F.ev[0].close, CT_CLOSE_ORPHAN_RST);
}

/* ---- a scan of a big table drains events as it goes ----------------------------------- */

#define DRAIN_FLOWS (1 << 20)
#define DRAIN_RING (64 << 10)	/* about 300 events (208 bytes outside tunnels) */

struct drain {
	int prog_fd;
	volatile int stop;
	__u64 sent, orphans, scanned;
};

static const char *no_iface(void *ctx, __u32 ifindex)
{
	(void)ctx;
	(void)ifindex;
	return "test";
}

static int count_drain(void *ctx, const struct ct_record *r)
{
	struct drain *d = ctx;

	if (r->type == CT_REC_CLOSE && r->close == CT_CLOSE_ORPHAN_RST)
		d->orphans++;
	else if (r->type == CT_REC_CLOSE)
		d->scanned++;
	return 0;
}

/* One TCP frame from 10.a.b.c:port to 192.0.2.1:80 with @flags. */
static size_t tuple_frame(uint8_t *frame, __u32 n, uint8_t flags, int net)
{
	char src[32];
	struct pkt_spec ps = { .family = 4, .src = src, .dst = "192.0.2.1", .dport = 80,
			       .flags = flags, .payload = flags & RST ? 0 : 10 };
	struct pkt_layout lay;

	snprintf(src, sizeof(src), "%d.%u.%u.%u", net, (n >> 16) & 255, (n >> 8) & 255,
		 n & 255);
	ps.sport = (uint16_t)(1024 + (n >> 24));
	return pkt_build(frame, &ps, &lay);
}

static void send_raw(int fd, const uint8_t *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = 1);

	assert_int_equal(bpf_prog_test_run_opts(fd, &o), 0);
}

/* 10 000 orphan RSTs a second, each its own event, until told to stop. */
static void *rst_source(void *arg)
{
	struct drain *d = arg;
	uint8_t frame[PKT_MAX];
	struct timespec next, now;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!d->stop) {
		for (int i = 0; i < 10; i++) {
			size_t len = tuple_frame(frame, (__u32)d->sent, RST | ACK, 11);
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
				    .data_size_in = (__u32)len, .repeat = 1);

			if (bpf_prog_test_run_opts(d->prog_fd, &o))
				return NULL;
			d->sent++;
		}
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		/* more than 2 ms behind (no CPU for a while): on from now, never a burst */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - next.tv_sec) * 1000000000l + now.tv_nsec - next.tv_nsec > 2000000)
			next = now;
	}
	return NULL;
}

/* which path a scan test takes: where the product runs, or CLOSETRACE_DISABLE's */
static const int scan_kernel = 1, scan_forced = 2;

/*
 * 1M flows expire in one scan while 10 000 events a second come into a ring buffer of
 * 400: the scan drains between its batches, so not one is lost.
 */
static void t_scan_drains(void **state)
{
	struct drain d = {};
	struct ct_session s;
	struct ct_session_opts so = {
		.load = { .progs = CT_PROG_XDP, .flows = DRAIN_FLOWS + (1 << 17),
			  .ringbuf = DRAIN_RING, .emit_graceful = 1 },
		.exp = { 1000000000ull, 1000000000ull, 1000000000ull },
		.out = { .record = count_drain, .ctx = &d }, .iface = no_iface,
	};
	uint8_t frame[PKT_MAX];
	char err[256];
	pthread_t th;
	__u64 c[CT_C_MAX], t0, during;

	need_priv();
	if (*state == &scan_forced)
		setenv("CLOSETRACE_DISABLE", "scan-iter", 1);
	assert_int_equal(ct_session_open(&s, &so, err, sizeof(err)), 0);
	/* the session's own choice: the cut wherever the kernel takes iterators, unless off */
	if (!s.eng.cut && !ct_feature_off(CT_FEAT_SCAN_ITER) && !ct_probe_map_iter())
		fail_msg("the kernel loads map iterators, but the session reads every entry");
	assert_false(s.eng.cut && ct_feature_off(CT_FEAT_SCAN_ITER));
	print_message("path: %s\n", s.eng.cut ? "the kernel's cut (a map iterator)" :
		      "batched lookups of every entry");
	d.prog_fd = bpf_program__fd(s.eng.skel->progs.ct_xdp);
	for (__u32 i = 0; i < DRAIN_FLOWS; i++)
		send_raw(d.prog_fd, frame, tuple_frame(frame, i, ACK | PSH, 10));
	usleep(1300000);	/* past the idle timeout */
	assert_int_equal(pthread_create(&th, NULL, rst_source, &d), 0);
	usleep(20000);
	t0 = d.sent;
	assert_int_equal(ct_session_scan(&s, CT_SCAN_EXPIRE), 0);
	during = d.sent - t0;
	d.stop = 1;
	pthread_join(th, NULL);
	ct_session_drain(&s);
	assert_int_equal(ct_read_counters(s.eng.skel, c, CT_C_MAX), 0);
	ct_session_close(&s);
	print_message("1M flows expired while %llu events came (%llu in all, ring of %d)\n",
		      (unsigned long long)during, (unsigned long long)d.sent,
		      DRAIN_RING / (int)(CT_EVENT_PLAIN_SIZE + 8));
	assert_true(d.scanned >= DRAIN_FLOWS);
	/* the scan lasted long enough to fill the ring many times over */
	assert_true(during > 4 * (DRAIN_RING / (CT_EVENT_PLAIN_SIZE + 8)));
	assert_int_equal(c[CT_C_RB_FAIL], 0);
	assert_int_equal(d.orphans, d.sent);
}

/* ---- the scan's two paths --------------------------------------------------------- */

/*
 * The path an expiry scan takes where the product runs: the kernel's cut (a map iterator)
 * where the kernel loads one, else batched lookups of every entry, as users get where the
 * kernel refuses iterators or CLOSETRACE_DISABLE=scan-iter turns them off. The cut's absence
 * is accepted only for those two reasons: where the kernel takes a bare iterator, ours must
 * load. Says which path the test checked. Returns the link, or NULL (then *@cut is NULL).
 */
static struct bpf_link *scan_path(struct ct_scanner *sc, int map_fd, struct scan **cut)
{
	int kernel = ct_probe_map_iter(), off = ct_feature_off(CT_FEAT_SCAN_ITER);
	struct bpf_link *link = ct_load_scan(map_fd, cut, F.why, sizeof(F.why));

	if (link) {
		assert_false(off);
		assert_int_equal(ct_scanner_use_cut(sc, bpf_link__fd(link),
						    &(*cut)->bss->scan_params), 0);
		print_message("path: the kernel's cut (a map iterator)\n");
		return link;
	}
	if (!off && !kernel)
		fail_msg("the kernel loads map iterators, but not the scan's: %s", F.why);
	assert_int_equal(errno, off ? ECANCELED : -kernel);
	print_message("path: batched lookups of every entry (%s)\n", F.why);
	return NULL;
}

/*
 * closetrace's probe (a program built from instructions) says what libbpf loading a bare
 * iterator over a map's elements (tests/bpf/iterprobe.bpf.c) says: the scan tests decide
 * their path by the probe, so the probe is held to an answer found apart from it.
 */
static void t_iter_probe_agrees(void **state)
{
	libbpf_print_fn_t was = libbpf_set_print(NULL);	/* a refusal is an answer here */
	struct iterprobe *ip = iterprobe__open();
	int probe = ct_probe_map_iter(), err;

	(void)state;
	err = ip ? iterprobe__load(ip) : -errno;
	iterprobe__destroy(ip);
	libbpf_set_print(was);
	need_priv();
	assert_non_null(ip);
	print_message("a bare map iterator: %s; closetrace's probe: %s\n",
		      err ? strerror(-err) : "loaded", probe ? strerror(-probe) : "loaded");
	assert_int_equal(probe, err);
}

/* ---- an expiry scan by slices ------------------------------------------------------ */

static int count_rec(void *ctx, const struct ct_record *r)
{
	__u64 *n = ctx;

	n[r->type == CT_REC_CLOSE]++;
	return 0;
}

/*
 * With a budget, an expiry scan is a slice: each call does at least a batch (a read of the
 * kernel's cut, with @state non-NULL) and goes on where the last stopped; the pass's end
 * says what the table holds. Nothing is missed or taken twice, even with flows coming and
 * going between slices.
 */
static void t_scan_slices(void **state)
{
	const __u32 n = 20000, more = 3000;
	struct bpf_link *link = NULL;
	struct scan *cut = NULL;
	struct ct_scanner sc;
	struct ct_map m;
	struct ct_expiry exp = { 1000000000ull, 1000000000ull, 1000000000ull };
	struct ct_scan_out out = { .rec = { .ctx = NULL } };
	struct ct_clock clk;
	uint8_t frame[PKT_MAX];
	__u64 recs[2] = { 0, 0 };
	int calls = 0, fd;

	(void)state;
	need_priv();
	swap_in(65536, 0);
	fd = bpf_program__fd(F.skel->progs.ct_xdp);
	for (__u32 i = 0; i < n; i++)
		send_raw(fd, frame, tuple_frame(frame, i, ACK | PSH, 12));
	F.skel->bss->user_clock_ns += 5000000000ull;	/* all idle past the timeout */
	F.skel->bss->user_clock_tick += 5000;
	ct_map_kernel(&m, bpf_map__fd(F.skel->maps.flows), bpf_map__max_entries(F.skel->maps.flows),
		      0);
	assert_int_equal(ct_scanner_init(&sc, &m, 1024), 0);
	if (*state == &scan_forced)
		setenv("CLOSETRACE_DISABLE", "scan-iter", 1);
	if (*state)
		link = scan_path(&sc, m.fd, &cut);
	sc.budget_ns = 1;	/* a batch a call */
	out.rec.record = count_rec;
	out.rec.ctx = recs;
	assert_int_equal(ct_clock_sync(F.skel, 1, &clk), 0);
	do {
		__u64 before = sc.last_seen_flows, met = sc.pass_seen;

		assert_int_equal(ct_scan(&sc, &exp, &clk, F.skel->bss->user_clock_ns,
					 CT_SCAN_EXPIRE, &out), 0);
		/*
		 * Until the first pass ends, the table's count is what the slices met and did
		 * not take out: never more than the table holds. Reading every entry, it only
		 * grows; through the cut, a read's flows go out at the next read, and the
		 * last read of a pass may meet fewer than that.
		 */
		if (ct_scan_midpass(&sc)) {
			assert_true(sc.pass_seen >= met);
			assert_true(sc.last_seen_flows <=
				    n + (calls > 3 ? more : 0) - sc.removed);
			if (!link)
				assert_true(sc.last_seen_flows >= before);
		}
		/* new flows between slices: a pass may or may not meet them, never twice */
		if (calls++ == 3)
			for (__u32 i = 0; i < more; i++)
				send_raw(fd, frame, tuple_frame(frame, n + i, ACK | PSH, 12));
	} while (ct_scan_midpass(&sc));
	ct_scanner_free(&sc);
	if (link)
		ct_unload_scan(link, cut);
	swap_back();
	print_message("%d slices; %llu closes\n", calls, (unsigned long long)recs[1]);
	assert_true(calls >= (int)(n / 1024));
	/* every old flow closed exactly once (the new ones are not idle yet) */
	assert_int_equal(recs[1], n);
	assert_int_equal(recs[0], n);	/* and its final record */
	assert_int_equal(sc.removed, n);
	/* what the pass left: the new flows it met (all of them or a part) */
	assert_true(sc.last_seen_flows <= more);
}

/* ---- the kernel's cut decides as user space does ------------------------------------ */

struct rec_log {
	size_t n, cap;
	struct ct_record *r;
};

static int log_rec(void *ctx, const struct ct_record *r)
{
	struct rec_log *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->r = realloc(l->r, l->cap * sizeof(*l->r));
		assert_non_null(l->r);
	}
	l->r[l->n++] = *r;
	return 0;
}

static int rec_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ct_record));
}

static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A table of random flows (random state words, closes, first and last packets around the
 * timeouts, both clocks): an expiry pass through the kernel's cut removes the same flows
 * and gives the same records as a pass reading every entry. The cut only chooses what
 * user space reads, so the records must be identical.
 */
static void t_scan_cut_same(void **state)
{
	const __u32 n = 30000;
	const __u64 sec = 1000000000ull;
	struct ct_expiry exp = { 10 * sec, 300 * sec, 5 * sec };
	struct ct_load_opts lo = { .flows = n, .progs = CT_PROG_XDP };
	struct ct_flow_key *keys = calloc(n, sizeof(*keys));
	struct ct_flow *vals = calloc(n, sizeof(*vals));
	__u64 seed = 0x9e3779b97f4a7c15ull;

	(void)state;
	need_priv();
	assert_non_null(keys);
	assert_non_null(vals);
	for (int replay = 0; replay < 2; replay++) {
		struct rec_log got[3] = { { 0 } };
		struct ct_clock clk = { .replay = (__u32)replay,
					.tick_ns = replay ? CT_REPLAY_TICK_NS : 4000000,
					.probe_tick = 123456, .probe_ns = 5000 * sec };
		__u64 now = clk.probe_ns + 2 * sec;
		__u64 removed[3];

		for (__u32 i = 0; i < n; i++) {
			__u64 r = rnd(&seed), age = rnd(&seed) % (400 * sec);
			struct ct_flow *f = &vals[i];

			memset(&keys[i], 0, sizeof(keys[i]));
			keys[i].addr[0][2] = keys[i].addr[1][2] = htonl(0xffff);
			keys[i].addr[0][3] = htonl(0x0a000000 | i);
			keys[i].addr[1][3] = htonl(0x0b000001);
			keys[i].port[0] = (__u16)(1024 + (r & 0x3fff));
			keys[i].port[1] = 443;
			keys[i].ifvlan = CT_IFVLAN(1, 0);
			memset(f, 0, sizeof(*f));
			f->state = (__u32)(rnd(&seed) & (CT_ST_LETTERS | CT_ST_CT | CT_ST_HS_DONE |
							 CT_ST_ROLE | CT_ST_CLIENT_HI |
							 CT_ST_GUESS_HI | CT_ST_ASSURED));
			if (!(r % 5)) {
				f->state |= CT_ST_ENDED;
				f->close = (__u8)(r % CT_CLOSE_MAX);
				f->end_ns = now - age / 2;
			}
			f->first_ns = now - age;
			/* last packet: anywhere from the first to now, in ticks of the clock */
			{
				__u64 last = f->first_ns + (age ? rnd(&seed) % age : 0);
				__u64 first_tick = f->first_ns / clk.tick_ns;

				if (replay)
					f->last_seen = (__u32)(first_tick +
							       (last - f->first_ns) / clk.tick_ns);
				else
					f->last_seen = clk.probe_tick -
						       (__u32)((clk.probe_ns - last) / clk.tick_ns);
			}
			f->pkts[0] = r & 0xff;
		}
		/* 0: every entry; 1: the cut; 2: a cut that cannot be made (not a link) */
		for (int cut = 0; cut < 3; cut++) {
			struct closetrace *sk = ct_load(&lo, F.why, sizeof(F.why));
			struct ct_scan_params none = { 0 };
			struct ct_scan_out out = { .rec = { .record = log_rec, .ctx = &got[cut] } };
			struct bpf_link *link = NULL;
			struct scan *sc = NULL;
			struct ct_scanner s;
			struct ct_map m;
			__u32 cnt = n;

			assert_non_null(sk);
			ct_map_kernel(&m, bpf_map__fd(sk->maps.flows), n, 0);
			assert_int_equal(bpf_map_update_batch(m.fd, keys, vals, &cnt, NULL), 0);
			assert_int_equal(ct_scanner_init(&s, &m, 0), 0);
			if (cut == 1) {
				link = scan_path(&s, m.fd, &sc);
			} else if (cut == 2) {
				assert_int_equal(ct_scanner_use_cut(&s, m.fd, &none), 0);
			}
			assert_int_equal(ct_scan(&s, &exp, &clk, now, CT_SCAN_EXPIRE, &out), 0);
			/* without an iterator, the scanner reads every entry from then on */
			if (cut == 2)
				assert_null(s.cut);
			assert_false(ct_scan_midpass(&s));
			assert_int_equal(s.last_seen_flows, n - s.removed);
			removed[cut] = s.removed;
			ct_scanner_free(&s);
			if (link)
				ct_unload_scan(link, sc);
			ct_unload(sk);
		}
		print_message("%s clock: %llu of %u flows removed, %zu records\n",
			      replay ? "replay" : "live", (unsigned long long)removed[0], n,
			      got[0].n);
		assert_true(removed[0] > n / 10 && removed[0] < n);	/* a mix */
		for (int k = 0; k < 3; k++)
			qsort(got[k].r, got[k].n, sizeof(*got[k].r), rec_cmp);
		for (int k = 1; k < 3; k++) {
			assert_int_equal(removed[0], removed[k]);
			assert_int_equal(got[0].n, got[k].n);
			assert_memory_equal(got[0].r, got[k].r, got[0].n * sizeof(*got[0].r));
		}
		for (int k = 0; k < 3; k++)
			free(got[k].r);
	}
	free(keys);
	free(vals);
}

/* ---- two CPUs on the same flows: exactly one close per flow -------------------------- */

#define RACE_FLOWS 1500

struct racer {
	struct closetrace *skel;
	int cpu;
	int from_client;
	uint8_t flags;
	pthread_barrier_t *bar;
	int failures;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	static const struct variant v = { P_XDP, 4, 0, 0 };
	cpu_set_t set;
	uint8_t frame[PKT_MAX];
	struct pkt_layout lay;
	struct conn cn;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	/* not on its CPU, there is no race to test: a failure, not a quiet pass */
	if (sched_setaffinity(0, sizeof(set), &set))
		r->failures = RACE_FLOWS + 1;
	pthread_barrier_wait(r->bar);
	for (int i = 0; i < RACE_FLOWS; i++) {
		conn_init(&cn, &v, 0);
		snprintf(cn.c_ip, sizeof(cn.c_ip), "10.%d.%d.1", i / 250, i % 250);
		struct pkt_spec s = {
			.family = 4, .flags = r->flags,
			.src = r->from_client ? cn.c_ip : cn.s_ip,
			.dst = r->from_client ? cn.s_ip : cn.c_ip,
			.sport = r->from_client ? cn.c_port : cn.s_port,
			.dport = r->from_client ? cn.s_port : cn.c_port,
		};
		size_t len = pkt_build(frame, &s, &lay);
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
			    .repeat = 1);

		if (bpf_prog_test_run_opts(bpf_program__fd(r->skel->progs.ct_xdp), &o))
			r->failures++;
	}
	return NULL;
}

struct race_events {
	__u8 kinds[2 * RACE_FLOWS];
	int n;
};

static int on_race_event(void *ctx, void *data, size_t len)
{
	struct race_events *re = ctx;

	if (len >= CT_EVENT_PLAIN_SIZE && re->n < 2 * RACE_FLOWS)
		re->kinds[re->n++] = ((struct ct_event *)data)->close;
	return 0;
}

/* Set up RACE_FLOWS established flows, then send @cf from the client and @sf from the
 * server on two CPUs at once, flow by flow; return the events seen. */
static int race_flows(uint8_t cf, uint8_t sf, struct race_events *re, __u64 *c)
{
	struct closetrace *sk;
	struct ring_buffer *rb;
	pthread_barrier_t bar;
	pthread_t th[2];
	struct racer r[2] = {
		{ .cpu = -1, .from_client = 1, .flags = cf },
		{ .cpu = -1, .from_client = 0, .flags = sf },
	};
	static const struct variant v = { P_XDP, 4, 0, 0 };
	struct conn cn;
	cpu_set_t mine;

	/* two CPUs this process may run on (a cpuset need not hold CPUs 0 and 1) */
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	for (int cpu = 0, n = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &mine))
			r[n++].cpu = cpu;
	if (r[1].cpu < 0)
		fail_msg("the race needs two CPUs; this process may run on %d", CPU_COUNT(&mine));

	sk = load_opts(1, 1, 1 << 20, 0);
	assert_non_null(sk);
	rb = ring_buffer__new(bpf_map__fd(sk->maps.events), on_race_event, re, NULL);
	if (!rb)
		ct_unload(sk);
	assert_non_null(rb);
	use(sk, rb);
	for (int i = 0; i < RACE_FLOWS; i++) {
		conn_init(&cn, &v, 0);
		snprintf(cn.c_ip, sizeof(cn.c_ip), "10.%d.%d.1", i / 250, i % 250);
		RUN(&cn, { FROM_C, SYN, 0 }, { FROM_S, SYN | ACK, 0 }, { FROM_C, ACK, 0 });
	}
	F.nev = 0;
	pthread_barrier_init(&bar, NULL, 2);
	for (int i = 0; i < 2; i++) {
		r[i].skel = sk;
		r[i].bar = &bar;
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&bar);
	assert_int_equal(r[0].failures + r[1].failures, 0);
	re->n = 0;
	ring_buffer__consume(F.rb);
	counters(c);
	swap_back();
	return re->n;
}

static void t_race_fin_fin(void **state)
{
	static struct race_events re;
	__u64 c[CT_C_MAX];
	int n;

	(void)state;
	need_priv();
	n = race_flows(FIN | ACK, FIN | ACK, &re, c);
	assert_int_equal(n, RACE_FLOWS);
	for (int i = 0; i < n; i++)
		assert_int_equal(re.kinds[i], CT_CLOSE_GRACEFUL);
	assert_int_equal(c[CT_C_CLOSE_BASE + CT_CLOSE_GRACEFUL], RACE_FLOWS);
}

static void t_race_rst_rst(void **state)
{
	static struct race_events re;
	__u64 c[CT_C_MAX];
	int n;

	(void)state;
	need_priv();
	n = race_flows(RST | ACK, RST | ACK, &re, c);
	assert_int_equal(n, RACE_FLOWS);
	for (int i = 0; i < n; i++)
		assert_true(re.kinds[i] == CT_CLOSE_RESET_CLIENT ||
			    re.kinds[i] == CT_CLOSE_RESET_SERVER);
	assert_int_equal(c[CT_C_CLOSE_BASE + CT_CLOSE_RESET_CLIENT] +
				 c[CT_C_CLOSE_BASE + CT_CLOSE_RESET_SERVER],
			 RACE_FLOWS);
	assert_int_equal(c[CT_C_RST_CLT], RACE_FLOWS);
	assert_int_equal(c[CT_C_RST_SRV], RACE_FLOWS);
}

/* ---- malformed input -------------------------------------------------------------------- */

/*
 * Run a frame that must not make a flow; assert which counter it landed in: @counter, or
 * (@alt >= 0) one of @counter and @alt.
 */
static void expect_no_flow_in(enum prog p, const uint8_t *frame, size_t len, int counter,
			      int alt)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	__u64 before[CT_C_MAX], after[CT_C_MAX];

	counters(before);
	run_frame(p, frame, len);
	counters(after);
	assert_int_equal(flows_dump(keys, vals), 0);
	assert_int_equal(after[CT_C_PACKETS], before[CT_C_PACKETS] + 1);
	assert_int_equal(after[CT_C_TCP], before[CT_C_TCP]);
	if (alt < 0)
		assert_int_equal(after[counter], before[counter] + 1);
	else
		assert_int_equal(after[counter] + after[alt], before[counter] + before[alt] + 1);
}

static void expect_no_flow(enum prog p, const uint8_t *frame, size_t len, int counter)
{
	expect_no_flow_in(p, frame, len, counter, -1);
}

static size_t base_frame(uint8_t *f, int family, int vlans, uint32_t payload,
			 struct pkt_layout *lay)
{
	struct pkt_spec s = {
		.family = family, .vlans = vlans, .sport = 40000, .dport = 80,
		.flags = CT_TH_SYN, .payload = payload,
		.src = family == 4 ? "192.0.2.1" : "2001:db8::1",
		.dst = family == 4 ? "192.0.2.2" : "2001:db8::2",
	};
	size_t len = pkt_build(f, &s, lay);

	assert_true(len > 0);
	return len;
}

/* Insert IPv6 extension headers of @types (8 bytes each) before the TCP header. */
static size_t add_ext6(uint8_t *f, size_t len, struct pkt_layout *lay, const uint8_t *types,
		       int n)
{
	uint8_t *ip = f + lay->l3;
	size_t tcp_len = len - lay->l4, add = (size_t)n * 8;
	uint16_t plen = (uint16_t)(ip[4] << 8 | ip[5]);

	memmove(f + lay->l4 + add, f + lay->l4, tcp_len);
	for (int i = 0; i < n; i++) {
		uint8_t *e = f + lay->l4 + i * 8;

		memset(e, 0, 8);
		e[0] = i == n - 1 ? 6 : types[i + 1];
	}
	ip[6] = types[0];
	plen += (uint16_t)add;
	ip[4] = plen >> 8;
	ip[5] = plen & 0xff;
	lay->l4 += add;
	return len + add;
}

/* A SYN in tunnel @t (family @fam), into @f: its layout in @lay; returns its length. */
static size_t tunnel_frame(uint8_t *f, int t, int fam, struct pkt_layout *lay)
{
	struct pkt_spec s = {
		.family = fam, .src = fam == 4 ? "192.0.2.1" : "2001:db8::1",
		.dst = fam == 4 ? "198.51.100.1" : "2001:db8::2", .sport = 40000, .dport = 80,
		.flags = CT_TH_SYN, .tunnel = t, .tun_id = 77, .from_client = 1,
	};
	size_t len = pkt_build(f, &s, lay);

	assert_true(len > 0);
	return len;
}

/* A frame that makes no flow, counted as malformed or as other (a datagram cut before its
 * port says it is a tunnel's) */
static void expect_no_flow_any(enum prog p, const uint8_t *frame, size_t len)
{
	expect_no_flow_in(p, frame, len, CT_C_MALFORMED, CT_C_OTHER);
}

/*
 * Tunnel headers damaged one way at a time, for each type: cut at every length short of the
 * inner TCP header; flags, versions and message types that are not a tunnel's user data;
 * lengths past what carries them; a tunnel inside a tunnel. Never a flow, never a crash.
 */
static void t_tunnel_malformed(void **state)
{
	const struct variant *v = *state;
	uint8_t f[PKT_MAX], g[PKT_MAX];
	struct pkt_layout lay;
	size_t len, h;

	need_priv();
	for (int t = CT_TUN_VXLAN; t < CT_TUN_MAX; t++) {
		int fam = t == CT_TUN_TEREDO ? 6 : 4;

		len = tunnel_frame(f, t, fam, &lay);
		h = lay.tun_hdr;
		/* skb programs take no frame shorter than the outer IP header */
		for (size_t cut = v->prog == P_XDP ? 14 : lay.tun; cut < lay.l4 + 20; cut++)
			expect_no_flow_any(v->prog, f, cut);
		/* the inner IP packet longer than the tunnel carries */
		memcpy(g, f, len);
		g[lay.l3 + (fam == 4 ? 3 : 5)] += 40;
		expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
		/* the inner packet is no IP: a version nibble of 5 */
		memcpy(g, f, len);
		g[lay.l3] = (uint8_t)(5 << 4 | (g[lay.l3] & 0x0f));
		expect_no_flow_any(v->prog, g, len);
		memcpy(g, f, len);
		switch (t) {
		case CT_TUN_VXLAN:
			g[h] = 0;	/* no I flag */
			expect_no_flow(v->prog, g, len, CT_C_OTHER);
			break;
		case CT_TUN_GENEVE:
			g[h] |= 0x40;	/* version 1 */
			expect_no_flow(v->prog, g, len, CT_C_OTHER);
			memcpy(g, f, len);
			g[h] |= 0x3f;	/* 252 bytes of options, past the frame */
			expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
			break;
		case CT_TUN_GTPU:
			g[h + 1] = 1;	/* an echo request */
			expect_no_flow(v->prog, g, len, CT_C_OTHER);
			memcpy(g, f, len);
			g[h] = 0x54;	/* version 2 */
			expect_no_flow(v->prog, g, len, CT_C_OTHER);
			memcpy(g, f, len);
			g[h + 2] = 0xff;	/* a length past the datagram */
			expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
			memcpy(g, f, len);
			g[h + 12] = 0;	/* an extension of no length */
			expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
			memcpy(g, f, len);
			g[h + 12] = 200;	/* one past the frame */
			expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
			break;
		case CT_TUN_TEREDO:
			/* an authentication indicator whose lengths run past the datagram */
			g[h + 1] = 1;
			g[h + 2] = 200;
			g[h + 3] = 200;
			expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
			break;
		case CT_TUN_GRE:
			g[h + 1] |= 1;	/* version 1: PPTP */
			expect_no_flow(v->prog, g, len, CT_C_OTHER);
			memcpy(g, f, len);
			g[h] |= 0x40;	/* RFC 1701 routing */
			expect_no_flow(v->prog, g, len, CT_C_OTHER);
			memcpy(g, f, len);
			g[h + 2] = 0x12;	/* a payload type no parser knows */
			expect_no_flow(v->prog, g, len, CT_C_OTHER);
			break;
		case CT_TUN_ERSPAN:
			g[h + 8] = 0x30;	/* ERSPAN version 3 in a type II header */
			expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
			break;
		}
	}

	/* a tunnel in a tunnel: VXLAN inside VXLAN is opened once, its inside not at all */
	{
		struct pkt_spec in = {
			.family = 4, .src = "192.0.2.1", .dst = "198.51.100.1", .sport = 40000,
			.dport = 80, .flags = CT_TH_SYN, .tunnel = CT_TUN_VXLAN, .tun_id = 5,
			.from_client = 1,
		};
		struct pkt_layout il;
		size_t ilen = pkt_build(g, &in, &il);

		assert_true(ilen > 0);
		len = tunnel_frame(f, CT_TUN_VXLAN, 4, &lay);
		/* the outer tunnel's inner frame becomes the whole inner VXLAN frame */
		h = lay.tun_hdr + 8;
		memcpy(f + h, g, ilen);
		len = h + ilen;
		f[lay.tun - 20 + 2] = (uint8_t)((len - (lay.tun - 20)) >> 8);
		f[lay.tun - 20 + 3] = (uint8_t)(len - (lay.tun - 20));
		f[lay.tun + 4] = (uint8_t)((len - lay.tun) >> 8);
		f[lay.tun + 5] = (uint8_t)(len - lay.tun);
		expect_no_flow(v->prog, f, len, CT_C_OTHER);
	}
}

static void t_malformed(void **state)
{
	const struct variant *v = *state;
	uint8_t f[PKT_MAX], g[PKT_MAX];
	struct pkt_layout lay;
	size_t len, min_cut = 14;

	need_priv();
	len = base_frame(f, v->family, v->vlans, 0, &lay);

	/*
	 * Cut at every length short of a full TCP header. test_run takes no frame under 14
	 * bytes, and for skb programs none with an IP ethertype shorter than the IP header:
	 * those cuts reach the same parser through the XDP variants.
	 */
	if (v->prog != P_XDP && v->vlans == 0)
		min_cut = lay.l3 + (v->family == 4 ? 20 : 40);
	for (size_t cut = min_cut; cut < lay.l4 + 20; cut++)
		expect_no_flow(v->prog, f, cut, CT_C_MALFORMED);

	/* the IP version does not match the ethertype */
	memcpy(g, f, len);
	g[lay.l3] = (uint8_t)((v->family == 4 ? 6 : 4) << 4 | (g[lay.l3] & 0x0f));
	expect_no_flow(v->prog, g, len, CT_C_MALFORMED);

	/* TCP data offset < 5, and one longer than the IP payload */
	memcpy(g, f, len);
	g[lay.l4 + 12] = 4 << 4;
	expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
	g[lay.l4 + 12] = 15 << 4;
	expect_no_flow(v->prog, g, len, CT_C_MALFORMED);

	if (v->family == 4) {
		/* IHL < 5 */
		memcpy(g, f, len);
		g[lay.l3] = 0x44;
		expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
		/* total length shorter than the header */
		memcpy(g, f, len);
		g[lay.l3 + 2] = 0;
		g[lay.l3 + 3] = 16;
		expect_no_flow(v->prog, g, len, CT_C_MALFORMED);
		/* a non-first fragment carries no TCP header */
		memcpy(g, f, len);
		g[lay.l3 + 6] = 0x00;
		g[lay.l3 + 7] = 0x10;
		expect_no_flow(v->prog, g, len, CT_C_FRAGMENT);
		/* not TCP */
		memcpy(g, f, len);
		g[lay.l3 + 9] = 17;
		expect_no_flow(v->prog, g, len, CT_C_OTHER);
	} else {
		/* an extension chain longer than the walk's bound */
		static const uint8_t dst7[7] = { 60, 60, 60, 60, 60, 60, 60 };
		static const uint8_t frag[1] = { 44 };
		struct pkt_layout l2 = lay;
		size_t n;

		memcpy(g, f, len);
		n = add_ext6(g, len, &l2, dst7, 7);
		expect_no_flow(v->prog, g, n, CT_C_OTHER);
		/* a non-first fragment */
		memcpy(g, f, len);
		l2 = lay;
		n = add_ext6(g, len, &l2, frag, 1);
		g[l2.l4 - 8 + 3] = 0x08;	/* offset 1 (x 8 bytes) */
		expect_no_flow(v->prog, g, n, CT_C_FRAGMENT);
		/* not TCP */
		memcpy(g, f, len);
		g[lay.l3 + 6] = 17;
		expect_no_flow(v->prog, g, len, CT_C_OTHER);
	}

	/* a bare 14-byte frame: an IP ethertype with nothing after it (XDP; see above), or
	 * an ethertype we do not parse */
	memcpy(g, f, 14);
	if (v->vlans == 0 && v->prog == P_XDP)
		expect_no_flow(v->prog, g, 14, CT_C_MALFORMED);
	g[12] = 0x88;
	g[13] = 0xb5;
	expect_no_flow(v->prog, g, 14, CT_C_OTHER);
	/* not IP at all (ARP) */
	memcpy(g, f, len);
	g[lay.l3 - 2] = 0x08;
	g[lay.l3 - 1] = 0x06;
	expect_no_flow(v->prog, g, len, CT_C_OTHER);
}

/* Well-formed but unusual: first fragments and extension headers within the bound parse. */
static void t_parse_edges(void **state)
{
	const struct variant *v = *state;
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	uint8_t f[PKT_MAX];
	struct pkt_layout lay;
	__u64 c[CT_C_MAX];
	size_t len;

	need_priv();
	len = base_frame(f, v->family, v->vlans, 30, &lay);
	if (v->family == 4) {
		f[lay.l3 + 6] = 0x20;	/* more fragments, offset 0: the first fragment */
		f[lay.l3 + 0] = 0x46;	/* and 4 bytes of IP options */
		memmove(f + lay.l4 + 4, f + lay.l4, len - lay.l4);
		memset(f + lay.l4, 1, 4);	/* four NOP options */
		f[lay.l3 + 3] += 4;
		len += 4;
	} else {
		/* hop-by-hop, destination options, a first fragment (offset 0, more) */
		static const uint8_t chain[3] = { 0, 60, 44 };

		len = add_ext6(f, len, &lay, chain, 3);
		f[lay.l4 - 8 + 3] = 0x01;
	}
	run_frame(v->prog, f, len);
	counters(c);
	assert_int_equal(c[CT_C_TCP], 1);
	assert_int_equal(c[CT_C_MALFORMED], 0);
	assert_int_equal(flows_dump(keys, vals), 1);
	assert_int_equal(vals[0].bytes[0] + vals[0].bytes[1], 30);
	assert_int_equal(vals[0].syn[0] + vals[0].syn[1], 1);
}

/*
 * Wrap the IP packet of a plain Ethernet frame @f (@len bytes) in @hdr (@hlen bytes)
 * after the MAC addresses, with ethertype @et; returns the new length.
 */
static size_t wrap(uint8_t *g, const uint8_t *f, size_t len, uint16_t et, const uint8_t *hdr,
		   size_t hlen)
{
	memcpy(g, f, 12);
	g[12] = et >> 8;
	g[13] = et & 0xff;
	memcpy(g + 14, hdr, hlen);
	memcpy(g + 14 + hlen, f + 14, len - 14);
	return len + hlen;
}

/* Run @g and expect one flow 192.0.2.1:40000 / 192.0.2.2:80 (or v6), or none. */
static void expect_flow(enum prog p, const uint8_t *g, size_t len, int family, int want_tcp,
			__u16 vlan)
{
	struct ct_flow_key keys[MAX_FLOWS], want = { 0 };
	struct ct_flow vals[MAX_FLOWS];
	__u64 before[CT_C_MAX], after[CT_C_MAX];
	const char *a = family == 4 ? "192.0.2.1" : "2001:db8::1";
	const char *b = family == 4 ? "192.0.2.2" : "2001:db8::2";
	int n;

	counters(before);
	run_frame(p, g, len);
	counters(after);
	n = flows_dump(keys, vals);
	if (!want_tcp) {
		assert_int_equal(after[CT_C_TCP], before[CT_C_TCP]);
		assert_int_equal(n, 0);
		return;
	}
	assert_int_equal(after[CT_C_TCP], before[CT_C_TCP] + 1);
	assert_int_equal(n, 1);
	if (family == 4) {
		want.addr[0][2] = want.addr[1][2] = htonl(0xffff);
		inet_pton(AF_INET, a, &want.addr[0][3]);
		inet_pton(AF_INET, b, &want.addr[1][3]);
	} else {
		inet_pton(AF_INET6, a, want.addr[0]);
		inet_pton(AF_INET6, b, want.addr[1]);
	}
	want.port[0] = 40000;
	want.port[1] = 80;
	ct_key_canon(&want);
	want.ifvlan = CT_IFVLAN(1, vlan);
	assert_memory_equal(&keys[0], &want, sizeof(want));
	bpf_map_delete_elem(bpf_map__fd(F.skel->maps.flows), &keys[0]);
}

static void t_encapsulations(void **state)
{
	static const uint8_t mpls2[] = { 0x00, 0x01, 0x00, 0x40, 0x00, 0x01, 0x11, 0x40 };
	static const uint8_t mpls5[] = { 0, 1, 0, 64, 0, 1, 0, 64, 0, 1, 0, 64, 0, 1, 0, 64,
					  0, 1, 1, 64 };
	static const uint8_t pppoe_ip6[] = { 0x11, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x57 };
	static const uint8_t pppoe_lcp[] = { 0x11, 0x00, 0x00, 0x07, 0x00, 0x00, 0xc0, 0x21 };
	/* FabricPath: FTag/TTL, inner MACs, inner type IPv4 */
	static const uint8_t fp4[] = { 0x00, 0x3f, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08,
				       0x00 };
	/* three stacked tags (the bound), then four */
	static const uint8_t tags3[] = { 0x00, 0x0a, 0x81, 0x00, 0x00, 0x0b, 0x81, 0x00, 0x00,
					 0x0c, 0x08, 0x00 };
	static const uint8_t tags4[] = { 0x00, 0x0a, 0x81, 0x00, 0x00, 0x0b, 0x81, 0x00, 0x00,
					 0x0c, 0x81, 0x00, 0x00, 0x0d, 0x08, 0x00 };
	static const uint8_t qinq_old[] = { 0x00, 0x2a, 0x81, 0x00, 0x00, 0x0b, 0x08, 0x00 };
	uint8_t f4[PKT_MAX], f6[PKT_MAX], g[PKT_MAX];
	struct pkt_layout lay;
	size_t l4, l6, n;

	(void)state;
	need_priv();
	l4 = base_frame(f4, 4, 0, 0, &lay);
	l6 = base_frame(f6, 6, 0, 0, &lay);

	n = wrap(g, f4, l4, 0x8847, mpls2, sizeof(mpls2));
	expect_flow(P_XDP, g, n, 4, 1, 0);
	n = wrap(g, f4, l4, 0x8847, mpls5, sizeof(mpls5));	/* deeper than 4 labels */
	expect_flow(P_XDP, g, n, 4, 0, 0);
	n = wrap(g, f6, l6, 0x8864, pppoe_ip6, sizeof(pppoe_ip6));
	expect_flow(P_TC, g, n, 6, 1, 0);
	n = wrap(g, f6, l6, 0x8864, pppoe_lcp, sizeof(pppoe_lcp));	/* PPP, not IP */
	expect_flow(P_TC, g, n, 6, 0, 0);
	n = wrap(g, f4, l4, 0x8903, fp4, sizeof(fp4));
	expect_flow(P_XDP, g, n, 4, 1, 0);
	n = wrap(g, f4, l4, 0x8100, tags3, sizeof(tags3));
	expect_flow(P_XDP, g, n, 4, 1, 10);
	n = wrap(g, f4, l4, 0x8100, tags4, sizeof(tags4));
	expect_flow(P_XDP, g, n, 4, 0, 0);
	n = wrap(g, f4, l4, 0x9100, qinq_old, sizeof(qinq_old));
	expect_flow(P_TC, g, n, 4, 1, 42);
}

/* IPv6 routing and AH headers are walked; the sizes each declares are honoured. */
static void t_ipv6_routing_ah(void **state)
{
	static const uint8_t chain[2] = { 43, 51 };
	uint8_t f[PKT_MAX];
	struct pkt_layout lay;
	size_t len;

	(void)state;
	need_priv();
	len = base_frame(f, 6, 0, 0, &lay);
	len = add_ext6(f, len, &lay, chain, 2);
	/* the AH (second, 8 bytes as written) declares (0 + 2) * 4 = 8 bytes: consistent */
	f[lay.l4 - 8 + 1] = 0;
	expect_flow(P_XDP, f, len, 6, 1, 0);
	/* an AH claiming 16 bytes puts the TCP header elsewhere: no longer a valid segment */
	f[lay.l4 - 8 + 1] = 2;
	expect_flow(P_XDP, f, len, 6, 0, 0);
}

/* GSO packets past 64 KiB carry no IP length (BIG TCP): the frame's length stands in. */
static void t_big_tcp_lengths(void **state)
{
	struct ct_flow_key keys[MAX_FLOWS];
	struct ct_flow vals[MAX_FLOWS];
	uint8_t f[PKT_MAX];
	struct pkt_layout lay;
	size_t len;

	(void)state;
	need_priv();
	for (int fam = 4; fam <= 6; fam += 2) {
		len = base_frame(f, fam, 0, 100, &lay);
		if (fam == 4) {
			f[lay.l3 + 2] = 0;
			f[lay.l3 + 3] = 0;
		} else {
			f[lay.l3 + 4] = 0;
			f[lay.l3 + 5] = 0;
		}
		run_frame(P_TC, f, len);
		assert_int_equal(flows_dump(keys, vals), 1);
		assert_int_equal(vals[0].bytes[0] + vals[0].bytes[1], 100);
		bpf_map_delete_elem(bpf_map__fd(F.skel->maps.flows), &keys[0]);
	}
}

/* ---- the verifier's log -------------------------------------------------------------- */

/* libbpf's line before the verifier's log of a program that failed to load (1.1) */
#define PROG_LOAD_LOG "-- BEGIN PROG LOAD LOG --"

/*
 * Load reject.bpf.o, which the verifier refuses, at @verbosity with stderr captured into
 * @out. Returns libbpf's error. libbpf's own printer, which the other tests leave in
 * place, is put back afterwards.
 */
static int load_rejected(int verbosity, char *out, size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "reject");
	libbpf_print_fn_t prev = libbpf_set_print(NULL);
	struct bpf_object *obj;
	const void *elf;
	FILE *cap = tmpfile();
	size_t sz, n;
	int saved, err;

	assert_non_null(cap);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(cap), STDERR_FILENO) >= 0);
	ct_log_init(verbosity);

	elf = reject__elf_bytes(&sz);
	obj = bpf_object__open_mem(elf, sz, &oo);
	err = obj ? bpf_object__load(obj) : -errno;
	bpf_object__close(obj);

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ct_log_init(0);
	libbpf_set_print(prev);

	rewind(cap);
	n = fread(out, 1, len - 1, cap);
	out[n] = '\0';
	fclose(cap);
	assert_non_null(obj);
	return err;
}

/*
 * A refused program's verifier log is a libbpf warning, and log.c shows libbpf's warnings
 * from -v on: the loader's error says "run with -v to see the verifier's log".
 */
static void t_verifier_log_at_v(void **state)
{
	static char out[1 << 16];

	(void)state;
	need_priv();
	assert_true(load_rejected(1, out, sizeof(out)) < 0);
	if (!strstr(out, PROG_LOAD_LOG))
		fail_msg("no verifier log on stderr at -v; stderr was:\n%s", out);
}

/* Without -v a failed load prints nothing of libbpf's: the one-line error is enough. */
static void t_verifier_log_quiet(void **state)
{
	static char out[1 << 16];

	(void)state;
	need_priv();
	assert_true(load_rejected(0, out, sizeof(out)) < 0);
	if (strstr(out, PROG_LOAD_LOG))
		fail_msg("the verifier log shows without -v; stderr was:\n%s", out);
}

/* ---- the test table ------------------------------------------------------------------ */

typedef void (*test_fn)(void **);

static const struct {
	const char *name;
	test_fn fn;
} kinds[] = {
	{ "graceful", t_graceful },	    { "refused", t_refused },
	{ "reset-client", t_reset_client }, { "reset-server", t_reset_server },
	{ "fin-reset", t_fin_reset },	    { "syn-reset", t_syn_reset },
	{ "synack-reset", t_synack_reset }, { "orphan-rst", t_orphan_rst },
};

#define NVARIANTS 40
static struct variant variants[NVARIANTS];
static struct CMUnitTest tests[768];
static char names[768][80];
static size_t ntests;

static void add(const char *name, test_fn fn, const void *st)
{
	snprintf(names[ntests], sizeof(names[ntests]), "%s", name);
	tests[ntests] = (struct CMUnitTest){
		.name = names[ntests], .test_func = fn, .setup_func = setup, .teardown_func = teardown,
		.initial_state = (void *)st,
	};
	ntests++;
}

static const char *vname(const struct variant *v)
{
	static char buf[64];
	static const char *const tag[] = { "plain", "vlan", "qinq" };
	static const char *const tun[] = { "", "/vxlan", "/geneve", "/gtpu", "/teredo", "/gre",
					   "/erspan" };

	snprintf(buf, sizeof(buf), "%s/ipv%d/%s%s", prog_names[v->prog], v->family, tag[v->vlans],
		 tun[v->tunnel]);
	return buf;
}

int main(void)
{
	char name[80];
	size_t nv = 0;

	for (int p = P_XDP; p <= P_TC_META; p++)
		for (int fam = 4; fam <= 6; fam += 2)
			for (int vl = p == P_TC_META ? 1 : 0; vl <= 2; vl++)
				variants[nv++] = (struct variant){ p, fam, vl, 0 };
	/* every kind of close inside each tunnel, both programs (Teredo carries IPv6 only) */
	for (int t = CT_TUN_VXLAN; t < CT_TUN_MAX; t++)
		for (int p = P_XDP; p <= P_TC; p++)
			for (int fam = t == CT_TUN_TEREDO ? 6 : 4; fam <= 6; fam += 2)
				variants[nv++] = (struct variant){ p, fam, t == CT_TUN_GRE, t };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (size_t i = 0; i < nv; i++) {
			snprintf(name, sizeof(name), "%s %s", kinds[k].name, vname(&variants[i]));
			add(name, kinds[k].fn, &variants[i]);
		}
	for (size_t i = 0; i < nv; i++) {
		if (variants[i].prog == P_TC_META || variants[i].tunnel)
			continue;
		snprintf(name, sizeof(name), "malformed %s", vname(&variants[i]));
		add(name, t_malformed, &variants[i]);
		snprintf(name, sizeof(name), "parse-edges %s", vname(&variants[i]));
		add(name, t_parse_edges, &variants[i]);
	}
	add("tunnel-malformed xdp", t_tunnel_malformed, &v4_xdp);
	add("tunnel-malformed tc", t_tunnel_malformed, &v6_tc);
	add("syn-retransmit xdp/ipv4", t_syn_retransmit, &v4_xdp);
	add("syn-retransmit tc/ipv6", t_syn_retransmit, &v6_tc);
	add("new-syn-after-reset xdp/ipv4", t_new_syn_after_reset, &v4_xdp);
	add("new-syn-after-reset tc/ipv6", t_new_syn_after_reset, &v6_tc);
	add("late-packets-after-reset xdp/ipv4", t_late_packets_after_reset, &v4_xdp);
	add("late-packets-after-reset tc/ipv6", t_late_packets_after_reset, &v6_tc);
	add("graceful-switch-off kernel-clock", t_graceful_switch_and_kernel_clock, NULL);
	{
		static const struct {
			const char *name;
			test_fn fn;
		} orders[] = {
			{ "order synack-client-rstack", t_order_synack_client_rstack },
			{ "order synack-server-rst", t_order_synack_server_rst },
			{ "order missed-synack", t_order_missed_synack },
			{ "order syn-rst-no-restart", t_order_syn_rst_no_restart },
			{ "order midstream", t_order_midstream },
			{ "order midstream-high-ports", t_order_midstream_high_ports },
			{ "order fin-retransmit", t_order_fin_retransmit },
			{ "order graceful-then-syn", t_order_graceful_then_syn },
			{ "order simultaneous-open", t_order_simultaneous_open },
		};

		for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
			snprintf(name, sizeof(name), "%s xdp/ipv4", orders[k].name);
			add(name, orders[k].fn, &v4_xdp);
			snprintf(name, sizeof(name), "%s tc/ipv6", orders[k].name);
			add(name, orders[k].fn, &v6_tc);
		}
	}
	add("ringbuf-full events-lost", t_ringbuf_full, NULL);
	add("ringbuf wakeup once a mark", t_wakeup_once, NULL);
	add("evict embryonic-first", t_evict_embryonic_first, NULL);
	add("evict established-last", t_evict_established_last, NULL);
	add("assured midstream", t_assured_midstream, NULL);
	add("take race re-created", t_take_race, NULL);
	add("storm summary past the rate", t_storm_summary, NULL);
	add("scan drains 1M expiring", t_scan_drains, &scan_kernel);
	add("scan drains 1M expiring, forced fallback", t_scan_drains, &scan_forced);
	add("the map-iterator probe agrees with a bare iterator", t_iter_probe_agrees, NULL);
	add("scan by slices", t_scan_slices, NULL);
	add("scan by slices, the kernel's cut", t_scan_slices, &scan_kernel);
	add("scan by slices, forced fallback", t_scan_slices, &scan_forced);
	add("the kernel's cut decides as user space", t_scan_cut_same, NULL);
	add("race fin-fin two-cpus", t_race_fin_fin, NULL);
	add("race rst-rst two-cpus", t_race_rst_rst, NULL);
	add("encapsulations mpls/pppoe/fabricpath/vlan-depth", t_encapsulations, NULL);
	add("ipv6 routing+ah", t_ipv6_routing_ah, NULL);
	add("big-tcp lengths", t_big_tcp_lengths, NULL);
	add("verifier-log shown at -v", t_verifier_log_at_v, NULL);
	add("verifier-log hidden without -v", t_verifier_log_quiet, NULL);

	/* CT_TEST_FILTER: the tests whose names match (cmocka's * and ?), as tests/vm runs */
	if (getenv("CT_TEST_FILTER"))
		cmocka_set_test_filter(getenv("CT_TEST_FILTER"));
	return _cmocka_run_group_tests("bpf", tests, ntests, NULL, group_teardown);
}
