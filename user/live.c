// SPDX-License-Identifier: BSD-3-Clause
/*
 * live.c - one live session on interfaces: attach, read kernel closes from the ring
 * buffer, scan the flow table, notice interfaces that go away, say when closes are lost,
 * and detach on the way out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "closetrace.h"
#include "closetrace.skel.h"
#include "live.h"
#include "loader.h"
#include "log.h"

/* the reader is woken once this many events wait, or at the latest after one poll tick */
#define CT_WAKEUP_EVENTS 64

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

__u64 ct_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

__u64 ct_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int ct_live_add_ifaces(char *list, char **names, int *n)
{
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		if (*n >= CT_MAX_IFACES)
			return -1;
		names[(*n)++] = tok;
	}
	return 0;
}

static int live_ifaces(const struct ct_live *l)
{
	int left = 0;

	for (int i = 0; i < l->nifs; i++)
		left += !l->ifs[i].gone;
	return left;
}

static const char *iface_name(void *ctx, __u32 ifindex)
{
	struct ct_live *l = ctx;

	for (int i = 0; i < l->nifs; i++)
		if ((__u32)(l->ifs[i].ifindex & 0xfffff) == ifindex)
			return l->ifs[i].name;
	return "?";
}

int ct_live_counters(struct ct_live *l, __u64 *c, int n)
{
	return ct_read_counters(l->skel, c, (size_t)n);
}

void ct_live_losses(struct ct_live *l, __u64 *events, __u64 *evicted)
{
	__u64 c[CT_C_MAX], ev;

	*events = *evicted = 0;
	if (ct_read_counters(l->skel, c, CT_C_MAX))
		return;
	/* every flow created either ended in a scan, was replaced, is in the table, or
	 * was evicted */
	ev = c[CT_C_FLOWS] - c[CT_C_RESTARTS] - l->scan.removed;
	ev = ev > l->scan.last_seen_flows ? ev - l->scan.last_seen_flows : 0;
	*evicted = ev + c[CT_C_FLOW_FAIL];
	*events = c[CT_C_RB_FAIL];
}

void ct_live_table(const struct ct_live *l, __u64 *flows, __u64 *capacity)
{
	*flows = l->scan.last_seen_flows;
	*capacity = bpf_map__max_entries(l->skel->maps.flows);
}

/*
 * Say while running, not only at exit, when events were lost (ring buffer full) or flows
 * were evicted before they ended (table full): both mean closes that were not reported.
 */
static void report_losses(struct ct_live *l)
{
	__u64 lost, evicted;

	ct_live_losses(l, &lost, &evicted);
	if (lost > l->said_rb) {
		fprintf(stderr, "closetrace: %llu events lost so far: the ring buffer was full\n",
			(unsigned long long)lost);
		l->said_rb = lost;
	}
	if (evicted > l->said_evicted + l->said_evicted / 10) {
		fprintf(stderr, "closetrace: %llu flows evicted before they ended: the flow "
			"table is full; raise --flows\n", (unsigned long long)evicted);
		l->said_evicted = evicted;
	}
}

static int on_record(void *ctx, const struct ct_record *r)
{
	struct ct_live *l = ctx;

	if (l->record(l->ctx, r) < 0) {
		l->stopped = 1;
		return -1;
	}
	return 0;
}

static int on_visit(void *ctx, const struct ct_record *r)
{
	struct ct_live *l = ctx;

	if (l->visit(l->ctx, r) < 0) {
		l->stopped = 1;
		return -1;
	}
	return 0;
}

/* Hand out held closes whose reason did not come by their deadline (all with @all). */
static int release_held(struct ct_live *l, int all)
{
	__u64 now = ct_mono_ns();
	int i = 0, ret = 0;

	while (i < l->nheld) {
		if (!all && l->held[i].until > now) {
			i++;
			continue;
		}
		if (!l->stopped && on_record(l, &l->held[i].r) < 0)
			ret = -1;
		l->held[i] = l->held[--l->nheld];
	}
	return ret;
}

/* The reason of a reset this host sent, after its close: completes the held close. */
static int amend(struct ct_live *l, const struct ct_event *e)
{
	for (int i = 0; i < l->nheld; i++) {
		struct ct_record *r = &l->held[i].r;
		int ret;

		if (memcmp(&r->key, &e->key, sizeof(e->key)) ||
		    r->flow.first_ns != e->flow.first_ns)
			continue;
		if (e->flow.rst_reason) {
			r->flow.rst_reason = e->flow.rst_reason;
			r->flow.rst_state = e->flow.rst_state;
		}
		r->flow.rst_accepted |= e->flow.rst_accepted;
		/*
		 * Only what it waits for completes it: the peer's socket taking our RST (in
		 * another namespace of this kernel) may be traced before our own reason.
		 */
		if (((l->held[i].want & CT_EVF_LOCAL_RST) && !r->flow.rst_reason) ||
		    ((l->held[i].want & CT_EVF_RX_RST) && !r->flow.rst_accepted))
			return 0;
		ret = on_record(l, r);
		l->held[i] = l->held[--l->nheld];
		return ret;
	}
	return 0;	/* its close went out already, or was never held */
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct ct_live *l = ctx;
	const struct ct_event *e = data;
	struct ct_record r;

	if (len < sizeof(*e) || l->stopped)
		return 0;
	if (e->type == CT_EV_AMEND)
		return amend(l, e);
	ct_record_from_event(&r, e, l->sink.to_wall,
			     iface_name(l, CT_IFVLAN_IFINDEX(e->key.ifvlan)));
	if (e->type == CT_EV_CLOSE && (((e->evflags & CT_EVF_LOCAL_RST) && l->reset_link) ||
					((e->evflags & CT_EVF_RX_RST) && l->rx_link))) {
		if (l->nheld == CT_HELD_MAX && release_held(l, 1) < 0)
			return -1;
		l->held[l->nheld].r = r;
		l->held[l->nheld].want = e->evflags;
		l->held[l->nheld++].until = ct_mono_ns() + CT_HELD_NS;
		return 0;
	}
	return on_record(l, &r);
}

static int scan(struct ct_live *l, enum ct_scan_mode mode)
{
	struct ct_clock clk;
	int err;

	err = ct_clock_sync(l->skel, 0, &clk);
	if (err)
		return err;
	/* wall clock = monotonic + offset; taken again each time in case the clock was set */
	l->sink.to_wall = (__s64)(ct_now_ns() - ct_mono_ns());
	return ct_scan(&l->scan, &l->exp, &clk, ct_mono_ns(), mode, &l->sink);
}

/*
 * Interfaces deleted while watched are reported once and dropped. A renamed one is the
 * same interface: it keeps being watched under its new name. Returns how many are left.
 */
static int check_ifaces(struct ct_live *l)
{
	char now[IF_NAMESIZE];

	for (int i = 0; i < l->nifs; i++) {
		struct ct_iface *ifc = &l->ifs[i];

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
	return live_ifaces(l);
}

int ct_live_start(struct ct_live *l, const struct ct_live_opts *o,
		  volatile sig_atomic_t *stop)
{
	struct ct_load_opts lo = { 0 };
	int ifindex[CT_MAX_IFACES];
	char err[512];

	memset(l, 0, sizeof(*l));
	l->xdp = o->xdp;
	for (int i = 0; i < o->nnames; i++) {
		if (ct_iface_open(&l->ifs[l->nifs], o->names[i], err, sizeof(err))) {
			fprintf(stderr, "closetrace: %s\n", err);
			return 1;
		}
		l->nifs++;
	}
	l->exp = o->exp;
	lo.progs = o->xdp ? CT_PROG_XDP : CT_PROG_TC;
	/*
	 * Why this host sends a RST: in tc mode, where its own RSTs pass. XDP watches a
	 * mirror or a gateway, whose RSTs are other hosts'.
	 */
	if (!o->xdp) {
		if (ct_reasons_probe(&l->reasons, err, sizeof(err)))
			pr_info("%s\n", err);
		else if (l->reasons.off_reason == CT_FIELD_NONE)
			pr_info("this kernel's tcp_send_reset has no reason field (before 6.10): "
				"reset reasons show as -, socket states are kept\n");
		if (l->reasons.off_saddr != CT_FIELD_NONE) {
			for (int i = 0; i < l->nifs; i++)
				ifindex[i] = l->ifs[i].ifindex;
			lo.progs |= CT_PROG_RESET;
			lo.reasons = &l->reasons;
			lo.ifindex = ifindex;
			lo.nifs = l->nifs;
			if (l->nifs > CT_RR_IFACES)
				pr_info("reset reasons on the first %d interfaces only\n",
					CT_RR_IFACES);
		}
	}
	lo.flows = o->flows;
	lo.emit_graceful = o->emit_graceful;
	lo.wakeup_bytes = CT_WAKEUP_EVENTS * sizeof(struct ct_event);
	l->skel = ct_load(&lo, err, sizeof(err));
	if (!l->skel) {
		fprintf(stderr, "closetrace: %s\n", err);
		return 1;
	}
	if (lo.progs & CT_PROG_RESET) {
		l->reset_link = bpf_program__attach(l->skel->progs.ct_send_reset);
		if (!l->reset_link)
			pr_info("cannot attach to tcp_send_reset: reset reasons show as -\n");
		else
			ct_reasons_use(&l->reasons);
		if (l->reasons.rx_family != CT_FIELD_NONE)
			l->rx_link = bpf_program__attach(l->skel->progs.ct_receive_reset);
		if (!l->rx_link)
			pr_info("no tcp_receive_reset tracepoint: RSTs accepted by local sockets "
				"are not told apart\n");
	}
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_event, l, NULL);
	if (!l->rb || ct_scanner_init(&l->scan, bpf_map__fd(l->skel->maps.flows), 0)) {
		fprintf(stderr, "closetrace: cannot set up the ring buffer or the flow scan\n");
		return 1;
	}
	l->record = o->record;
	l->visit = o->visit;
	l->ctx = o->ctx;
	l->sink = (struct ct_sink){ .record = on_record, .visit = o->visit ? on_visit : NULL,
				    .iface = iface_name, .ctx = l };
	l->sink.to_wall = (__s64)(ct_now_ns() - ct_mono_ns());
	for (int i = 0; i < l->nifs && !*stop; i++) {
		int fd = bpf_program__fd(o->xdp ? l->skel->progs.ct_xdp : l->skel->progs.ct_tc);

		if (o->xdp ? ct_attach_xdp(&l->ifs[i], fd, o->xmode, o->force, err, sizeof(err)) :
			     ct_attach_tc(&l->ifs[i], fd, err, sizeof(err))) {
			fprintf(stderr, "closetrace: %s\n", err);
			return 1;
		}
		l->attached++;
	}
	pr_info("watching %d interface%s in %s mode\n", l->nifs, l->nifs > 1 ? "s" : "",
		o->xdp ? "xdp" : "tc");
	return 0;
}

int ct_live_fd(const struct ct_live *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int ct_live_events(struct ct_live *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);

	if (n < 0 && n != -EINTR && !l->stopped)
		return n;
	/* events below the wakeup mark do not wake us: the poll tick picks them up */
	if (!l->stopped)
		ring_buffer__consume(l->rb);
	if (l->nheld)
		release_held(l, 0);
	return 0;
}

int ct_live_tick(struct ct_live *l)
{
	int left = check_ifaces(l);

	l->scan_failed = left && scan(l, CT_SCAN_EXPIRE) < 0;
	if (l->scan_failed)
		pr_warn("cannot scan the flow table\n");
	if (left)
		report_losses(l);
	return left;
}

static void print_stats(struct ct_live *l)
{
	__u64 c[CT_C_MAX];

	if (ct_read_counters(l->skel, c, CT_C_MAX))
		return;
	pr_info("%llu packets, %llu TCP, %llu flows, %llu events lost, %llu malformed\n",
		(unsigned long long)c[CT_C_PACKETS], (unsigned long long)c[CT_C_TCP],
		(unsigned long long)c[CT_C_FLOWS], (unsigned long long)c[CT_C_RB_FAIL],
		(unsigned long long)c[CT_C_MALFORMED]);
	if (c[CT_C_RB_FAIL])
		fprintf(stderr, "closetrace: %llu events were lost: the ring buffer was full\n",
			(unsigned long long)c[CT_C_RB_FAIL]);
}

void ct_live_end(struct ct_live *l, int final)
{
	for (int i = 0; i < l->nifs; i++)
		ct_detach(&l->ifs[i]);
	if (l->rb && !l->stopped) {
		ring_buffer__consume(l->rb);	/* the last events */
		release_held(l, 1);
		if (final && l->attached)
			scan(l, CT_SCAN_OPEN);	/* final states of the flows still open */
	}
	if (l->skel && l->attached)
		print_stats(l);
	bpf_link__destroy(l->reset_link);
	bpf_link__destroy(l->rx_link);
	l->reset_link = NULL;
	l->rx_link = NULL;
	ct_reasons_use(NULL);
	ct_scanner_free(&l->scan);
	ring_buffer__free(l->rb);
	l->rb = NULL;
	if (l->skel)
		ct_unload(l->skel);
	l->skel = NULL;
}
