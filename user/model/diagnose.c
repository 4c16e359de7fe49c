// SPDX-License-Identifier: BSD-3-Clause
/*
 * diagnose.c - the rules of closetrace-diagnose(8): counts by server and by client, then
 * findings ranked by severity and weight.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "tunnel.h"
#include "diagnose.h"
#include "hashtab.h"
#include "owner.h"
#include "reasons.h"
#include "text.h"
#include "zones.h"

#define CT_DIAG_SERVERS 16384	/* servers counted; past that, counted as not analysed */
#define CT_DIAG_CLIENTS 16384
#define CT_DIAG_HOSTS 16384	/* server hosts whose SYN-ACK TTL is kept */
#define CT_DIAG_TTLS 4		/* distinct TTLs of a server's refusals counted */
#define CT_DIAG_SCAN_SLOTS 32	/* distinct targets a client keeps: past both thresholds */
#define CT_DIAG_FINDINGS 256
#define CT_DIAG_CLIENTS_KEPT 64	/* clients a server tells apart; past that, "64 or more" */
#define CT_DIAG_ZONES 3		/* client zones a finding names */
#define CT_DIAG_ENDS 64		/* a server's latest ends kept: a storm counts to this */
#define CT_DIAG_SPIKE_RING 64	/* intervals kept for the spike rule */
#define CT_DIAG_SPIKE_BASE 30	/* intervals a baseline averages, at most ... */
#define CT_DIAG_SPIKE_HIST 6	/* ... and at least: no spike before that much history */
#define CT_DIAG_SPIKE_HOSTS 64	/* server hosts an interval counts; past that, none named */
#define CT_DIAG_SPIKE_NONE 0.05	/* a baseline below this is said to be none */

/* A connection a server ended (its RST, or its FIN first) */
struct end {
	__u64 ts, start;	/* the end, the first packet */
	__u64 client;		/* the client's address, hashed */
	__u8 rst;
};

/* A server: its address and port, in its tunnel (two tenants' servers are two) */
struct skey {
	__u32 addr[4];
	__u32 port;
	__u32 tun_id;
	__u8 tun_type;
	__u8 pad[3];
};

struct srv {
	__u64 conns, refused, unanswered, syns_unanswered, est, srv_resets, orphan;
	__u64 refused_nosock;	/* refusals with no socket of this host's on either side */
	__u64 refused_last;	/* the latest refusal */
	/* the TTLs of the refusals' RSTs, the first few, with their counts */
	__u8 ref_ttl[CT_DIAG_TTLS];
	__u32 ref_ttl_n[CT_DIAG_TTLS];
	/* resets whose RST came at another TTL than the server's SYN-ACK: not its stack */
	__u64 mb_resets;
	__u8 mb_rst_ttl, mb_syn_ttl;	/* the latest such */
	__u64 interrupts, idle_handshakes, storm, storm_first, storm_last;
	__u32 reasons[CT_RST_REASONS];
	__u64 clients[CT_DIAG_CLIENTS_KEPT];	/* client addresses, hashed: told apart up
						 * to CT_DIAG_CLIENTS_KEPT */
	__u32 nclients;
	/* the clients' zones (when zones are set), the first few, with their closes */
	char zone[CT_DIAG_ZONES][CT_ZONE_TEXT_MAX];
	__u32 zone_n[CT_DIAG_ZONES];
	/* a refusal's listener, the latest seen */
	__u8 lflags;
	__u32 lpid, lclosed_ms;
	char lcomm[17];
	char lwho[128];		/* its cgroup's name */
	/* the owner of the sockets reset, the latest */
	char owner[160];
	/* the connections it ended, the latest (a ring), and its closes' span */
	struct end ends[CT_DIAG_ENDS];
	__u32 ends_pos;
	__u64 ended, first_ns, last_ns;
	/* the largest burst: connections open at t0 and ended by t1, within the window */
	__u32 burst, burst_rst, burst_clients;
	__u64 burst_t0, burst_t1;
};

struct target {
	__u32 host[4];
	__u16 port;
	__u64 ts;
};

struct cli {
	__u32 n;
	struct target t[CT_DIAG_SCAN_SLOTS];
};

/* One interval's failed closes, for the spike rule */
struct slot {
	__u64 iv;		/* its number: ts / interval */
	__u64 n, refused, unanswered, resets, orphan;
	/* the server hosts they went to, counted; nhosts past the array: too many to name */
	__u32 host[CT_DIAG_SPIKE_HOSTS][4];
	__u64 host_n[CT_DIAG_SPIKE_HOSTS];
	__u32 nhosts;
};

/* A spike: an interval's failed closes against the mean of those before it */
struct spike {
	__u64 iv, n, refused, unanswered, resets, orphan, spikes;
	double base;
	__u32 top[4];		/* the host most went to, and how many; top_n 0: not known */
	__u64 top_n;
};

/* A server host: the TTL its SYN-ACKs come with here (the latest) */
struct host {
	__u8 ttl;
};

struct ct_diag {
	struct ct_diag_opts o;
	struct ct_htab *srv, *cli, *hosts;
	__u64 srv_over, cli_over, records;
	/* the spike rule: the intervals, the first seen, the next to judge, the latest */
	struct slot ring[CT_DIAG_SPIKE_RING];
	__u64 iv_first, iv_next, iv_last;
	int iv_any;
	struct spike spike;	/* the largest judged so far; spikes: how many */
	struct ct_finding f[CT_DIAG_FINDINGS];
	size_t nf;
};

/* @s as a JSON string's contents: " and \\ escaped, control bytes as \\u00XX */
static size_t json_esc(const char *s, char *buf, size_t len)
{
	size_t off = 0;

	for (; *s && off + 7 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[off++] = '\\';
			buf[off++] = (char)c;
		} else if (c < 0x20) {
			off += (size_t)snprintf(buf + off, len - off, "\\u%04x", c);
		} else {
			buf[off++] = (char)c;
		}
	}
	buf[off] = '\0';
	return off;
}

static const char *const sev_names[CT_SEV_MAX] = { "info", "warning", "critical" };

const char *ct_severity_name(enum ct_severity s)
{
	return (unsigned int)s < CT_SEV_MAX ? sev_names[s] : "?";
}

int ct_severity_parse(const char *s)
{
	for (int i = 0; i < CT_SEV_MAX; i++)
		if (!strcmp(s, sev_names[i]))
			return i;
	return -1;
}

void ct_diag_opts_default(struct ct_diag_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_closes = 3;
	o->refused_share = 0.5;
	o->reset_share = 0.8;
	o->scan_ports = 15;
	o->scan_hosts = 25;
	o->scan_window_ns = 300ull * 1000000000ull;
	o->storm_conns = 10;
	o->storm_window_ns = 1000000000ull;
	o->spike_min = 10;
	o->spike_factor = 4;
	o->spike_interval_ns = 10ull * 1000000000ull;
}

struct ct_diag *ct_diag_new(const struct ct_diag_opts *o)
{
	struct ct_diag *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->o = *o;
	d->srv = ct_htab_new(sizeof(struct skey), sizeof(struct srv), CT_DIAG_SERVERS);
	d->cli = ct_htab_new(sizeof(__u32) * 4, sizeof(struct cli), CT_DIAG_CLIENTS);
	d->hosts = ct_htab_new(sizeof(__u32) * 4, sizeof(struct host), CT_DIAG_HOSTS);
	if (!d->srv || !d->cli || !d->hosts) {
		ct_diag_free(d);
		return NULL;
	}
	return d;
}

void ct_diag_set_owners(struct ct_diag *d, int owners)
{
	d->o.owners = owners;
}

void ct_diag_free(struct ct_diag *d)
{
	if (!d)
		return;
	ct_htab_free(d->srv);
	ct_htab_free(d->cli);
	ct_htab_free(d->hosts);
	free(d);
}

static struct srv *srv_of(struct ct_diag *d, const struct skey *k)
{
	struct srv *s, zero;

	s = ct_htab_lookup(d->srv, k);
	if (s)
		return s;
	memset(&zero, 0, sizeof(zero));
	if (ct_htab_update(d->srv, k, &zero, 0)) {
		d->srv_over++;
		return NULL;
	}
	return ct_htab_lookup(d->srv, k);
}

/* An address, hashed (never 0): clients told apart without keeping them */
static __u64 addr_hash(const __u32 a[4])
{
	return ((__u64)a[0] * 31 + a[1]) * 31 * 31 + (__u64)a[2] * 31 + a[3] + 1;
}

/* Count a client, by a hash of its address, up to CT_DIAG_CLIENTS_KEPT told apart; and its
 * zone among the first few */
static void note_client(struct srv *s, const struct ct_record *r, int c)
{
	const __u32 *addr = r->key.addr[c];
	__u64 h = addr_hash(addr);
	char z[CT_ZONE_TEXT_MAX];
	__u32 net[4], i;
	__u8 plen;

	for (i = 0; i < s->nclients; i++)
		if (s->clients[i] == h)
			break;
	if (i == s->nclients && s->nclients < CT_DIAG_CLIENTS_KEPT)
		s->clients[s->nclients++] = h;
	if (!r->zones)
		return;
	ct_zone_of(r->zones, addr, z, sizeof(z), net, &plen);
	for (i = 0; i < CT_DIAG_ZONES && s->zone[i][0]; i++)
		if (!strcmp(s->zone[i], z))
			break;
	if (i == CT_DIAG_ZONES)
		return;
	if (!s->zone[i][0])
		memcpy(s->zone[i], z, sizeof(z));
	s->zone_n[i]++;
}

/* "from 3 clients (zones office 2, 192.0.2.0/24 1)"; and the JSON of the zones */
static void clients_text(const struct srv *s, char *buf, size_t len, char *json, size_t jlen)
{
	size_t off = 0, joff = 0;

	ct_put(buf, len, &off, "from %s%u client%s", s->nclients == CT_DIAG_CLIENTS_KEPT ?
	       "at least " : "", s->nclients, s->nclients == 1 ? "" : "s");
	json[0] = '\0';
	for (int i = 0; i < CT_DIAG_ZONES && s->zone[i][0]; i++) {
		ct_put(buf, len, &off, "%s%s %u", i ? ", " : " (zones ", s->zone[i], s->zone_n[i]);
		ct_put(json, jlen, &joff, "%s\"%s\":%u", i ? "," : ",\"client_zones\":{",
		       s->zone[i], s->zone_n[i]);
	}
	if (s->zone[0][0]) {
		ct_put(buf, len, &off, ")");
		ct_put(json, jlen, &joff, "}");
	}
}

/* A client refused or unanswered by @host:@port at @ts, for the scan rule */
static void note_target(struct ct_diag *d, const __u32 clt[4], const __u32 host[4], __u16 port,
			__u64 ts)
{
	struct cli *c = ct_htab_lookup(d->cli, clt), zero;
	__u32 i;

	if (!c) {
		memset(&zero, 0, sizeof(zero));
		if (ct_htab_update(d->cli, clt, &zero, 0)) {
			d->cli_over++;
			return;
		}
		c = ct_htab_lookup(d->cli, clt);
	}
	for (i = 0; i < c->n; i++)
		if (c->t[i].port == port && !memcmp(c->t[i].host, host, 16)) {
			c->t[i].ts = ts;
			return;
		}
	if (c->n == CT_DIAG_SCAN_SLOTS) {
		/* full: the oldest goes */
		__u32 old = 0;

		for (i = 1; i < c->n; i++)
			if (c->t[i].ts < c->t[old].ts)
				old = i;
		i = old;
	} else {
		i = c->n++;
	}
	memcpy(c->t[i].host, host, 16);
	c->t[i].port = port;
	c->t[i].ts = ts;
}

/* Whether end @x is in the burst from @t0 to @now: ended then, open since @open_by */
static int in_burst(const struct end *x, __u64 t0, __u64 now, __u64 open_by)
{
	return x->ts >= t0 && x->ts <= now && x->start <= open_by;
}

/*
 * A connection @s ended at the record's time (@rst: by a RST). A storm is many connections
 * that were all open at one moment, t0, for a tenth of the window at least, and that the
 * server ended within the window from t0: what a crash or a restart does. A server that
 * closes its sessions one by one (or resets each, SO_LINGER 0) ends few that were open
 * together; many clients served at once end young connections; and a RST the kernel says
 * the application chose (app-abort: SO_LINGER 0) is no crash's.
 */
static void note_end(const struct ct_diag_opts *o, struct srv *s, const struct ct_record *r,
		     int c, int rst)
{
	struct end *e = &s->ends[s->ends_pos % CT_DIAG_ENDS];
	__u32 kept, n = 0, nrst = 0, ncl = 0;
	__u64 now = r->ts_ns, t0 = now, old;

	if (rst && r->flow.rst_reason && !strcmp(ct_rst_reason_name(r->flow.rst_reason),
						 "app-abort"))
		return;

	e->ts = now;
	e->start = r->start_ns && r->start_ns < now ? r->start_ns : now;
	e->client = addr_hash(r->key.addr[c]);
	e->rst = (__u8)rst;
	s->ends_pos++;
	s->ended++;
	kept = s->ends_pos < CT_DIAG_ENDS ? s->ends_pos : CT_DIAG_ENDS;
	/* the window that ends here: its first end, then the connections open at it */
	for (__u32 i = 0; i < kept; i++)
		if (s->ends[i].ts <= now && now - s->ends[i].ts < o->storm_window_ns &&
		    s->ends[i].ts < t0)
			t0 = s->ends[i].ts;
	old = t0 > o->storm_window_ns / 10 ? t0 - o->storm_window_ns / 10 : 0;
	for (__u32 i = 0; i < kept; i++)
		if (in_burst(&s->ends[i], t0, now, old)) {
			n++;
			nrst += s->ends[i].rst;
		}
	if (n <= s->burst)
		return;
	/* a new largest: its clients told apart */
	for (__u32 i = 0; i < kept; i++) {
		__u32 j;

		if (!in_burst(&s->ends[i], t0, now, old))
			continue;
		for (j = 0; j < i; j++)
			if (s->ends[j].client == s->ends[i].client &&
			    in_burst(&s->ends[j], t0, now, old))
				break;
		ncl += j == i;
	}
	s->burst = n;
	s->burst_rst = nrst;
	s->burst_clients = ncl;
	s->burst_t0 = t0;
	s->burst_t1 = now;
}

/* The failed closes (refused, unanswered, reset by the server, orphan RSTs) of a record */
static __u64 failed_closes(const struct ct_record *r, __u64 *refused, __u64 *unanswered,
			   __u64 *resets, __u64 *orphan)
{
	__u64 n = r->type == CT_REC_SUMMARY ? r->count : 1;

	switch (r->close) {
	case CT_CLOSE_REFUSED:
		*refused += n;
		return n;
	case CT_CLOSE_UNANSWERED:
		*unanswered += n;
		return n;
	case CT_CLOSE_ORPHAN_RST:
		*orphan += n;
		return n;
	case CT_CLOSE_RESET_SERVER:
		*resets += n;
		return n;
	case CT_CLOSE_FIN_RESET:
		if (r->rst_by != CT_BY_SRV)
			return 0;
		*resets += n;
		return n;
	default:
		return 0;
	}
}

/*
 * Judge the intervals @from to @to (final: no record of theirs comes later) against the
 * mean of the CT_DIAG_SPIKE_BASE intervals before each; the largest spike to @best.
 */
static void spike_judge(const struct ct_diag *d, __u64 from, __u64 to, struct spike *best)
{
	const struct ct_diag_opts *o = &d->o;

	if (to >= from + CT_DIAG_SPIKE_RING)
		from = to - CT_DIAG_SPIKE_RING + 1;	/* older ones are gone, and were empty */
	for (__u64 iv = from; iv <= to; iv++) {
		const struct slot *sl = &d->ring[iv % CT_DIAG_SPIKE_RING];
		__u64 lo = iv > CT_DIAG_SPIKE_BASE ? iv - CT_DIAG_SPIKE_BASE : 0, sum = 0;
		double base;

		if (sl->iv != iv || sl->n < o->spike_min)
			continue;
		if (lo < d->iv_first)
			lo = d->iv_first;
		if (iv - lo < CT_DIAG_SPIKE_HIST)
			continue;	/* too little history for a baseline */
		for (__u64 j = lo; j < iv; j++)
			if (d->ring[j % CT_DIAG_SPIKE_RING].iv == j)
				sum += d->ring[j % CT_DIAG_SPIKE_RING].n;
		base = (double)sum / (double)(iv - lo);
		if ((double)sl->n < o->spike_factor * base)
			continue;
		best->spikes++;
		if (best->n && (double)sl->n / (base + 1) <= (double)best->n / (best->base + 1))
			continue;
		best->iv = iv;
		best->n = sl->n;
		best->refused = sl->refused;
		best->unanswered = sl->unanswered;
		best->resets = sl->resets;
		best->orphan = sl->orphan;
		best->base = base;
		best->top_n = 0;
		/* the host most went to (the lowest address of a tie), when they can be told */
		for (__u32 h = 0; sl->nhosts <= CT_DIAG_SPIKE_HOSTS && h < sl->nhosts; h++)
			if (sl->host_n[h] > best->top_n || (sl->host_n[h] == best->top_n &&
			    memcmp(sl->host[h], best->top, sizeof(best->top)) < 0)) {
				best->top_n = sl->host_n[h];
				memcpy(best->top, sl->host[h], sizeof(best->top));
			}
	}
}

/* Count a record in its interval, judging the intervals it makes final */
static void spike_feed(struct ct_diag *d, const struct ct_record *r, const struct skey *k)
{
	__u64 iv = r->ts_ns / (d->o.spike_interval_ns ? d->o.spike_interval_ns : 1), n;
	struct slot *sl;
	__u32 h;

	if (!d->iv_any) {
		d->iv_any = 1;
		d->iv_first = d->iv_next = d->iv_last = iv;
	}
	if (iv > d->iv_last) {
		/* those before the previous interval are final: a late record may still come */
		if (iv - 1 > d->iv_next) {
			/* the intervals after the latest had no record: no spike */
			spike_judge(d, d->iv_next, iv - 2 < d->iv_last ? iv - 2 : d->iv_last,
				    &d->spike);
			d->iv_next = iv - 1;
		}
		d->iv_last = iv;
	}
	if (iv < d->iv_next || iv + CT_DIAG_SPIKE_RING <= d->iv_last)
		return;		/* judged already: too late */
	sl = &d->ring[iv % CT_DIAG_SPIKE_RING];
	if (sl->iv != iv) {
		memset(sl, 0, sizeof(*sl));
		sl->iv = iv;
	}
	if (!k)
		return;
	n = failed_closes(r, &sl->refused, &sl->unanswered, &sl->resets, &sl->orphan);
	if (!n)
		return;
	sl->n += n;
	for (h = 0; h < sl->nhosts && h < CT_DIAG_SPIKE_HOSTS; h++)
		if (!memcmp(sl->host[h], k->addr, sizeof(k->addr)))
			break;
	if (h == CT_DIAG_SPIKE_HOSTS) {
		sl->nhosts = CT_DIAG_SPIKE_HOSTS + 1;	/* too many to name one */
		return;
	}
	if (h == sl->nhosts) {
		memcpy(sl->host[h], k->addr, sizeof(k->addr));
		sl->nhosts++;
	}
	sl->host_n[h] += n;
}

/* A refusal's RST came at @ttl (0: not known) */
static void note_ttl(struct srv *s, __u8 ttl)
{
	int i;

	if (!ttl)
		return;
	for (i = 0; i < CT_DIAG_TTLS && s->ref_ttl[i]; i++)
		if (s->ref_ttl[i] == ttl)
			break;
	if (i == CT_DIAG_TTLS)
		return;
	s->ref_ttl[i] = ttl;
	s->ref_ttl_n[i]++;
}

/*
 * The server's RST ended an established connection: at the TTL of its SYN-ACK, its own
 * stack's; at another, a device on the path sent it (a firewall's idle timeout, an IPS,
 * a load balancer) in the server's name.
 */
static int note_mb_reset(struct srv *s, const struct ct_flow *f, int sv)
{
	if (!f->synack[sv] || !f->ttl[sv] || !f->rst_ttl || f->rst_ttl == f->ttl[sv])
		return 0;
	s->mb_resets++;
	s->mb_rst_ttl = f->rst_ttl;
	s->mb_syn_ttl = f->ttl[sv];
	return 1;
}

/* Client FIN, then client RST, while the server sent more than it got: an interrupt. */
static int user_interrupt(const struct ct_record *r)
{
	char h[CT_HIST_MAX + 1];
	const char *fin, *rst;
	int c = ct_rec_clt(r), s = ct_rec_srv(r);

	if (r->close != CT_CLOSE_FIN_RESET || r->rst_by != CT_BY_CLT ||
	    r->flow.bytes[s] <= r->flow.bytes[c])
		return 0;
	ct_history_str(r->flow.history, c, h, sizeof(h));
	fin = strchr(h, 'F');
	rst = strchr(h, 'R');
	return fin && rst && fin < rst;
}

/* The owner of the socket, as a name: "nginx[4242] nginx.service" */
static void owner_name(const struct ct_record *r, char *buf, size_t len)
{
	char t[1024], *e;

	if (!ct_rec_has_app(r) && !ct_rec_nosock(r)) {
		buf[0] = '\0';
		return;
	}
	size_t n;

	e = ct_app_text(t, r);
	*e = '\0';
	n = strnlen(t, len - 1);	/* cut, whole characters being ASCII here */
	memcpy(buf, t, n);
	buf[n] = '\0';
}

void ct_diag_feed(struct ct_diag *d, const struct ct_record *r)
{
	int c = ct_rec_clt(r), sv = ct_rec_srv(r);
	const struct ct_flow *f = &r->flow;
	struct skey k = { .port = r->key.port[sv] };
	struct srv *s;
	int mb;

	d->records++;
	memcpy(k.addr, r->key.addr[sv], sizeof(k.addr));
	k.tun_type = r->key.tun_type;
	k.tun_id = r->key.tun_id;
	if (r->type == CT_REC_SUMMARY) {
		spike_feed(d, r, &k);
		if (r->unkeyed || !(s = srv_of(d, &k)))
			return;
		if (!s->storm || r->start_ns < s->storm_first)
			s->storm_first = r->start_ns;
		if (r->ts_ns > s->storm_last)
			s->storm_last = r->ts_ns;
		s->storm += r->count;
		if (r->close == CT_CLOSE_ORPHAN_RST)
			s->orphan += r->count;
		return;
	}
	/* closes only: a flow's final record repeats its close */
	if (r->type != CT_REC_CLOSE)
		return;
	if (r->close == CT_CLOSE_NONE || r->close >= CT_CLOSE_MAX)
		return;
	spike_feed(d, r, &k);
	s = srv_of(d, &k);
	if (!s)
		return;
	if (!s->conns || r->ts_ns < s->first_ns)
		s->first_ns = r->ts_ns;
	if (r->ts_ns > s->last_ns)
		s->last_ns = r->ts_ns;
	s->conns++;
	note_client(s, r, c);
	if (f->state & CT_ST_CT)
		s->est++;
	if (f->synack[sv] && f->ttl[sv]) {
		struct host h = { .ttl = f->ttl[sv] };

		ct_htab_update(d->hosts, r->key.addr[sv], &h, 0);	/* full: not kept */
	}
	switch (r->close) {
	case CT_CLOSE_REFUSED:
		s->refused++;
		if (r->ts_ns > s->refused_last)
			s->refused_last = r->ts_ns;
		note_ttl(s, f->rst_ttl);
		if (!(f->own_flags & CT_OWN_NOSOCK) && !ct_rec_has_app(r))
			s->refused_nosock++;
		note_target(d, r->key.addr[c], r->key.addr[sv], r->key.port[sv], r->ts_ns);
		if (ct_rec_nosock(r)) {
			s->lflags = f->own_flags;
			s->lpid = f->own.pid;
			s->lclosed_ms = f->own.closed_ms;
			memcpy(s->lcomm, f->own.comm, 16);
			s->lcomm[16] = '\0';
			owner_name(r, s->lwho, sizeof(s->lwho));
		}
		break;
	case CT_CLOSE_UNANSWERED:
		s->unanswered++;
		s->syns_unanswered += f->syn[c];
		note_target(d, r->key.addr[c], r->key.addr[sv], r->key.port[sv], r->ts_ns);
		break;
	case CT_CLOSE_ORPHAN_RST:
		s->orphan++;
		break;
	case CT_CLOSE_RESET_SERVER:
		s->srv_resets++;
		s->reasons[f->rst_reason < CT_RST_REASONS ? f->rst_reason : 0]++;
		owner_name(r, s->owner, sizeof(s->owner));
		/* a device on the path that resets is no server ending its connections */
		if (!note_mb_reset(s, f, sv))
			note_end(&d->o, s, r, c, 1);
		break;
	case CT_CLOSE_FIN_RESET:
		if (user_interrupt(r))
			s->interrupts++;
		mb = 0;
		if (r->rst_by == CT_BY_SRV) {
			s->srv_resets++;
			mb = note_mb_reset(s, f, sv);
			s->reasons[f->rst_reason < CT_RST_REASONS ? f->rst_reason : 0]++;
			owner_name(r, s->owner, sizeof(s->owner));
		}
		/* the server's FIN first, or its RST: it ended the connection */
		if (!mb && (r->rst_by == CT_BY_SRV || ct_history_first(f->history, CT_L_FIN) == sv))
			note_end(&d->o, s, r, c, r->rst_by == CT_BY_SRV);
		break;
	case CT_CLOSE_GRACEFUL:
		if ((f->state & CT_ST_CT) && !f->bytes[c] && !f->bytes[sv])
			s->idle_handshakes++;
		if (ct_history_first(f->history, CT_L_FIN) == sv)
			note_end(&d->o, s, r, c, 0);
		break;
	default:
		break;
	}
}

static struct ct_finding *finding(struct ct_diag *d, enum ct_severity sev, const char *rule,
				  __u64 weight)
{
	struct ct_finding *f;

	if (d->nf == CT_DIAG_FINDINGS)
		return NULL;
	f = &d->f[d->nf++];
	memset(f, 0, sizeof(*f));
	f->sev = sev;
	f->cls = CT_FC_CAUSE;
	f->rule = rule;
	f->weight = weight;
	return f;
}

/* "2026-12-05T18:20:01Z": a time of a finding's, UTC, to the second */
static void utc_text(__u64 ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (!gmtime_r(&sec, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%llu", (unsigned long long)sec);
}

/*
 * The largest burst of the server's ends, when it is a storm: enough connections, and
 * @spike_factor times what the server ends in as long a span the rest of the time.
 */
static int storm(const struct ct_diag_opts *o, const struct srv *s)
{
	__u64 w = o->storm_window_ns ? o->storm_window_ns : 1;
	__u64 span = s->last_ns - s->first_ns, rest = span > 2 * w ? span - w : w;
	double usual = (double)(s->ended - s->burst) * (double)w / (double)rest;

	return s->burst >= o->storm_conns && (double)s->burst >= o->spike_factor * usual;
}

static int addr_v4(const __u32 a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(CT_V4MAPPED);
}

/* "192.0.2.2:80", "[2001:db8::2]:80", "10.0.0.2:80 in vxlan:42" */
static void endpoint(const struct skey *k, char *buf, size_t len)
{
	char t[32];
	size_t n;

	ct_endpoint_str(k->addr, (__u16)k->port, addr_v4(k->addr), buf, len);
	n = strlen(buf);
	if (k->tun_type && n < len)
		snprintf(buf + n, len - n, " in %s", ct_tunnel_str(k->tun_type, k->tun_id, t,
								    sizeof(t)));
}

/* The reasons of a server's resets, the commonest first: "closed-unread 9, app-abort 1" */
static void reasons_text(const struct srv *s, char *buf, size_t len, int json)
{
	size_t off = 0;
	int used[CT_RST_REASONS] = { 0 };

	buf[0] = '\0';
	used[0] = 1;	/* not known: said below if nothing else is */
	for (int n = 0; n < 3; n++) {
		int best = -1;

		for (int i = 0; i < CT_RST_REASONS; i++)
			if (s->reasons[i] && !used[i] && (best < 0 || s->reasons[i] > s->reasons[best]))
				best = i;
		if (best < 0)
			break;
		used[best] = 1;
		ct_put(buf, len, &off, json ? "%s\"%s\":%u" : "%s%s %u", off ? (json ? "," : ", ") : "",
		       ct_rst_reason_name((__u8)best), s->reasons[best]);
	}
	if (!off && !json)
		ct_put(buf, len, &off, "not known: a capture, or a kernel before 6.10");
}

static void rules_server(struct ct_diag *d, const struct skey *k, const struct srv *s)
{
	const struct ct_diag_opts *o = &d->o;
	struct ct_finding *f;
	char ep[80], who[512], rs[256], rsj[256], lwho[256], owner[320], cl[256], clj[256];
	char when[32], ttlj[96];
	__u64 own = s->srv_resets - s->mb_resets;	/* resets by its own stack */
	const struct host *host;
	__u32 known = 0, mb_ref = 0;
	unsigned int host_ttl, mb_ttl = 0;
	int stormed;

	endpoint(k, ep, sizeof(ep));
	json_esc(s->lwho, lwho, sizeof(lwho));
	json_esc(s->owner, owner, sizeof(owner));
	clients_text(s, cl, sizeof(cl), clj, sizeof(clj));
	utc_text(s->burst_t0, when, sizeof(when));
	stormed = storm(o, s);
	/* a crash or a restart: the connections open at one moment, ended together */
	if (stormed) {
		int rst = s->burst_rst * 2 >= s->burst;
		const char *more = s->burst == CT_DIAG_ENDS ? " or more" : "";
		double secs = (double)(s->burst_t1 - s->burst_t0) / 1e9;

		/* by FINs: a crash with nothing unread, a restart, or idle timeouts together */
		f = finding(d, rst ? CT_SEV_CRITICAL : CT_SEV_INFO,
			    rst ? "reset-storm" : "mass-close", s->burst);
		if (!f)
			return;
		f->cls = CT_FC_EVENT;
		snprintf(f->summary, sizeof(f->summary), "the server %s%s%s%s ended %u%s "
			 "connections open together within %.3f s at %s, %u by a RST, from %u "
			 "client%s: %s", ep,
			 s->owner[0] ? " (" : "", s->owner, s->owner[0] ? ")" : "", s->burst, more,
			 secs, when, s->burst_rst, s->burst_clients,
			 s->burst_clients == 1 ? "" : "s", rst ? "it crashed or restarted, or "
			 "dropped its connections" : "a restart or a shutdown (or a crash with "
			 "nothing unread), or idle timeouts that expired together");
		snprintf(f->evidence, sizeof(f->evidence), "server %s, ended together %u%s, by "
			 "RST %u, clients %u, at %s, ended in all %llu", ep, s->burst, more,
			 s->burst_rst, s->burst_clients, when, (unsigned long long)s->ended);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\","
			 "\"ended_together\":%u,\"by_rst\":%u,\"clients\":%u,\"at\":\"%s\","
			 "\"seconds\":%.3f,\"ended\":%llu%s%s%s}", ep, s->burst, s->burst_rst,
			 s->burst_clients, when, secs, (unsigned long long)s->ended,
			 *owner ? ",\"owner\":\"" : "", owner, *owner ? "\"" : "");
		snprintf(f->next, sizeof(f->next), "the service's logs and restarts at %s "
			 "(journalctl, kubectl get events, dmesg for the OOM killer)", when);
	}
	/*
	 * the refusals' RSTs at another TTL than the host's SYN-ACKs, most of those whose TTL
	 * is known: a device on the path refused, not the host
	 */
	host = ct_htab_lookup(d->hosts, k->addr);
	host_ttl = host ? host->ttl : 0;
	for (int i = 0; host && i < CT_DIAG_TTLS && s->ref_ttl[i]; i++) {
		known += s->ref_ttl_n[i];
		if (s->ref_ttl[i] != host_ttl && s->ref_ttl_n[i] > mb_ref) {
			mb_ref = s->ref_ttl_n[i];
			mb_ttl = s->ref_ttl[i];
		}
	}
	if (mb_ref * 2 <= known)
		mb_ref = 0;
	/* a server refuses: nobody listens (or its listener went away) */
	if (s->refused >= o->min_closes) {
		double share = (double)s->refused / (double)(s->conns ? s->conns : 1);

		f = finding(d, share >= o->refused_share ? CT_SEV_CRITICAL : CT_SEV_WARNING,
			    "refused", s->refused);
		if (!f)
			return;
		who[0] = '\0';
		if (o->owners && s->refused_nosock == s->refused)
			snprintf(who, sizeof(who), "; not by a socket of this host: a firewall's "
				 "REJECT here or beyond, or traffic this host forwards");
		else if ((s->lflags & CT_OWN_LISTENER) && !(s->lflags & CT_OWN_LISTENING))
			snprintf(who, sizeof(who), "; its listener went away (%s)", s->lwho);
		else if (s->lflags & CT_OWN_LISTENING)
			snprintf(who, sizeof(who), "; yet a listener holds the port (%s): bound to "
				 "another address, or its queue full", s->lwho);
		else if (s->lflags & CT_OWN_NOSOCK)
			snprintf(who, sizeof(who), "; nothing listened there since closetrace "
				 "started");
		if (mb_ref && !who[0])
			snprintf(who, sizeof(who), "; the RSTs came at TTL %u, the host's SYN-ACKs "
				 "at %u: not its stack but a device on the path (a firewall's REJECT)",
				 mb_ttl, host_ttl);
		if (stormed && s->refused_last > s->burst_t1 && !who[0])
			snprintf(who, sizeof(who), "; refused since it ended its connections at "
				 "%s: down, or restarting", when);
		snprintf(f->summary, sizeof(f->summary), "%s%s%s: %llu of %llu attempts refused "
			 "(REJ), %s%s", mb_ref ? "connections to " : "", ep, mb_ref ?
			 " are refused" : " refuses connections", (unsigned long long)s->refused,
			 (unsigned long long)s->conns, cl, who);
		snprintf(f->evidence, sizeof(f->evidence), "server %s, refused %llu, connections "
			 "%llu, clients %u%s%s", ep, (unsigned long long)s->refused,
			 (unsigned long long)s->conns, s->nclients, s->lwho[0] ? ", listener " : "",
			 s->lwho);
		ttlj[0] = '\0';
		if (mb_ref)
			snprintf(ttlj, sizeof(ttlj), ",\"rst_ttl\":%u,\"synack_ttl\":%u,"
				 "\"refused_other_ttl\":%u", mb_ttl, host_ttl, mb_ref);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\",\"refused\":"
			 "%llu,\"connections\":%llu,\"clients\":%u%s%s%s%s%s}", ep,
			 (unsigned long long)s->refused, (unsigned long long)s->conns, s->nclients,
			 clj, *lwho ? ",\"listener\":\"" : "", lwho, *lwho ? "\"" : "", ttlj);
		if (o->owners && s->refused_nosock == s->refused)
			snprintf(f->next, sizeof(f->next), "the firewall rules (nft list ruleset) "
				 "here and on the path: which one answers port %u with a RST?", k->port);
		else if (mb_ref)
			snprintf(f->next, sizeof(f->next), "the firewalls on the path (traceroute -T "
				 "-p %u): which one rejects port %u?", k->port, k->port);
		else
			snprintf(f->next, sizeof(f->next), "is the service on port %u running and "
				 "listening on that address (ss -ltn 'sport = :%u')? does a firewall "
				 "reject its SYNs?", k->port, k->port);
	}
	/* no answer: SYNs, retransmitted, never answered */
	if (s->unanswered >= o->min_closes && (f = finding(d, CT_SEV_WARNING, "unanswered",
							   s->unanswered))) {
		snprintf(f->summary, sizeof(f->summary), "%s never answers: %llu connection "
			 "attempts got no reply (S0), %.1f SYNs each, %s", ep,
			 (unsigned long long)s->unanswered,
			 (double)s->syns_unanswered / (double)s->unanswered, cl);
		snprintf(f->evidence, sizeof(f->evidence), "server %s, unanswered %llu, SYNs %llu, "
			 "clients %u", ep, (unsigned long long)s->unanswered,
			 (unsigned long long)s->syns_unanswered, s->nclients);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\","
			 "\"unanswered\":%llu,\"syns\":%llu,\"clients\":%u%s}", ep,
			 (unsigned long long)s->unanswered, (unsigned long long)s->syns_unanswered,
			 s->nclients, clj);
		snprintf(f->next, sizeof(f->next), "is the host up and routed? does a firewall "
			 "drop SYNs to port %u?", k->port);
	}
	/* RSTs in the server's name at another TTL than its SYN-ACKs: a device on the path */
	if (s->mb_resets >= o->min_closes && (f = finding(d, CT_SEV_WARNING, "middlebox-reset",
							  s->mb_resets))) {
		snprintf(f->summary, sizeof(f->summary), "a device on the path to %s resets its "
			 "connections: %llu of the %llu RSTs in the server's name came at TTL %u, "
			 "its SYN-ACKs at %u (a firewall's or a load balancer's idle timeout, an "
			 "IPS), %s", ep, (unsigned long long)s->mb_resets,
			 (unsigned long long)s->srv_resets, s->mb_rst_ttl, s->mb_syn_ttl, cl);
		snprintf(f->evidence, sizeof(f->evidence), "server %s, resets at another TTL %llu, "
			 "resets by the server's side %llu, RST TTL %u, SYN-ACK TTL %u", ep,
			 (unsigned long long)s->mb_resets, (unsigned long long)s->srv_resets,
			 s->mb_rst_ttl, s->mb_syn_ttl);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\","
			 "\"middlebox_resets\":%llu,\"server_resets\":%llu,\"rst_ttl\":%u,"
			 "\"synack_ttl\":%u,\"clients\":%u%s}", ep,
			 (unsigned long long)s->mb_resets, (unsigned long long)s->srv_resets,
			 s->mb_rst_ttl, s->mb_syn_ttl, s->nclients, clj);
		snprintf(f->next, sizeof(f->next), "the idle timeouts and rules of the firewalls, "
			 "NATs and load balancers between (traceroute -T -p %u); TCP keepalives "
			 "shorter than their timeouts", k->port);
	}
	/* an application that ends every session with a RST (its own stack's RSTs) */
	if (own >= o->min_closes && s->est &&
	    (double)(own) / (double)s->est >= o->reset_share &&
	    (f = finding(d, CT_SEV_WARNING, "resets-sessions", own))) {
		reasons_text(s, rs, sizeof(rs), 0);
		reasons_text(s, rsj, sizeof(rsj), 1);
		snprintf(f->summary, sizeof(f->summary), "the server %s%s%s%s ends every session "
			 "with a RST: %llu of %llu established connections (reasons: %s)", ep,
			 s->owner[0] ? " (" : "", s->owner, s->owner[0] ? ")" : "",
			 (unsigned long long)own, (unsigned long long)s->est, rs);
		snprintf(f->evidence, sizeof(f->evidence), "server %s, reset by the server %llu, "
			 "established %llu, reasons %s", ep, (unsigned long long)own,
			 (unsigned long long)s->est, rs);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\","
			 "\"server_resets\":%llu,\"established\":%llu,\"reasons\":{%s}%s%s%s}", ep,
			 (unsigned long long)own, (unsigned long long)s->est, rsj,
			 *owner ? ",\"owner\":\"" : "", owner, *owner ? "\"" : "");
		snprintf(f->next, sizeof(f->next), "some applications close every session with a "
			 "RST (SO_LINGER 0); else it closes with data unread, or aborts: its logs");
	}
	/* RSTs for no connection */
	if (s->orphan >= o->min_closes && (f = finding(d, CT_SEV_WARNING, "orphan-rst",
						       s->orphan))) {
		snprintf(f->summary, sizeof(f->summary), "%llu RSTs between %s and its peers came "
			 "for no connection seen (OTH)%s", (unsigned long long)s->orphan, ep,
			 s->storm ? ", many in a storm" : "");
		snprintf(f->evidence, sizeof(f->evidence), "server %s, orphan RSTs %llu", ep,
			 (unsigned long long)s->orphan);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\","
			 "\"orphan_rsts\":%llu}", ep, (unsigned long long)s->orphan);
		snprintf(f->next, sizeof(f->next), "a peer or a NAT that kept state after a "
			 "restart or a timeout; or a flow closetrace joined after its start");
	}
	/* normal traffic, said as such */
	if (s->interrupts && (f = finding(d, CT_SEV_INFO, "user-interrupt", s->interrupts))) {
		snprintf(f->summary, sizeof(f->summary), "%llu user interrupt%s on %s: the client "
			 "closed, then reset while the server still sent (normal)",
			 (unsigned long long)s->interrupts, s->interrupts == 1 ? "" : "s", ep);
		snprintf(f->evidence, sizeof(f->evidence), "server %s, interrupts %llu", ep,
			 (unsigned long long)s->interrupts);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\","
			 "\"interrupts\":%llu}", ep, (unsigned long long)s->interrupts);
		snprintf(f->next, sizeof(f->next), "nothing: a user or a client gave up on a "
			 "transfer");
	}
	if (s->idle_handshakes >= o->min_closes &&
	    (f = finding(d, CT_SEV_INFO, "no-data", s->idle_handshakes))) {
		snprintf(f->summary, sizeof(f->summary), "%llu connections to %s completed their "
			 "handshake and carried no data (health checks, pools: normal)",
			 (unsigned long long)s->idle_handshakes, ep);
		snprintf(f->evidence, sizeof(f->evidence), "server %s, without data %llu", ep,
			 (unsigned long long)s->idle_handshakes);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\","
			 "\"without_data\":%llu}", ep, (unsigned long long)s->idle_handshakes);
		snprintf(f->next, sizeof(f->next), "nothing, unless no client should probe it");
	}
}

static void rules_client(struct ct_diag *d, const __u32 addr[4], const struct cli *c)
{
	struct ct_finding *f;
	__u64 last = 0;
	unsigned int ports = 0, hosts = 0;
	char a[64], h[64];
	int best = -1;

	for (__u32 i = 0; i < c->n; i++)
		if (c->t[i].ts > last)
			last = c->t[i].ts;
	/* the host with the most ports within the window, and the hosts within it */
	for (__u32 i = 0; i < c->n; i++) {
		unsigned int n = 0, first = 1;

		if (last - c->t[i].ts > d->o.scan_window_ns)
			continue;
		for (__u32 j = 0; j < c->n; j++) {
			if (last - c->t[j].ts > d->o.scan_window_ns ||
			    memcmp(c->t[j].host, c->t[i].host, 16))
				continue;
			n++;
			if (j < i)
				first = 0;
		}
		hosts += first;
		if (n > ports) {
			ports = n;
			best = (int)i;
		}
	}
	if (ports < d->o.scan_ports && hosts < d->o.scan_hosts)
		return;
	f = finding(d, CT_SEV_WARNING, "scan", ports > hosts ? ports : hosts);
	if (!f)
		return;
	ct_addr_str(addr, addr_v4(addr), a, sizeof(a));
	ct_addr_str(c->t[best].host, addr_v4(c->t[best].host), h, sizeof(h));
	if (ports >= d->o.scan_ports)
		snprintf(f->summary, sizeof(f->summary), "%s scans: refused or unanswered on %u%s "
			 "ports of %s", a, ports, ports == CT_DIAG_SCAN_SLOTS ? " or more" : "", h);
	else
		snprintf(f->summary, sizeof(f->summary), "%s scans: refused or unanswered by %u%s "
			 "hosts", a, hosts, hosts == CT_DIAG_SCAN_SLOTS ? " or more" : "");
	snprintf(f->evidence, sizeof(f->evidence), "client %s, ports of one host %u, hosts %u",
		 a, ports, hosts);
	snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"client\":\"%s\",\"ports\":%u,"
		 "\"hosts\":%u}", a, ports, hosts);
	snprintf(f->next, sizeof(f->next), "who runs %s: an inventory tool, or someone "
		 "probing", a);
}

/* The host's failed closes, an interval against its own recent baseline */
static void rule_spike(struct ct_diag *d)
{
	struct spike sp = d->spike;
	struct ct_finding *f;
	char when[32], host[64], ep[128], base[96], tj[128];
	double secs = (double)d->o.spike_interval_ns / 1e9;

	/* the intervals not judged yet are judged now, the latest as it stands */
	if (d->iv_any && d->iv_next <= d->iv_last)
		spike_judge(d, d->iv_next, d->iv_last, &sp);
	if (!sp.spikes || !(f = finding(d, CT_SEV_WARNING, "spike", sp.n)))
		return;
	f->cls = CT_FC_CONTEXT;
	utc_text(sp.iv * d->o.spike_interval_ns, when, sizeof(when));
	ct_addr_str(sp.top, addr_v4(sp.top), host, sizeof(host));
	if (sp.top_n)
		snprintf(ep, sizeof(ep), "%s (%llu)", host, (unsigned long long)sp.top_n);
	else
		snprintf(ep, sizeof(ep), "more than %d hosts", CT_DIAG_SPIKE_HOSTS);
	if (sp.base >= CT_DIAG_SPIKE_NONE)
		snprintf(base, sizeof(base), "%.0f times this host's baseline of %.1f",
			 (double)sp.n / sp.base, sp.base);
	else
		snprintf(base, sizeof(base), "against a baseline of none");
	snprintf(f->summary, sizeof(f->summary), "failed closes rose to %llu in the %g s from "
		 "%s, %s (refused %llu, unanswered %llu, reset by the server %llu, orphan RSTs "
		 "%llu), most toward %s%s", (unsigned long long)sp.n, secs, when, base,
		 (unsigned long long)sp.refused, (unsigned long long)sp.unanswered,
		 (unsigned long long)sp.resets, (unsigned long long)sp.orphan, ep,
		 sp.spikes > 1 ? "; and other spikes" : "");
	snprintf(f->evidence, sizeof(f->evidence), "interval %g s from %s, failed %llu, baseline "
		 "%.2f, spikes %llu, most toward %s", secs, when, (unsigned long long)sp.n, sp.base,
		 (unsigned long long)sp.spikes, ep);
	tj[0] = '\0';
	if (sp.top_n)
		snprintf(tj, sizeof(tj), ",\"top_host\":\"%s\",\"top_host_failed\":%llu", host,
			 (unsigned long long)sp.top_n);
	snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"from\":\"%s\",\"seconds\":%g,"
		 "\"failed\":%llu,\"baseline\":%.2f,\"refused\":%llu,\"unanswered\":%llu,"
		 "\"server_resets\":%llu,\"orphan_rsts\":%llu,\"spikes\":%llu%s}", when, secs,
		 (unsigned long long)sp.n, sp.base, (unsigned long long)sp.refused,
		 (unsigned long long)sp.unanswered, (unsigned long long)sp.resets,
		 (unsigned long long)sp.orphan, (unsigned long long)sp.spikes, tj);
	snprintf(f->next, sizeof(f->next), "what changed at %s (a deploy, a restart, a route, a "
		 "firewall rule); the findings above name the servers", when);
}

static int cmp_findings(const void *a, const void *b)
{
	const struct ct_finding *x = a, *y = b;

	if (x->sev != y->sev)
		return (int)y->sev - (int)x->sev;
	if (x->cls != y->cls)
		return (int)x->cls - (int)y->cls;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->summary, y->summary);
}

size_t ct_diag_findings(struct ct_diag *d, const struct ct_finding **out)
{
	__u32 pos = 0;
	void *k, *v;
	struct ct_finding *f;

	d->nf = 0;
	while (ct_htab_next(d->srv, &pos, &k, &v) == 1)
		rules_server(d, k, v);
	pos = 0;
	while (ct_htab_next(d->cli, &pos, &k, &v) == 1)
		rules_client(d, k, v);
	rule_spike(d);
	if ((d->srv_over || d->cli_over) &&
	    (f = finding(d, CT_SEV_INFO, "not-analysed", d->srv_over + d->cli_over))) {
		snprintf(f->summary, sizeof(f->summary), "%llu closes of servers or clients past "
			 "the first %d were not analysed", (unsigned long long)(d->srv_over +
										 d->cli_over),
			 CT_DIAG_SERVERS);
		snprintf(f->evidence, sizeof(f->evidence), "servers %llu, clients %llu",
			 (unsigned long long)d->srv_over, (unsigned long long)d->cli_over);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"servers\":%llu,"
			 "\"clients\":%llu}", (unsigned long long)d->srv_over,
			 (unsigned long long)d->cli_over);
		snprintf(f->next, sizeof(f->next), "a filter (-f) on the servers that matter");
	}
	qsort(d->f, d->nf, sizeof(d->f[0]), cmp_findings);
	*out = d->f;
	return d->nf;
}

size_t ct_finding_json(const struct ct_finding *f, char *buf, size_t len)
{
	char sum[2 * CT_FINDING_TEXT], next[2 * CT_FINDING_TEXT];
	size_t off = 0;

	json_esc(f->summary, sum, sizeof(sum));
	json_esc(f->next, next, sizeof(next));
	ct_put(buf, len, &off, "{\"severity\":\"%s\",\"rule\":\"%s\",\"summary\":\"%s\","
	       "\"evidence\":%s,\"next\":\"%s\"}\n", ct_severity_name(f->sev), f->rule, sum,
	       f->evidence_json[0] ? f->evidence_json : "{}", next);
	return off;
}
