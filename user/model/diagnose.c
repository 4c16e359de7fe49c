// SPDX-License-Identifier: BSD-3-Clause
/*
 * diagnose.c - the rules of closetrace-diagnose(8): counts by server and by client, then
 * findings ranked by severity and weight.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "diagnose.h"
#include "hashtab.h"
#include "owner.h"
#include "reasons.h"
#include "text.h"
#include "zones.h"

#define CT_DIAG_SERVERS 16384	/* servers counted; past that, counted as not analysed */
#define CT_DIAG_CLIENTS 16384
#define CT_DIAG_SCAN_SLOTS 32	/* distinct targets a client keeps: past both thresholds */
#define CT_DIAG_FINDINGS 256
#define CT_DIAG_CLIENTS_KEPT 64	/* clients a server tells apart; past that, "64 or more" */
#define CT_DIAG_ZONES 3		/* client zones a finding names */

struct skey {
	__u32 addr[4];
	__u32 port;
};

struct srv {
	__u64 conns, refused, unanswered, syns_unanswered, est, srv_resets, orphan;
	__u64 refused_nosock;	/* refusals with no socket of this host's on either side */
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

struct ct_diag {
	struct ct_diag_opts o;
	struct ct_htab *srv, *cli;
	__u64 srv_over, cli_over, records;
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
}

struct ct_diag *ct_diag_new(const struct ct_diag_opts *o)
{
	struct ct_diag *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->o = *o;
	d->srv = ct_htab_new(sizeof(struct skey), sizeof(struct srv), CT_DIAG_SERVERS);
	d->cli = ct_htab_new(sizeof(__u32) * 4, sizeof(struct cli), CT_DIAG_CLIENTS);
	if (!d->srv || !d->cli) {
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
	free(d);
}

static struct srv *srv_of(struct ct_diag *d, const __u32 addr[4], __u16 port)
{
	struct skey k = { .port = port };
	struct srv *s, zero;

	memcpy(k.addr, addr, sizeof(k.addr));
	s = ct_htab_lookup(d->srv, &k);
	if (s)
		return s;
	memset(&zero, 0, sizeof(zero));
	if (ct_htab_update(d->srv, &k, &zero, 0)) {
		d->srv_over++;
		return NULL;
	}
	return ct_htab_lookup(d->srv, &k);
}

/* Count a client, by a hash of its address, up to CT_DIAG_CLIENTS_KEPT told apart; and its
 * zone among the first few */
static void note_client(struct srv *s, const struct ct_record *r, int c)
{
	const __u32 *addr = r->key.addr[c];
	__u64 h = ((__u64)addr[0] * 31 + addr[1]) * 31 * 31 + (__u64)addr[2] * 31 + addr[3] + 1;
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
	struct srv *s;

	d->records++;
	if (r->type == CT_REC_SUMMARY) {
		if (r->unkeyed || !(s = srv_of(d, r->key.addr[sv], r->key.port[sv])))
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
	s = srv_of(d, r->key.addr[sv], r->key.port[sv]);
	if (!s)
		return;
	s->conns++;
	note_client(s, r, c);
	if (f->state & CT_ST_CT)
		s->est++;
	switch (r->close) {
	case CT_CLOSE_REFUSED:
		s->refused++;
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
		break;
	case CT_CLOSE_FIN_RESET:
		if (user_interrupt(r))
			s->interrupts++;
		if (r->rst_by == CT_BY_SRV) {
			s->srv_resets++;
			s->reasons[f->rst_reason < CT_RST_REASONS ? f->rst_reason : 0]++;
			owner_name(r, s->owner, sizeof(s->owner));
		}
		break;
	case CT_CLOSE_GRACEFUL:
		if ((f->state & CT_ST_CT) && !f->bytes[c] && !f->bytes[sv])
			s->idle_handshakes++;
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
	f->rule = rule;
	f->weight = weight;
	return f;
}

static int addr_v4(const __u32 a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(CT_V4MAPPED);
}

/* "192.0.2.2:80", "[2001:db8::2]:80" */
static void endpoint(const struct skey *k, char *buf, size_t len)
{
	ct_endpoint_str(k->addr, (__u16)k->port, addr_v4(k->addr), buf, len);
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

	endpoint(k, ep, sizeof(ep));
	json_esc(s->lwho, lwho, sizeof(lwho));
	json_esc(s->owner, owner, sizeof(owner));
	clients_text(s, cl, sizeof(cl), clj, sizeof(clj));
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
		snprintf(f->summary, sizeof(f->summary), "%s refuses connections: %llu of %llu "
			 "attempts refused (REJ), %s%s", ep, (unsigned long long)s->refused,
			 (unsigned long long)s->conns, cl, who);
		snprintf(f->evidence, sizeof(f->evidence), "server %s, refused %llu, connections "
			 "%llu, clients %u%s%s", ep, (unsigned long long)s->refused,
			 (unsigned long long)s->conns, s->nclients, s->lwho[0] ? ", listener " : "",
			 s->lwho);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\",\"refused\":"
			 "%llu,\"connections\":%llu,\"clients\":%u%s%s%s%s}", ep,
			 (unsigned long long)s->refused, (unsigned long long)s->conns, s->nclients,
			 clj, *lwho ? ",\"listener\":\"" : "", lwho, *lwho ? "\"" : "");
		if (o->owners && s->refused_nosock == s->refused)
			snprintf(f->next, sizeof(f->next), "the firewall rules (nft list ruleset) "
				 "here and on the path: which one answers port %u with a RST?", k->port);
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
	/* an application that ends every session with a RST */
	if (s->srv_resets >= o->min_closes && s->est &&
	    (double)s->srv_resets / (double)s->est >= o->reset_share &&
	    (f = finding(d, CT_SEV_WARNING, "resets-sessions", s->srv_resets))) {
		reasons_text(s, rs, sizeof(rs), 0);
		reasons_text(s, rsj, sizeof(rsj), 1);
		snprintf(f->summary, sizeof(f->summary), "the server %s%s%s%s ends every session "
			 "with a RST: %llu of %llu established connections (reasons: %s)", ep,
			 s->owner[0] ? " (" : "", s->owner, s->owner[0] ? ")" : "",
			 (unsigned long long)s->srv_resets, (unsigned long long)s->est, rs);
		snprintf(f->evidence, sizeof(f->evidence), "server %s, reset by the server %llu, "
			 "established %llu, reasons %s", ep, (unsigned long long)s->srv_resets,
			 (unsigned long long)s->est, rs);
		snprintf(f->evidence_json, sizeof(f->evidence_json), "{\"server\":\"%s\","
			 "\"server_resets\":%llu,\"established\":%llu,\"reasons\":{%s}%s%s%s}", ep,
			 (unsigned long long)s->srv_resets, (unsigned long long)s->est, rsj,
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

static int cmp_findings(const void *a, const void *b)
{
	const struct ct_finding *x = a, *y = b;

	if (x->sev != y->sev)
		return (int)y->sev - (int)x->sev;
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
