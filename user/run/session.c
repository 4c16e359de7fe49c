// SPDX-License-Identifier: BSD-3-Clause
/*
 * session.c - the core under watch, top and replay: load, read kernel closes from the
 * ring buffer (holding those whose reset reason is still to come), scan the flow table,
 * and account for every close that could not be reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "closetrace.h"
#include "log.h"
#include "now.h"
#include "reasons.h"
#include "session.h"
#include "owner.h"

static int release_held(struct ct_session *s, int all);
void ct_session_drain(struct ct_session *s);

/*
 * A batch of records is over (a drain, a scan): the sink may write them out together now,
 * and the next close held reads the clock afresh.
 */
static void batch_end(struct ct_session *s)
{
	s->held_clock = 0;
	if (s->out.flush && !s->stopped)
		s->out.flush(s->out.ctx);
}

/* Hand @r to @fn, with its owner's cgroup path; a sink that refuses more stops the session. */
static int pass_on(struct ct_session *s, ct_record_fn fn, const struct ct_record *r)
{
	struct ct_record named;

	if (((s->cgroup && r->flow.own.cgroup && !r->cgroup) || (s->zones && !r->zones)) &&
	    r->type != CT_REC_SUMMARY && r->type != CT_REC_LOSS) {
		named = *r;
		if (s->cgroup && r->flow.own.cgroup && !r->cgroup)
			named.cgroup = s->cgroup(s->cgroup_ctx, r->flow.own.cgroup);
		if (!r->zones)
			named.zones = s->zones;
		r = &named;
	}
	if (fn(s->out.ctx, r) < 0) {
		s->stopped = 1;
		return -1;
	}
	return 0;
}

static int to_record(void *ctx, const struct ct_record *r)
{
	return pass_on(ctx, ((struct ct_session *)ctx)->out.record, r);
}

/* The counter slot of the interface in key word @ifvlan: as the kernel finds it. */
static int slot_of(const struct ct_session *s, __u32 ifvlan)
{
	for (int i = 1; i < s->nifs; i++)
		if (((__u32)s->ifindex[i] & CT_IFINDEX_MASK) == CT_IFVLAN_IFINDEX(ifvlan))
			return i;
	return 0;
}

/* A close, counted by server port for metrics (and, from a scan, as user space's). */
static void tally_close(struct ct_session *s, const struct ct_record *r, int decided_here)
{
	int slot;

	if (!s->tally || r->type != CT_REC_CLOSE || r->close >= CT_CLOSE_MAX)
		return;
	slot = slot_of(s, r->key.ifvlan);
	if (decided_here)
		s->tally->ifs[slot].user_closes[r->close]++;
	ct_metrics_port_close(s->tally, slot, r->key.port[ct_rec_srv(r)], r->close);
	ct_metrics_tunnel_closes(s->tally, slot, r->key.tun_type, r->close, 1);
	if (s->tally->app_by) {
		char name[CT_METRICS_APP_NAME];
		const char *path = r->cgroup;

		if (!path && s->cgroup && r->flow.own.cgroup)
			path = s->cgroup(s->cgroup_ctx, r->flow.own.cgroup);
		if (ct_app_metric_name(r, path, s->tally->app_by, name, sizeof(name)))
			ct_metrics_app_close(s->tally, name, r->close);
	}
}

/*
 * What a scan hands out: closes it decided are counted, then go on like any record,
 * unanswered SYNs past the storm rate into a summary instead (with their final record).
 */
static int from_scan(void *ctx, const struct ct_record *r)
{
	struct ct_session *s = ctx;

	if (r->type == CT_REC_FLOW && s->skip_flow &&
	    !memcmp(&r->key, &s->skip_key, sizeof(r->key))) {
		s->skip_flow = 0;
		return 0;
	}
	tally_close(s, r, 1);
	if (r->type == CT_REC_CLOSE && r->close < CT_CLOSE_MAX)
		s->user_closes[r->close]++;
	if (r->type == CT_REC_CLOSE && r->close == CT_CLOSE_UNANSWERED &&
	    !ct_storm_admit(&s->storm, s->scan_now)) {
		struct ct_storm_key k;

		ct_storm_key_of(r, CT_BY_NONE, &k);
		ct_storm_add(&s->storm, slot_of(s, r->key.ifvlan), &k, 1, r->ts_ns, r->ts_ns);
		s->skip_flow = 1;
		s->skip_key = r->key;
		return 0;
	}
	return to_record(s, r);
}

/* A summary goes out like a record; kernel closes in it count by port for metrics. */
static int from_storm(void *ctx, const struct ct_record *r)
{
	struct ct_session *s = ctx;

	if (s->tally && !r->unkeyed && r->close != CT_CLOSE_UNANSWERED) {
		ct_metrics_port_closes(s->tally, slot_of(s, r->key.ifvlan),
				       r->key.port[ct_rec_srv(r)], r->close, r->count);
		ct_metrics_tunnel_closes(s->tally, slot_of(s, r->key.ifvlan), r->key.tun_type,
					 r->close, r->count);
	}
	return to_record(s, r);
}

/* Between two batches of a scan: what the kernel sent meanwhile goes out. */
static void between_batches(void *ctx)
{
	struct ct_session *s = ctx;

	ct_session_drain(s);
	if (s->nheld)
		release_held(s, 0);
}

static int to_visit(void *ctx, const struct ct_record *r)
{
	return pass_on(ctx, ((struct ct_session *)ctx)->out.visit, r);
}

void ct_session_set_ifindex(struct ct_session *s, struct resets *rs, int slot, int ifindex)
{
	if (slot < 0 || slot >= s->nifs)
		return;
	s->ifindex[slot] = ifindex;
	ct_set_ifindex(s->eng.skel, rs, slot, ifindex);
}

void ct_session_set_visit(struct ct_session *s, ct_record_fn visit)
{
	s->out.visit = visit;
	s->scan_out.rec.visit = visit ? to_visit : NULL;
}

static const char *iface_of(void *ctx, __u32 ifindex)
{
	struct ct_session *s = ctx;

	return s->iface(s->iface_ctx, ifindex);
}

/* Hand out held closes whose reason did not come by their deadline (all with @all). */
static int release_held(struct ct_session *s, int all)
{
	__u64 now = ct_mono_ns();
	int i = 0, ret = 0;

	while (i < s->nheld) {
		if (!all && s->held[i].until > now) {
			i++;
			continue;
		}
		if (!s->stopped && to_record(s, &s->held[i].r) < 0)
			ret = -1;
		s->held[i] = s->held[--s->nheld];
	}
	return ret;
}

/* The reason of a reset, after its close: completes the held close. */
static int amend(struct ct_session *s, const struct ct_event *e)
{
	for (int i = 0; i < s->nheld; i++) {
		struct ct_record *r = &s->held[i].r;
		int ret;

		if (memcmp(&r->key, &e->key, sizeof(e->key)) ||
		    r->flow.first_ns != e->flow.first_ns)
			continue;
		if (e->flow.rst_reason) {
			r->flow.rst_reason = e->flow.rst_reason;
			r->flow.rst_state = e->flow.rst_state;
		}
		r->flow.rst_accepted |= e->flow.rst_accepted;
		/* the tracepoints may have named the socket's owner since: theirs is newer */
		if (e->flow.own_flags || e->flow.own.cgroup) {
			r->flow.own = e->flow.own;
			r->flow.own_flags = e->flow.own_flags;
		}
		/*
		 * Only what it waits for completes it: the peer's socket taking our RST (in
		 * another namespace of this kernel) may be traced before our own reason.
		 */
		if (((s->held[i].want & CT_EVF_LOCAL_RST) && !r->flow.rst_reason) ||
		    ((s->held[i].want & CT_EVF_RX_RST) && !r->flow.rst_accepted))
			return 0;
		ret = to_record(s, r);
		s->held[i] = s->held[--s->nheld];
		return ret;
	}
	return 0;	/* its close went out already, or was never held */
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct ct_session *s = ctx;
	const struct ct_event *e = data;
	struct ct_event whole;
	struct ct_record r;

	if (len < CT_EVENT_PLAIN_SIZE || s->stopped)
		return 0;
	/* outside tunnels the record stops before the flow's tunnel part, which is zero */
	if (len < sizeof(whole)) {
		memcpy(&whole, data, len);
		memset((char *)&whole + len, 0, sizeof(whole) - len);
		e = &whole;
	}
	if (e->type == CT_EV_AMEND)
		return amend(s, e);
	ct_record_from_event(&r, e, s->scan_out.to_wall,
			     s->iface(s->iface_ctx, CT_IFVLAN_IFINDEX(e->key.ifvlan)));
	if (e->type == CT_EV_CLOSE)
		tally_close(s, &r, 0);
	if (e->type == CT_EV_CLOSE && (e->evflags & s->hold)) {
		if (s->nheld == CT_HELD_MAX && release_held(s, 1) < 0)
			return -1;
		/* a flood holds most closes: a clock reading each would cost more than the copy */
		if (s->held_clock++ % CT_HELD_CLOCK_EVERY == 0)
			s->held_until = ct_mono_ns() + CT_HELD_NS;
		s->held[s->nheld].r = r;
		s->held[s->nheld].want = e->evflags & s->hold;
		s->held[s->nheld++].until = s->held_until;
		return 0;
	}
	return to_record(s, &r);
}

int ct_session_open(struct ct_session *s, const struct ct_session_opts *o, char *err,
		    size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->exp = o->exp;
	s->out = o->out;
	s->iface = o->iface;
	s->iface_ctx = o->iface_ctx;
	s->cgroup = o->cgroup;
	s->cgroup_ctx = o->cgroup_ctx;
	s->zones = o->zones;
	s->user_clock = o->load.user_clock;
	s->tally = o->tally;
	s->nifs = o->load.nifs < CT_MAX_IFACES ? o->load.nifs : CT_MAX_IFACES;
	for (int i = 0; i < s->nifs; i++)
		s->ifindex[i] = o->load.ifindex[i];
	if (ct_storm_init(&s->storm, o->load.storm_rate)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ct_engine_open(&s->eng, o->engine, &o->load, on_event, s, err, errlen))
		return -1;
	if (ct_scanner_init(&s->scan, &s->eng.flows, 0) ||
	    (s->eng.cut && ct_scanner_use_cut(&s->scan, s->eng.cut_link_fd, s->eng.cut))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->scan_out = (struct ct_scan_out){
		.rec = { .record = from_scan, .visit = o->out.visit ? to_visit : NULL,
			 .flush = between_batches, .ctx = s },
		.iface = iface_of,
	};
	/* wall clock = monotonic + offset (replay: the capture's time is the wall clock) */
	if (!s->user_clock)
		s->scan_out.to_wall = (__s64)(ct_now_ns() - ct_mono_ns());
	return 0;
}

void ct_session_close(struct ct_session *s)
{
	ct_storm_free(&s->storm);
	ct_scanner_free(&s->scan);
	ct_engine_close(&s->eng);
}

int ct_session_fd(const struct ct_session *s)
{
	return ct_engine_fd(&s->eng);
}

void ct_session_drain(struct ct_session *s)
{
	if (!s->stopped)
		ct_engine_consume(&s->eng);
	batch_end(s);
}

int ct_session_poll(struct ct_session *s, int timeout_ms)
{
	int n = ct_engine_poll(&s->eng, timeout_ms);

	if (n < 0 && n != -EINTR && !s->stopped) {
		pr_warn("reading events failed: %s\n", strerror(-n));
		return n;
	}
	/* events below the wakeup mark do not wake us: the poll tick picks them up */
	ct_session_drain(s);
	if (s->nheld) {
		release_held(s, 0);
		batch_end(s);
	}
	return 0;
}

/* A loss record of what was lost since the last one, if anything was. */
static int record_losses(struct ct_session *s)
{
	struct ct_record r = { .type = CT_REC_LOSS };
	struct ct_loss now;

	if (ct_session_losses(s, &now))
		return 0;
	r.loss.evicted_embryonic = now.evicted_embryonic - s->recorded.evicted_embryonic;
	r.loss.evicted_established = now.evicted_established - s->recorded.evicted_established;
	r.loss.untracked = now.untracked - s->recorded.untracked;
	r.loss.events_lost = now.events_lost - s->recorded.events_lost;
	if (!r.loss.evicted_embryonic && !r.loss.evicted_established && !r.loss.untracked &&
	    !r.loss.events_lost)
		return 0;
	s->recorded = now;
	r.ts_ns = s->user_clock ? s->scan_now : ct_now_ns();
	return s->stopped ? 0 : to_record(s, &r);
}

int ct_session_scan(struct ct_session *s, enum ct_scan_mode mode)
{
	struct ct_clock clk;
	int err;

	if (s->user_clock) {
		ct_clock_replay(*s->eng.clock_ns, *s->eng.clock_tick, &clk);
		s->scan_now = *s->eng.clock_ns;
	} else {
		err = ct_clock_sync(s->eng.skel, 0, &clk);
		if (err) {
			pr_warn("cannot read the flow table: %s\n", strerror(-err));
			return err;
		}
		/* taken again each time in case the wall clock was set */
		s->scan_out.to_wall = (__s64)(ct_now_ns() - ct_mono_ns());
		s->scan_now = ct_mono_ns();
	}
	err = ct_scan(&s->scan, &s->exp, &clk, s->scan_now, mode, &s->scan_out);
	if (err < 0)
		pr_warn("cannot read the flow table: %s\n", strerror(-err));
	/* replay runs the programs itself: nothing can be writing the storm table */
	if (!s->stopped)
		ct_session_storms(s, s->user_clock);
	record_losses(s);
	batch_end(s);
	return err;
}

/*
 * Take the kernel's storm counts of one period (all periods with @all) out of its table,
 * into this period's summaries; then the closes it had no row for, by interface.
 */
static void read_kernel_storms(struct ct_session *s, int all)
{
	const struct ct_map *m = &s->eng.storm;
	int ncpu = m->ncpu, n = 0;
	__u32 epoch = *s->eng.storm_epoch;
	__u8 ripe = (__u8)((epoch + CT_STORM_EPOCHS - 1) % CT_STORM_EPOCHS);
	struct ct_storm_key *keys, k, next;
	struct ct_storm_val *v;
	struct ct_counters c;
	__u64 wall = s->scan_out.to_wall, now;

	/* from now on, programs write the next period; the ripe one is two behind it */
	*s->eng.storm_epoch = epoch + 1;
	keys = calloc(CT_STORM_KEYS, sizeof(*keys));
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!keys || !v)
		goto out;
	for (int first = 1; n < CT_STORM_KEYS &&
			    !ct_map_get_next_key(m, first ? NULL : &k, &next); first = 0) {
		k = next;
		if (all || CT_STORM_EPOCH(next.epoch) == ripe)
			keys[n++] = next;
	}
	for (int i = 0; i < n; i++) {
		__u64 count = 0, first = 0, last = 0;

		if (ct_map_lookup_and_delete(m, &keys[i], v))
			continue;
		for (int cpu = 0; cpu < ncpu; cpu++) {
			if (!v[cpu].count)
				continue;
			if (!count || v[cpu].first_ns < first)
				first = v[cpu].first_ns;
			if (v[cpu].last_ns > last)
				last = v[cpu].last_ns;
			count += v[cpu].count;
		}
		ct_storm_add(&s->storm, slot_of(s, keys[i].ifvlan), &keys[i], count, first + wall,
			     last + wall);
	}
out:
	free(keys);
	free(v);
	now = s->user_clock ? s->scan_now : ct_now_ns();
	for (int i = 0; i < (s->nifs ? s->nifs : 1); i++) {
		if (ct_counters_read(&s->eng.counters, s->eng.nifs, i, &c) ||
		    c.c[CT_C_STORM_FULL] <= s->storm_full_seen[i])
			continue;
		ct_storm_add_unkeyed(&s->storm, i, CT_IFVLAN(s->nifs ? s->ifindex[i] : 0, 0),
				     CT_CLOSE_ORPHAN_RST,
				     c.c[CT_C_STORM_FULL] - s->storm_full_seen[i], now, now);
		s->storm_full_seen[i] = c.c[CT_C_STORM_FULL];
	}
}

int ct_session_storms(struct ct_session *s, int all)
{
	/* no rate, no summary: the programs never write the table, the scans never fill it */
	if (!s->storm.rate)
		return 0;
	read_kernel_storms(s, all);
	return ct_storm_flush(&s->storm, from_storm, s, s->iface, s->iface_ctx);
}

int ct_session_losses(struct ct_session *s, struct ct_loss *l)
{
	struct ct_counters c;
	int err;

	memset(l, 0, sizeof(*l));
	err = ct_counters_read(&s->eng.counters, s->eng.nifs, -1, &c);
	if (err)
		return err;
	l->evicted_embryonic = c.c[CT_C_EVICT_EMB];
	l->evicted_established = c.c[CT_C_EVICT_EST];
	l->untracked = c.c[CT_C_FLOW_FAIL];
	l->events_lost = c.c[CT_C_RB_FAIL];
	return 0;
}

void ct_session_table(const struct ct_session *s, __u64 *flows, __u64 *capacity)
{
	*flows = s->scan.last_seen_flows;
	*capacity = s->eng.flows.max_entries;
}

/*
 * RSTs sent: tc counts them all in [0], the tracepoint those it names. The ones without a
 * name are the difference; a number this kernel does not name is among them already.
 */
static void rst_unknown(struct ct_session *s, int slot, struct ct_counters *k)
{
	__u64 named = 0, unknown;

	for (int r = 1; r < CT_RST_REASONS; r++) {
		if (!strcmp(ct_rst_reason_name((__u8)r), "-"))
			k->rst_sent[r] = 0;
		named += k->rst_sent[r];
	}
	unknown = k->rst_sent[0] > named ? k->rst_sent[0] - named : 0;
	/* one traced after tc saw it may be named a second later: the counter never dips */
	if (unknown < s->rst_unknown_max[slot])
		unknown = s->rst_unknown_max[slot];
	s->rst_unknown_max[slot] = unknown;
	k->rst_sent[0] = unknown;
}

void ct_session_metrics(struct ct_session *s, struct ct_metrics *m)
{
	struct ct_counters k;
	struct ct_loss l;

	/* a read that fails keeps what was published: counters never drop to 0 */
	for (int i = 0; i < m->nifs; i++) {
		if (ct_counters_read(&s->eng.counters, s->eng.nifs, i, &k))
			continue;
		rst_unknown(s, i, &k);
		m->ifs[i].k = k;
	}
	ct_session_table(s, &m->table_entries, &m->table_capacity);
	if (!ct_session_losses(s, &l)) {
		m->events_lost = l.events_lost;
	}
}

/* Say what was lost on stderr, each count by what it is. */
static void say_losses(const struct ct_loss *l, const char *when)
{
	if (l->evicted_embryonic || l->evicted_established)
		pr_warn("%llu flows evicted from the full flow table%s (%llu embryonic, %llu "
			"established); raise --table-size\n",
			(unsigned long long)(l->evicted_embryonic + l->evicted_established), when,
			(unsigned long long)l->evicted_embryonic,
			(unsigned long long)l->evicted_established);
	if (l->untracked)
		pr_warn("%llu flows not tracked%s: the flow table was full and nothing could "
			"go; raise --table-size\n", (unsigned long long)l->untracked, when);
	if (l->events_lost)
		pr_warn("%llu events lost%s: the ring buffer was full\n",
			(unsigned long long)l->events_lost, when);
}

/* Whether @now grew by a tenth over @said (or from 0): worth saying again. */
static int grew(__u64 now, __u64 said)
{
	return now > said + said / 10;
}

void ct_session_report(struct ct_session *s)
{
	struct ct_loss l;

	if (ct_session_losses(s, &l))
		return;
	if (grew(l.evicted_embryonic + l.evicted_established,
		 s->said.evicted_embryonic + s->said.evicted_established) ||
	    grew(l.untracked, s->said.untracked) || l.events_lost > s->said.events_lost) {
		say_losses(&l, " so far");
		s->said = l;
	}
}

void ct_session_closes(struct ct_session *s, unsigned long long *n)
{
	struct ct_counters k;
	int got = !ct_counters_read(&s->eng.counters, s->eng.nifs, -1, &k);

	for (int i = 0; i < CT_CLOSE_MAX; i++)
		n[i] = s->user_closes[i] + (got ? k.c[CT_C_CLOSE_BASE + i] : 0);
}

int ct_session_finish(struct ct_session *s, int mode)
{
	struct ct_counters k;
	__u64 *c = k.c;
	struct ct_loss l;
	int ret, r;

	if (!s->eng.flows.ops)
		return 0;
	/* when the reader went away, there is nobody to hand records to; stderr is still read */
	ct_session_drain(s);	/* the last events */
	release_held(s, 1);
	r = mode >= 0 && !s->stopped ? ct_session_scan(s, (enum ct_scan_mode)mode) : 0;
	ret = r < 0;
	/* programs are detached (or replay is over): every storm count is final */
	if (!s->stopped) {
		ct_session_storms(s, 1);
		record_losses(s);
	}
	batch_end(s);
	ct_session_losses(s, &l);
	say_losses(&l, "");
	if (s->storm.summarised)
		pr_info("%llu closes were counted in storm summaries, not one by one\n",
			(unsigned long long)s->storm.summarised);
	if (!ct_counters_read(&s->eng.counters, s->eng.nifs, -1, &k)) {
		if (c[CT_C_OWNER_FULL])
			pr_warn("%llu sockets were not remembered, the owner table being full: "
				"their closes name only the cgroup and cookie tc saw\n",
				(unsigned long long)c[CT_C_OWNER_FULL]);
		pr_info("%llu packets, %llu TCP, %llu other, %llu fragments, %llu malformed, "
			"%llu flows\n", (unsigned long long)c[CT_C_PACKETS],
			(unsigned long long)c[CT_C_TCP], (unsigned long long)c[CT_C_OTHER],
			(unsigned long long)c[CT_C_FRAGMENT], (unsigned long long)c[CT_C_MALFORMED],
			(unsigned long long)c[CT_C_FLOWS]);
	}
	return ret || l.events_lost || l.evicted_embryonic || l.evicted_established ||
	       l.untracked;
}
