// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_bpf_random.c - random and mutated frames through both closetrace programs (XDP and
 * tc) with BPF_PROG_TEST_RUN: purely random bytes, and valid Ethernet / VLAN / QinQ /
 * MPLS / PPPoE / FabricPath frames over IPv4 (with options) and IPv6 (with extension
 * headers) carrying TCP, and TCP inside each tunnel (VXLAN, Geneve, GTP-U, Teredo, GRE,
 * ERSPAN: headers with their options and extensions), with bytes flipped, cut, extended, and lengths, header lengths,
 * fragment offsets, protocol numbers and ethertypes changed. For every frame and program:
 * the verdict is pass (XDP_PASS, TC_ACT_UNSPEC) and the bytes come back unchanged; both
 * programs parse it alike. For every batch: each packet is counted once, as TCP, other,
 * malformed or fragment; a flow is created only by a TCP segment; and a batch of frames
 * that cannot be TCP (another ethertype or IP protocol, a non-first fragment) creates no
 * flow at all.
 *
 * The generator is seeded: the seed is printed, CLOSETRACE_RANDOM_SEED replays it and
 * CLOSETRACE_RANDOM_FRAMES sets the number of frames (1000000). A failure names the
 * frame's number and bytes.
 *
 * Needs root (or CAP_BPF+CAP_NET_ADMIN). Without it the test skips, unless
 * CLOSETRACE_REQUIRE_PRIV=1, where it fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "closetrace.h"
#include "engine.h"
#include "closetrace.skel.h"
#include "ct_logic.h"
#include "loader.h"
#include "pkt.h"

#define DEFAULT_SEED 0x636c6f7365ull	/* "close" */
#define DEFAULT_FRAMES 1000000
/*
 * A round: the flow table emptied, a batch of frames that cannot be TCP, then a mixed
 * batch. The table holds every flow one round can make (at most one per mixed frame), so
 * nothing is evicted within a round.
 */
#define ROUND 10000
#define NOT_TCP_PER_ROUND 2000
#define TABLE 65536
#define FRAME_MAX PKT_MAX	/* the builder's bound; mutations stay within it */

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
	size_t l3, l4;		/* offsets of the IP and TCP headers as built */
	int family;		/* 4 or 6 */
};

static struct {
	struct closetrace *skel;
	struct ring_buffer *rb;
	struct ct_flow_key *keys;	/* TABLE keys, to empty the table */
	char why[256];
	uint64_t rng;
	uint64_t seed;
	unsigned long long frame_no;	/* of the frame under test, from 0 */
	const struct frame *cur;
	__u64 tally[4];		/* runs per parse result (enum ct_parse_res) */
	__u64 runs;		/* program runs */
	__u64 skb_refused;	/* frames test_run would not make an skb of */
	__u64 events;
} R;

/* ---- a reproducible generator (xorshift64*) ------------------------------------------ */

static uint64_t rnd(void)
{
	R.rng ^= R.rng >> 12;
	R.rng ^= R.rng << 25;
	R.rng ^= R.rng >> 27;
	return R.rng * 0x2545f4914f6cdd1dull;
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static int chance(int percent)
{
	return (int)below(100) < percent;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* ---- valid frames, and wrapping them ---------------------------------------------------- */

/* Ethertypes the parser follows, and some it does not. */
static const uint16_t parsed_types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100,
					 0x8847, 0x8848, 0x8864, 0x8903 };
static const uint16_t other_types[] = { 0x0806, 0x88cc, 0x8035, 0x88b5, 0x0000, 0x05dc,
					0xffff, 0x8906 };

static int is_parsed_type(uint16_t t)
{
	for (size_t i = 0; i < sizeof(parsed_types) / sizeof(parsed_types[0]); i++)
		if (parsed_types[i] == t)
			return 1;
	return 0;
}

static uint16_t any_type(void)
{
	if (chance(70))
		return parsed_types[below(sizeof(parsed_types) / sizeof(parsed_types[0]))];
	if (chance(50))
		return other_types[below(sizeof(other_types) / sizeof(other_types[0]))];
	return (uint16_t)rnd();
}

static uint16_t unparsed_type(void)
{
	uint16_t t;

	do
		t = chance(50) ? other_types[below(sizeof(other_types) / sizeof(other_types[0]))] :
				 (uint16_t)rnd();
	while (is_parsed_type(t));
	return t;
}

/* Make room for @n bytes at @off (0 when the frame would not fit). */
static int insert(struct frame *f, size_t off, size_t n)
{
	if (f->len + n > FRAME_MAX || off > f->len)
		return 0;
	memmove(f->b + off + n, f->b + off, f->len - off);
	f->len += n;
	if (f->l3 >= off)
		f->l3 += n;
	if (f->l4 >= off)
		f->l4 += n;
	return 1;
}

static uint8_t tcp_flags(void)
{
	static const uint8_t common[] = {
		CT_TH_SYN, CT_TH_SYN | CT_TH_ACK, CT_TH_ACK, CT_TH_ACK | CT_TH_PSH,
		CT_TH_FIN | CT_TH_ACK, CT_TH_RST, CT_TH_RST | CT_TH_ACK, CT_TH_FIN,
	};

	return chance(85) ? common[below(sizeof(common))] : (uint8_t)rnd();
}

/* A TCP segment over IPv4 or IPv6, up to two VLAN tags; endpoints from a small pool half
 * of the time, so that flows meet again and close. */
static void build_tcp(struct frame *f, int family, int vlans, int tunnel)
{
	struct pkt_spec s = {
		.tunnel = tunnel, .tun_id = (uint32_t)rnd() & (tunnel == 1 || tunnel == 2 ?
								  0xffffff : 0xffffffff),
		.from_client = chance(50),
		.family = family, .vlans = vlans,
		.src = family == 4 ? "192.0.2.1" : "2001:db8::1",
		.dst = family == 4 ? "192.0.2.2" : "2001:db8::2",
		.flags = tcp_flags(),
		.payload = chance(60) ? 0 : chance(80) ? below(200) : below(1401),
		.seq = (uint32_t)rnd(), .ack = (uint32_t)rnd(),
	};
	struct pkt_layout lay;
	size_t alen = family == 4 ? 4 : 16, aoff = family == 4 ? 12 : 8;
	uint8_t *ip;

	if (chance(50)) {
		s.sport = (uint16_t)(40000 + below(4));
		s.dport = chance(50) ? 80 : 443;
	} else {
		s.sport = (uint16_t)rnd();
		s.dport = (uint16_t)rnd();
	}
	if (chance(50)) {	/* server to client */
		uint16_t p = s.sport;

		s.sport = s.dport;
		s.dport = p;
	}
	f->len = pkt_build(f->b, &s, &lay);
	assert_true(f->len > 0);
	f->l3 = lay.l3;
	f->l4 = lay.l4;
	f->family = family;
	ip = f->b + f->l3;
	if (chance(50)) {
		/* pool: the last byte of each address picked among 4 */
		ip[aoff + alen - 1] = (uint8_t)(1 + below(4));
		ip[aoff + 2 * alen - 1] = (uint8_t)(1 + below(4));
	} else {
		fill(ip + aoff, 2 * alen);
	}
}

/* IPv4 options (NOPs, a random tail) between the header and TCP. */
static void add_ipv4_options(struct frame *f)
{
	size_t n = 4 * (1 + below(10));
	uint8_t *ip;

	if (!insert(f, f->l4, n))
		return;
	ip = f->b + f->l3;
	memset(ip + 20, 1, n);
	if (chance(30))
		fill(ip + 20, n);
	ip[0] = (uint8_t)(0x40 | ((20 + n) / 4));
	put16(ip + 2, (uint16_t)(((ip[2] << 8) | ip[3]) + n));
}

/* IPv6 extension headers before TCP: hop-by-hop, routing, destination options, AH,
 * fragment (first or not), up to one more than the parser walks. */
static void add_ipv6_exts(struct frame *f)
{
	static const uint8_t types[] = { 0, 43, 60, 51, 44 };
	int n = 1 + (int)below(7);
	uint8_t *ip, *e, nh;

	if (!insert(f, f->l4, (size_t)n * 8))
		return;
	ip = f->b + f->l3;
	nh = 6;
	for (int i = n - 1; i >= 0; i--) {
		uint8_t t = types[below(sizeof(types))];

		e = ip + 40 + i * 8;
		memset(e, 0, 8);
		e[0] = nh;
		if (t == 44 && chance(30))
			put16(e + 2, (uint16_t)(below(0x2000) << 3 | below(2)));
		else if (t == 44)
			e[3] = (uint8_t)below(2);	/* offset 0: the first fragment */
		nh = t;
	}
	ip[6] = nh;
	put16(ip + 4, (uint16_t)(((ip[4] << 8) | ip[5]) + n * 8));
}

/* More tags (802.1Q, 802.1ad, the old 0x9100) in front of the ethertype. */
static void add_tags(struct frame *f)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100 };
	int n = 1 + (int)below(3);

	for (int i = 0; i < n; i++) {
		if (!insert(f, 12, 4))
			return;
		put16(f->b + 12, tpids[below(3)]);
		put16(f->b + 14, (uint16_t)rnd());
	}
}

/* An MPLS stack (1 to 5 labels) between the link layer and IP. */
static void add_mpls(struct frame *f)
{
	int n = 1 + (int)below(5);
	size_t at = f->l3;

	if (!insert(f, at, (size_t)n * 4))
		return;
	put16(f->b + at - 2, chance(80) ? 0x8847 : 0x8848);
	for (int i = 0; i < n; i++) {
		uint8_t *l = f->b + at + i * 4;

		fill(l, 4);
		l[2] = (uint8_t)((l[2] & ~1) | (i == n - 1));
	}
}

static void add_pppoe(struct frame *f)
{
	size_t at = f->l3;
	uint8_t *h;

	if (!insert(f, at, 8))
		return;
	put16(f->b + at - 2, 0x8864);
	h = f->b + at;
	h[0] = 0x11;
	h[1] = 0;
	put16(h + 2, (uint16_t)rnd());
	put16(h + 4, (uint16_t)(f->len - f->l3 + 2));
	put16(h + 6, chance(90) ? (f->family == 4 ? 0x0021 : 0x0057) : (uint16_t)rnd());
}

/* Cisco FabricPath: the type, FTag/TTL and the inner MACs before the original type. */
static void add_fabricpath(struct frame *f)
{
	if (!insert(f, 12, 16))
		return;
	put16(f->b + 12, 0x8903);
	fill(f->b + 14, 14);
}

/* ---- mutations ------------------------------------------------------------------------- */

/* An offset, mostly in the headers, at or after @from. */
static size_t pick_off(const struct frame *f, size_t from)
{
	size_t hdr = f->l4 + 24;

	if (from >= f->len)
		return f->len;
	if (hdr > f->len)
		hdr = f->len;
	if (hdr > from && chance(80))
		return from + below((uint32_t)(hdr - from));
	return from + below((uint32_t)(f->len - from));
}

/* One change to the frame, at or after offset @from (0: anywhere). */
static void mutate_once(struct frame *f, size_t from)
{
	uint8_t *ip = f->b + f->l3, *th = f->b + f->l4;
	size_t o, n;
	int have_ip = f->l3 + (f->family == 4 ? 20 : 40) <= f->len;
	int have_tcp = f->l4 + 20 <= f->len;

	switch (below(12)) {
	case 0:		/* a bit */
		o = pick_off(f, from);
		if (o < f->len)
			f->b[o] ^= (uint8_t)(1u << below(8));
		break;
	case 1:		/* a byte */
		o = pick_off(f, from);
		if (o < f->len)
			f->b[o] = (uint8_t)rnd();
		break;
	case 2:		/* cut, mostly inside the headers */
		o = pick_off(f, from > 14 ? from : 14);
		if (o >= 14 && o < f->len)
			f->len = o;
		break;
	case 3:		/* a random tail */
		n = 1 + below(64);
		if (f->len + n <= FRAME_MAX) {
			fill(f->b + f->len, n);
			f->len += n;
		}
		break;
	case 4:		/* the IP length field */
		if (!have_ip)
			break;
		n = chance(30) ? 0 : chance(50) ? below(80) : (uint16_t)rnd();
		put16(ip + (f->family == 4 ? 2 : 4), (uint16_t)n);
		break;
	case 5:		/* IPv4 version and header length, or the IPv6 version */
		if (!have_ip)
			break;
		ip[0] = (uint8_t)(chance(50) ? (ip[0] & 0xf0) | below(16) : rnd());
		break;
	case 6:		/* fragment fields: IPv4 flags and offset; an IPv6 fragment header */
		if (!have_ip)
			break;
		if (f->family == 4)
			put16(ip + 6, (uint16_t)(chance(50) ? below(0x2000) | (below(8) << 13) :
							    (uint16_t)(below(2) << 13)));
		else if (f->l4 + 8 <= f->len && insert(f, f->l4, 8)) {
			uint8_t *e = f->b + f->l4 - 8;

			ip = f->b + f->l3;
			memset(e, 0, 8);
			e[0] = ip[6];
			put16(e + 2, (uint16_t)(chance(50) ? below(0x10000) : below(2)));
			ip[6] = 44;
		}
		break;
	case 7:		/* the protocol number / next header */
		if (!have_ip)
			break;
		{
			static const uint8_t protos[] = { 6, 6, 17, 1, 58, 0, 43, 44, 51, 60, 59,
							  50, 255 };
			uint8_t p = chance(80) ? protos[below(sizeof(protos))] : (uint8_t)rnd();

			ip[f->family == 4 ? 9 : 6] = p;
		}
		break;
	case 8:		/* the TCP data offset */
		if (have_tcp)
			th[12] = (uint8_t)(below(16) << 4 | (th[12] & 0x0f));
		break;
	case 9:		/* the ethertype in front of IP */
		if (f->l3 >= 14 && f->l3 - 2 >= from && f->l3 <= f->len)
			put16(f->b + f->l3 - 2, any_type());
		break;
	case 10:	/* TCP flags */
		if (have_tcp)
			th[13] = (uint8_t)rnd();
		break;
	default:	/* a run of zeros or random bytes */
		o = pick_off(f, from);
		n = 1 + below(16);
		if (o + n > f->len)
			n = f->len - o;
		if (chance(50))
			memset(f->b + o, 0, n);
		else
			fill(f->b + o, n);
		break;
	}
}

static void mutate(struct frame *f, size_t from, int n)
{
	for (int i = 0; i < n; i++)
		mutate_once(f, from);
}

/* ---- the frames -------------------------------------------------------------------------- */

/* A valid TCP frame, wrapped in some encapsulation or not. */
static void valid_frame(struct frame *f)
{
	/* a quarter in a tunnel (enum ct_tunnel), whose outer lengths the steps below
	 * would leave behind: as built */
	int tunnel = chance(25) ? 1 + (int)below(6) : 0;

	if (tunnel) {
		build_tcp(f, tunnel == 4 || chance(50) ? 6 : 4, (int)below(2), tunnel);
		return;
	}
	build_tcp(f, chance(50) ? 4 : 6, (int)below(3), 0);
	if (f->family == 4 && chance(15))
		add_ipv4_options(f);
	if (f->family == 6 && chance(20))
		add_ipv6_exts(f);
	switch (below(12)) {
	case 0:
		add_tags(f);
		break;
	case 1:
		add_mpls(f);
		break;
	case 2:
		add_pppoe(f);
		break;
	case 3:
		add_fabricpath(f);
		break;
	default:
		break;
	}
}

/* Anything: random bytes, random bytes behind a known ethertype, a valid frame as it
 * is, or one changed a few times. */
static void any_frame(struct frame *f)
{
	uint32_t k = below(100);

	if (k < 15) {
		f->len = 14 + below(chance(80) ? 120 : 1500);
		fill(f->b, f->len);
		f->l3 = f->l4 = f->len;
		f->family = 4;
	} else if (k < 25) {
		f->len = 14 + below(200);
		fill(f->b, f->len);
		put16(f->b + 12, any_type());
		if (f->len >= 18 && chance(50))
			put16(f->b + 16, any_type());
		f->l3 = f->l4 = f->len;
		f->family = 4;
	} else if (k < 40) {
		valid_frame(f);
	} else {
		valid_frame(f);
		mutate(f, 0, 1 + (int)below(5));
	}
}

/*
 * A frame that cannot be TCP whatever else is wrong with it: the link layer is left as
 * built and the one field that rules TCP out is set last: an ethertype the parser does not
 * follow; an IPv4 protocol other than TCP; a non-first IPv4 fragment; an IPv6 next header
 * that is neither TCP nor an extension header; an IPv6 non-first fragment.
 */
static void not_tcp_frame(struct frame *f)
{
	uint32_t k = below(5);
	uint8_t *ip;

	if (k == 0) {
		any_frame(f);
		if (f->len < 14)
			f->len = 14;
		put16(f->b + 12, unparsed_type());
		return;
	}
	build_tcp(f, k <= 2 ? 4 : 6, (int)below(3), 0);
	if (f->family == 4 && chance(20))
		add_ipv4_options(f);
	if (k == 4) {	/* room for the fragment header, set below */
		assert_true(insert(f, f->l4, 8));
		ip = f->b + f->l3;
		put16(ip + 4, (uint16_t)(((ip[4] << 8) | ip[5]) + 8));
		ip[40] = 6;
	}
	mutate(f, f->l3, (int)below(5));
	ip = f->b + f->l3;
	switch (k) {
	case 1:
		/* never TCP, nor UDP or GRE, which may carry it in a tunnel */
		if (f->l3 + 10 <= f->len) {
			do
				ip[9] = (uint8_t)(6 + 1 + below(255));	/* wraps: never 6 */
			while (ip[9] == 17 || ip[9] == 47);
		}
		break;
	case 2:
		if (f->l3 + 8 <= f->len)
			put16(ip + 6, (uint16_t)((1 + below(0x1fff)) | (below(8) << 13)));
		break;
	case 3: {
		static const uint8_t nh[] = { 58, 59, 50, 1, 132, 255, 4, 41 };

		if (f->l3 + 7 <= f->len)
			ip[6] = nh[below(sizeof(nh))];
		break;
	}
	default:
		if (f->l3 + 7 <= f->len)
			ip[6] = 44;
		if (f->l3 + 44 <= f->len)
			put16(ip + 42, (uint16_t)((1 + below(0x1fff)) << 3 | below(8)));
		break;
	}
}

/* ---- running --------------------------------------------------------------------------- */

/*
 * The BPF tests skip only where closetrace could not load for want of privileges, and say so;
 * as root, a kernel that refuses the object is a failure. CLOSETRACE_REQUIRE_PRIV=1 (CI)
 * fails the skip too.
 */
static void need_priv(void)
{
	const char *req = getenv("CLOSETRACE_REQUIRE_PRIV");

	if (R.skel)
		return;
	if (geteuid() == 0)
		fail_msg("the kernel refused closetrace's BPF object, as root: %s", R.why);
	if (req && !strcmp(req, "1"))
		fail_msg("BPF tests cannot run: %s (CLOSETRACE_REQUIRE_PRIV=1)", R.why);
	print_message("skipping the BPF tests: %s; run them as root\n", R.why);
	skip();
}

static const char *hex(const struct frame *f)
{
	static char buf[3 * 96 + 8];
	size_t n = f->len < 96 ? f->len : 96, o = 0;

	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%02x", f->b[i]);
	if (n < f->len)
		snprintf(buf + o, sizeof(buf) - o, "...");
	return buf;
}

#define frame_fail(what, ...)                                                                 \
	fail_msg("seed %#llx frame %llu (%zu bytes %s): " what,                                 \
		 (unsigned long long)R.seed, R.frame_no, R.cur->len, hex(R.cur), ##__VA_ARGS__)

/* Run @f through the XDP or the tc program; returns the parse result, -1 when test_run
 * refused the frame. */
static int run(int xdp, const struct frame *f)
{
	static uint8_t out[FRAME_MAX + 256];
	int fd = xdp ? bpf_program__fd(R.skel->progs.ct_xdp) : bpf_program__fd(R.skel->progs.ct_tc);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int err, res;

	R.skel->bss->last_result = 0xff;
	err = bpf_prog_test_run_opts(fd, &o);
	if (err) {
		/*
		 * An skb needs its network header: test_run refuses an IP ethertype with less
		 * than an IP header behind it, before the program runs (seen on 6.18).
		 */
		uint16_t et = (uint16_t)(f->b[12] << 8 | f->b[13]);

		if (!xdp && errno == EINVAL && ((et == 0x0800 && f->len < 14 + 20) ||
						(et == 0x86dd && f->len < 14 + 40))) {
			R.skb_refused++;
			return -1;
		}
		frame_fail("%s test_run failed: %s", xdp ? "XDP" : "tc", strerror(errno));
	}
	if (xdp && o.retval != XDP_PASS)
		frame_fail("XDP verdict %u, not XDP_PASS", o.retval);
	if (!xdp && (int)o.retval != TC_ACT_UNSPEC)
		frame_fail("tc verdict %d, not TC_ACT_UNSPEC", (int)o.retval);
	if (o.data_size_out != f->len || memcmp(out, f->b, f->len))
		frame_fail("%s changed the frame", xdp ? "XDP" : "tc");
	res = (int)R.skel->bss->last_result;
	if (res < CT_P_TCP || res > CT_P_MALFORMED)
		frame_fail("%s left parse result %d", xdp ? "XDP" : "tc", res);
	R.tally[res]++;
	R.runs++;
	R.skel->bss->user_clock_ns += 1000000;
	R.skel->bss->user_clock_tick += 1;
	return res;
}

/* Both programs; they must agree. Returns the parse result. */
static int run_both(const struct frame *f)
{
	int x = run(1, f), t = run(0, f);

	if (t >= 0 && t != x)
		frame_fail("XDP parsed it as %d, tc as %d", x, t);
	return x;
}

static void counters(__u64 *c)
{
	assert_int_equal(ct_read_counters(R.skel, c, CT_C_MAX), 0);
}

/* The table's entries, then none: keys are read first, then deleted. */
static __u64 empty_table(void)
{
	int fd = bpf_map__fd(R.skel->maps.flows);
	struct ct_flow_key k;
	__u64 n = 0;

	while (n < TABLE && !bpf_map_get_next_key(fd, n ? &k : NULL, &R.keys[n]))
		k = R.keys[n++];
	for (__u64 i = 0; i < n; i++)
		assert_int_equal(bpf_map_delete_elem(fd, &R.keys[i]), 0);
	return n;
}

static int table_is_empty(void)
{
	struct ct_flow_key k;

	return bpf_map_get_next_key(bpf_map__fd(R.skel->maps.flows), NULL, &k) != 0;
}

/* Every packet counted once, in exactly one class, as each run reported it. */
static void check_counts(const __u64 *c, const char *when)
{
	if (c[CT_C_PACKETS] != c[CT_C_TCP] + c[CT_C_OTHER] + c[CT_C_MALFORMED] +
				   c[CT_C_FRAGMENT])
		fail_msg("seed %#llx, %s: packets %llu != tcp %llu + other %llu + malformed %llu "
			 "+ fragment %llu", (unsigned long long)R.seed, when,
			 (unsigned long long)c[CT_C_PACKETS], (unsigned long long)c[CT_C_TCP],
			 (unsigned long long)c[CT_C_OTHER], (unsigned long long)c[CT_C_MALFORMED],
			 (unsigned long long)c[CT_C_FRAGMENT]);
	assert_int_equal(c[CT_C_PACKETS], R.runs);
	assert_int_equal(c[CT_C_TCP], R.tally[CT_P_TCP]);
	assert_int_equal(c[CT_C_OTHER], R.tally[CT_P_OTHER]);
	assert_int_equal(c[CT_C_MALFORMED], R.tally[CT_P_MALFORMED]);
	assert_int_equal(c[CT_C_FRAGMENT], R.tally[CT_P_FRAGMENT]);
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct ct_event *e = data;

	(void)ctx;
	if ((len != sizeof(*e) && len != CT_EVENT_PLAIN_SIZE) || e->type > CT_EV_AMEND ||
	    e->close >= CT_CLOSE_MAX ||
	    e->rst_by > CT_BY_SRV || e->client_ep > CT_EP_HI)
		return -EINVAL;
	R.events++;
	return 0;
}

static unsigned long long env_ull(const char *name, unsigned long long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		fail_msg("%s=%s: not a number", name, s);
	return v;
}

static void t_random_frames(void **state)
{
	static struct frame f;
	unsigned long long total, done = 0;
	__u64 before[CT_C_MAX], c[CT_C_MAX], entries, rounds = 0;
	struct timespec t0, t1;
	double secs;
	char when[96];

	(void)state;
	need_priv();
	R.seed = env_ull("CLOSETRACE_RANDOM_SEED", DEFAULT_SEED);
	total = env_ull("CLOSETRACE_RANDOM_FRAMES", DEFAULT_FRAMES);
	R.rng = R.seed ? R.seed : DEFAULT_SEED;	/* xorshift never leaves 0 */
	print_message("random frames: seed %#llx (CLOSETRACE_RANDOM_SEED), %llu frames\n",
		      (unsigned long long)R.seed, total);
	R.cur = &f;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	counters(before);
	check_counts(before, "at the start");

	while (done < total) {
		unsigned long long n_not = NOT_TCP_PER_ROUND, n_all = ROUND - NOT_TCP_PER_ROUND;

		if (n_not > total - done)
			n_not = total - done;
		if (n_all > total - done - n_not)
			n_all = total - done - n_not;

		/* the flows of the last round: no more than it created */
		counters(c);
		entries = empty_table();
		if (entries > c[CT_C_FLOWS] - before[CT_C_FLOWS])
			fail_msg("seed %#llx, round %llu: %llu flows in the table, %llu created",
				 (unsigned long long)R.seed, (unsigned long long)rounds,
				 (unsigned long long)entries,
				 (unsigned long long)(c[CT_C_FLOWS] - before[CT_C_FLOWS]));

		/* frames that cannot be TCP: not one flow */
		memcpy(before, c, sizeof(c));
		for (unsigned long long i = 0; i < n_not; i++, R.frame_no++) {
			not_tcp_frame(&f);
			if (run_both(&f) == CT_P_TCP)
				frame_fail("a frame that cannot be TCP parsed as TCP");
		}
		counters(c);
		snprintf(when, sizeof(when), "after the non-TCP batch of round %llu",
			 (unsigned long long)rounds);
		check_counts(c, when);
		assert_int_equal(c[CT_C_TCP], before[CT_C_TCP]);
		assert_int_equal(c[CT_C_FLOWS], before[CT_C_FLOWS]);
		if (!table_is_empty())
			fail_msg("seed %#llx, round %llu: a flow from frames that cannot be TCP",
				 (unsigned long long)R.seed, (unsigned long long)rounds);

		/* anything: flows only from TCP segments */
		memcpy(before, c, sizeof(c));
		for (unsigned long long i = 0; i < n_all; i++, R.frame_no++) {
			any_frame(&f);
			run_both(&f);
		}
		counters(c);
		snprintf(when, sizeof(when), "after the mixed batch of round %llu",
			 (unsigned long long)rounds);
		check_counts(c, when);
		if (c[CT_C_FLOWS] - before[CT_C_FLOWS] > c[CT_C_TCP] - before[CT_C_TCP])
			fail_msg("seed %#llx, round %llu: %llu flows created by %llu TCP segments",
				 (unsigned long long)R.seed, (unsigned long long)rounds,
				 (unsigned long long)(c[CT_C_FLOWS] - before[CT_C_FLOWS]),
				 (unsigned long long)(c[CT_C_TCP] - before[CT_C_TCP]));
		if (ring_buffer__consume(R.rb) < 0)
			fail_msg("seed %#llx, round %llu: an event out of range",
				 (unsigned long long)R.seed, (unsigned long long)rounds);
		done += n_not + n_all;
		rounds++;
	}

	counters(c);
	check_counts(c, "at the end");
	assert_true(c[CT_C_FLOWS] <= c[CT_C_TCP]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("random frames: %llu frames, %llu runs in %.1f s: tcp %llu, other %llu, "
		      "malformed %llu, fragment %llu; %llu flows, %llu closes reported, %llu "
		      "lost; %llu too short for an skb\n",
		      done, (unsigned long long)R.runs, secs, (unsigned long long)c[CT_C_TCP],
		      (unsigned long long)c[CT_C_OTHER], (unsigned long long)c[CT_C_MALFORMED],
		      (unsigned long long)c[CT_C_FRAGMENT], (unsigned long long)c[CT_C_FLOWS],
		      (unsigned long long)R.events, (unsigned long long)c[CT_C_RB_FAIL],
		      (unsigned long long)R.skb_refused);
	print_message("random frames: TCP segments decapsulated: vxlan %llu, geneve %llu, "
		      "gtpu %llu, teredo %llu, gre %llu, erspan %llu\n",
		      (unsigned long long)c[CT_C_TUN_BASE], (unsigned long long)c[CT_C_TUN_BASE + 1],
		      (unsigned long long)c[CT_C_TUN_BASE + 2], (unsigned long long)c[CT_C_TUN_BASE + 3],
		      (unsigned long long)c[CT_C_TUN_BASE + 4], (unsigned long long)c[CT_C_TUN_BASE + 5]);
	/* the mix reached every class, and every tunnel's inside */
	for (int i = CT_P_TCP; i <= CT_P_MALFORMED; i++)
		if (total >= ROUND)
			assert_true(R.tally[i] > 0);
	for (int t = CT_C_TUN_BASE; t <= CT_C_TUN_LAST; t++)
		if (total >= ROUND)
			assert_true(c[t] > 0);
}

static int setup(void **state)
{
	struct ct_load_opts lo = {
		.progs = CT_PROG_XDP | CT_PROG_TC,
		.flows = TABLE,
		.ringbuf = 1 << 20,
		.user_clock = 1,
	};

	(void)state;
	R.keys = calloc(TABLE, sizeof(*R.keys));
	if (!R.keys)
		return -1;
	R.skel = ct_load(&lo, R.why, sizeof(R.why));
	if (!R.skel)
		return 0;	/* the test then skips or fails, see need_priv() */
	R.rb = ring_buffer__new(bpf_map__fd(R.skel->maps.events), on_event, NULL, NULL);
	if (!R.rb)
		return -1;
	R.skel->bss->user_clock_ns = 1000000000ull;
	R.skel->bss->user_clock_tick = 1000;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ring_buffer__free(R.rb);
	if (R.skel)
		ct_unload(R.skel);
	free(R.keys);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_random_frames),
	};

	return cmocka_run_group_tests_name("bpf-random", tests, setup, teardown);
}
