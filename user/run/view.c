// SPDX-License-Identifier: BSD-3-Clause
/*
 * view.c - a viewer's session: the agents' records, decoded, through the command's own
 * filters and output; the agents' going and coming back, said on stderr.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "live.h"
#include "log.h"
#include "now.h"
#include "reasons_btf.h"
#include "view.h"

static void agent_away(struct ct_viewer_agent *a, const char *why)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	ct_share_rx_free(&a->rx);
	a->away_since = ct_mono_ns();
	a->retry_at = a->away_since;
	pr_warn("%s: the agent watching it (pid %u) %s; waiting up to %d s for it to come "
		"back\n", a->iface, a->hello.pid, why, CT_VIEW_WAIT_S);
}

/* Join (or, @again, rejoin) the agent of @a: 0, -1 when none is there (yet), -2 said */
static int agent_join(struct ct_viewer *v, struct ct_viewer_agent *a, int again)
{
	char err[512];
	int fd = ct_share_connect(a->iface, &a->hello, err, sizeof(err));

	if (fd == -3 && again)
		return -1;	/* coming back: looked at again */
	if (fd <= -2) {
		pr_warn("%s\n", err);
		return -2;
	}
	if (fd < 0)
		return -1;
	if (ct_share_subscribe(fd, v->o.flags, v->o.name)) {
		pr_warn("%s: the agent closed the connection: %s\n", a->iface, strerror(errno));
		close(fd);
		return -2;
	}
	a->fd = fd;
	/* the agent turns visits on between passes: the first whole one ends two ticks on */
	a->fresh = 3;
	a->dropped_said = a->dropped_tick = 0;
	return 0;
}

int ct_viewer_start(struct ct_viewer *v, const struct ct_viewer_opts *o)
{
	int joined = 0, missing = -1;

	memset(v, 0, sizeof(*v));
	v->o = *o;
	for (int i = 0; i < o->nifaces && i < CT_MAX_IFACES; i++) {
		struct ct_viewer_agent *a = &v->a[v->n++];
		int r;

		snprintf(a->iface, sizeof(a->iface), "%s", o->ifaces[i]);
		a->fd = -1;
		r = agent_join(v, a, 0);
		if (r == -2) {
			ct_viewer_end(v);
			return -1;
		}
		if (r)
			missing = i;
		else
			joined++;
	}
	if (!joined) {
		ct_viewer_end(v);
		return 1;
	}
	if (missing >= 0) {
		int with = 0;

		while (v->a[with].fd < 0)
			with++;
		pr_warn("%s: no agent watches it, while one watches %s: view those apart, or "
			"attach to all of them (--no-agent)\n", o->ifaces[missing],
			v->a[with].iface);
		ct_viewer_end(v);
		return -1;
	}
	/* the agent sends the kernel's reason numbers: their names are this kernel's BTF's */
	{
		char err[256];

		if (!ct_reasons_probe(&v->reasons, err, sizeof(err))) {
			ct_reasons_use(&v->reasons);
			v->reasons_used = 1;
		} else {
			pr_info("%s: reset reasons show as numbers\n", err);
		}
	}
	if (o->announce) {
		char names[CT_MAX_IFACES * 17] = "";
		size_t off = 0;

		for (int i = 0; i < v->n && off < sizeof(names); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
						i ? "," : "", v->a[i].iface);
		pr_note("viewing %s through the agent watching it (pid %u, %s) for %s closes%s; "
			"Ctrl-C stops\n", names, v->a[0].hello.pid,
			v->a[0].hello.xdp ? "xdp" : "tc", o->all ? "all" : "abnormal",
			o->all ? "" : " (--all: every close)");
	} else {
		pr_info("viewing %d interface%s through the agent (pid %u)\n", v->n,
			v->n > 1 ? "s" : "", v->a[0].hello.pid);
	}
	return 0;
}

/* One message from @a's agent */
static int handle(struct ct_viewer *v, struct ct_viewer_agent *a, const struct ct_share_hdr *h,
		  const void *body)
{
	size_t len = h->len - sizeof(*h);
	struct ct_record r;

	switch (h->type) {
	case CT_SM_RECORD:
		if (ct_share_decode(body, len, &r)) {
			agent_away(a, "sent a record this viewer cannot read");
			return 0;
		}
		r.zones = v->o.zones;
		if (r.type == CT_REC_CLOSE && r.close < CT_CLOSE_MAX)
			v->closes[r.close]++;
		if (v->o.out.record(v->o.out.ctx, &r) < 0)
			v->stopped = 1;
		return 0;
	case CT_SM_STATUS:
		if (len < sizeof(a->st))
			return 0;
		memcpy(&a->st, body, sizeof(a->st));
		if (a->fresh) {
			a->scans_seen = a->st.scans;	/* the pass under way began without us */
			a->fresh--;
		}
		if (a->st.dropped > a->dropped_said) {
			pr_warn("%s: %llu records dropped by the agent for this viewer alone, which "
				"did not read them fast enough (%llu in all)\n",
				a->iface, (unsigned long long)(a->st.dropped - a->dropped_said),
				(unsigned long long)a->st.dropped);
			a->dropped_said = a->st.dropped;
		}
		return 0;
	default:
		return 0;	/* a later version's: ignored */
	}
}

int ct_viewer_poll(struct ct_viewer *v, int timeout_ms)
{
	struct pollfd p[CT_MAX_IFACES];
	int np = 0, map[CT_MAX_IFACES];
	__u64 now = ct_mono_ns();

	/* the agents away: looked for again, given up after CT_VIEW_WAIT_S */
	for (int i = 0; i < v->n; i++) {
		struct ct_viewer_agent *a = &v->a[i];
		int r;

		if (a->fd >= 0 || now < a->retry_at)
			continue;
		r = agent_join(v, a, 1);
		if (!r) {
			pr_warn("%s: the agent is back (pid %u): closes in between were not seen\n",
				a->iface, a->hello.pid);
			continue;
		}
		if (r == -2 || now - a->away_since > CT_VIEW_WAIT_S * 1000000000ull) {
			if (r != -2)
				pr_warn("%s: no agent came back within %d s; stopping\n", a->iface,
					CT_VIEW_WAIT_S);
			v->failed = 1;
			return -1;
		}
		a->retry_at = now + CT_VIEW_RETRY_MS * 1000000ull;
	}
	for (int i = 0; i < v->n; i++)
		if (v->a[i].fd >= 0) {
			p[np] = (struct pollfd){ .fd = v->a[i].fd, .events = POLLIN };
			map[np++] = i;
		}
	if (!np) {
		/* all away: wait for the next look */
		poll(NULL, 0, timeout_ms < CT_VIEW_RETRY_MS ? timeout_ms : CT_VIEW_RETRY_MS);
		return 0;
	}
	if (poll(p, (nfds_t)np, timeout_ms) <= 0)
		return 0;
	for (int k = 0; k < np && !v->stopped; k++) {
		struct ct_viewer_agent *a = &v->a[map[k]];
		const struct ct_share_hdr *h;
		const void *body;
		int r, m = 0;

		if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = ct_share_read(a->fd, &a->rx);
		if (r < 0) {
			agent_away(a, "broke the stream");
			continue;
		}
		while (!v->stopped && a->fd >= 0 && (m = ct_share_next(&a->rx, &h, &body)) > 0)
			handle(v, a, h, body);
		if (a->fd < 0)
			continue;
		if (m < 0)
			agent_away(a, "sent what this viewer cannot read");
		else if (r == 0)	/* its end closed, and what it sent handed out */
			agent_away(a, "stopped, or restarts");
	}
	if (v->o.out.flush)
		v->o.out.flush(v->o.out.ctx);
	return 0;
}

int ct_viewer_run(struct ct_viewer *v, __u64 until_ns)
{
	while (!ct_stop_signal && !v->stopped && (!until_ns || ct_mono_ns() < until_ns)) {
		if (ct_viewer_poll(v, CT_LIVE_POLL_MS * 10) < 0)
			return 1;
		ct_signals_note();
	}
	return 0;
}

void ct_viewer_counters(struct ct_viewer *v, struct ct_loss *lost, __u64 *flows, __u64 *cap,
		      int *scanned)
{
	memset(lost, 0, sizeof(*lost));
	*flows = *cap = 0;
	*scanned = 1;
	for (int i = 0; i < v->n; i++) {
		struct ct_viewer_agent *a = &v->a[i];
		int seen = 0;

		/* one agent's session (its table, its losses) counts once, however many of
		 * its interfaces are viewed */
		for (int k = 0; k < i; k++)
			seen |= v->a[k].fd >= 0 && v->a[k].hello.pid == a->hello.pid;
		if (!seen) {
			lost->evicted_embryonic += a->st.lost.evicted_embryonic;
			lost->evicted_established += a->st.lost.evicted_established;
			lost->untracked += a->st.lost.untracked;
			lost->events_lost += a->st.lost.events_lost;
			*flows += a->st.table_flows;
			*cap += a->st.table_capacity;
		}
		/*
		 * a pass of the agent's that began and ended since the last tick (the agent
		 * counts only those), with every flow it left handed over: none dropped
		 */
		if (a->fd < 0 || a->fresh || a->st.scans == a->scans_seen ||
		    a->st.dropped != a->dropped_tick)
			*scanned = 0;
		a->scans_seen = a->st.scans;
		a->dropped_tick = a->st.dropped;
	}
}

void ct_viewer_end(struct ct_viewer *v)
{
	/* the reasons' names stay in use: findings name them after the end (@v is static) */
	for (int i = 0; i < v->n; i++) {
		if (v->a[i].fd >= 0)
			close(v->a[i].fd);
		v->a[i].fd = -1;
		ct_share_rx_free(&v->a[i].rx);
	}
}
