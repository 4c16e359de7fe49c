// SPDX-License-Identifier: BSD-3-Clause
/*
 * metrics.c - the Prometheus text exposition of a session's snapshot. Families come in a
 * fixed order, each with one HELP and one TYPE line; counters end in _total; label values
 * are closetrace's own names (interfaces, close kinds, reasons, ports).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "tunnel.h"
#include "metrics.h"
#include "reasons.h"

int ct_metrics_init(struct ct_metrics *m, int nifs, const __u16 *ports, int nports)
{
	memset(m, 0, sizeof(*m));
	m->nifs = nifs;
	m->nports = nports;
	if (nports)
		memcpy(m->ports, ports, (size_t)nports * sizeof(*ports));
	for (int i = 0; nports && i < nifs; i++) {
		m->ifs[i].ports = calloc((size_t)nports + 1, sizeof(ct_port_closes));
		if (!m->ifs[i].ports) {
			ct_metrics_free(m);
			return -1;
		}
	}
	return 0;
}

void ct_metrics_free(struct ct_metrics *m)
{
	for (int i = 0; i < CT_MAX_IFACES; i++) {
		free(m->ifs[i].ports);
		m->ifs[i].ports = NULL;
	}
	free(m->apps);
	free(m->cands);
	m->apps = m->cands = NULL;
}

static const char *const app_by_names[CT_APP_BY_MAX] = {
	[CT_APP_BY_UNIT] = "unit",
	[CT_APP_BY_CONTAINER] = "container",
	[CT_APP_BY_POD] = "pod",
	[CT_APP_BY_COMM] = "comm",
};

const char *ct_app_by_name(enum ct_app_by by)
{
	return by > CT_APP_BY_NONE && by < CT_APP_BY_MAX ? app_by_names[by] : NULL;
}

int ct_metrics_apps_init(struct ct_metrics *m, enum ct_app_by by, int n)
{
	m->app_by = by;
	m->napps_max = n;
	m->napps = m->ncands = 0;
	m->apps = calloc((size_t)n + 1, sizeof(*m->apps));
	m->cands = calloc(CT_METRICS_APP_CANDS, sizeof(*m->cands));
	if (!m->apps || !m->cands) {
		free(m->apps);
		free(m->cands);
		m->apps = m->cands = NULL;
		m->app_by = CT_APP_BY_NONE;
		return -1;
	}
	return 0;
}

void ct_metrics_app_close(struct ct_metrics *m, const char *name, __u8 kind)
{
	int i;

	if (!m->apps || kind >= CT_CLOSE_MAX)
		return;
	for (i = 0; i < m->napps; i++)
		if (!strcmp(m->apps[i].name, name)) {
			m->apps[i].closes[kind]++;
			return;
		}
	m->apps[m->napps_max].closes[kind]++;
	for (i = 0; i < m->ncands; i++)
		if (!strcmp(m->cands[i].name, name))
			break;
	if (i == m->ncands) {
		if (m->ncands == CT_METRICS_APP_CANDS)
			return;		/* counted in other; never a row */
		snprintf(m->cands[i].name, sizeof(m->cands[i].name), "%s", name);
		m->ncands++;
	}
	m->cands[i].total++;
}

void ct_metrics_apps_promote(struct ct_metrics *m)
{
	while (m->apps && m->napps < m->napps_max && m->ncands) {
		int best = 0;

		for (int i = 1; i < m->ncands; i++)
			if (m->cands[i].total > m->cands[best].total ||
			    (m->cands[i].total == m->cands[best].total &&
			     strcmp(m->cands[i].name, m->cands[best].name) < 0))
				best = i;
		/* a new series: it counts from now, what came before stays in other */
		memset(&m->apps[m->napps], 0, sizeof(m->apps[0]));
		memcpy(m->apps[m->napps].name, m->cands[best].name, sizeof(m->apps[0].name));
		m->napps++;
		m->cands[best] = m->cands[--m->ncands];
	}
}

void ct_metrics_copy(struct ct_metrics *dst, const struct ct_metrics *src)
{
	ct_port_closes *keep[CT_MAX_IFACES];
	struct ct_metrics_app *apps = dst->apps, *cands = dst->cands;

	for (int i = 0; i < CT_MAX_IFACES; i++)
		keep[i] = dst->ifs[i].ports;
	if (src->apps && !apps)
		apps = calloc((size_t)src->napps_max + 1, sizeof(*apps));
	*dst = *src;
	dst->cands = cands;
	dst->ncands = 0;
	dst->apps = apps;
	if (apps && src->apps)
		memcpy(apps, src->apps, ((size_t)src->napps_max + 1) * sizeof(*apps));
	else
		dst->app_by = CT_APP_BY_NONE;
	for (int i = 0; i < CT_MAX_IFACES; i++) {
		dst->ifs[i].ports = keep[i];
		if (keep[i] && src->ifs[i].ports)
			memcpy(keep[i], src->ifs[i].ports,
			       ((size_t)src->nports + 1) * sizeof(ct_port_closes));
	}
}

/* The row of @port: its place in the list, else nports ("other"). */
static int port_row(const struct ct_metrics *m, __u16 port)
{
	for (int i = 0; i < m->nports; i++)
		if (m->ports[i] == port)
			return i;
	return m->nports;
}

void ct_metrics_port_closes(struct ct_metrics *m, int slot, __u16 port, __u8 kind, __u64 n)
{
	if (!m->nports || slot < 0 || slot >= m->nifs || kind >= CT_CLOSE_MAX ||
	    !m->ifs[slot].ports)
		return;
	m->ifs[slot].ports[port_row(m, port)][kind] += n;
}

void ct_metrics_tunnel_closes(struct ct_metrics *m, int slot, __u8 type, __u8 kind, __u64 n)
{
	if (slot < 0 || slot >= m->nifs || !type || type >= CT_TUN_MAX || kind >= CT_CLOSE_MAX)
		return;
	m->ifs[slot].tun_closes[type][kind] += n;
}

void ct_metrics_port_close(struct ct_metrics *m, int slot, __u16 port, __u8 kind)
{
	ct_metrics_port_closes(m, slot, port, kind, 1);
}

void ct_metrics_label(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The interface label of slot @i. */
static const char *iface(const struct ct_metrics *m, int i, char *buf, size_t len)
{
	ct_metrics_label(m->ifs[i].name, buf, len);
	return buf;
}

static void closes(FILE *f, const struct ct_metrics *m)
{
	char ifn[2 * CT_METRICS_NAME_MAX + 1];

	family(f, "closetrace_closes_total", "counter",
	       "TCP connections that ended, by how they ended (closetrace's close kinds).");
	for (int i = 0; i < m->nifs; i++)
		for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++)
			fprintf(f, "closetrace_closes_total{iface=\"%s\",close=\"%s\"} %llu\n",
				iface(m, i, ifn, sizeof(ifn)), ct_close_name((__u8)k),
				(unsigned long long)(m->ifs[i].k.c[CT_C_CLOSE_BASE + k] +
						     m->ifs[i].user_closes[k]));
}

static void flags(FILE *f, const struct ct_metrics *m)
{
	static const struct {
		const char *flag, *side;
		int idx;
	} rows[] = {
		{ "syn", "client", CT_C_SYN_CLT }, { "syn", "server", CT_C_SYN_SRV },
		{ "synack", "client", CT_C_SYNACK_CLT }, { "synack", "server", CT_C_SYNACK_SRV },
		{ "fin", "client", CT_C_FIN_CLT }, { "fin", "server", CT_C_FIN_SRV },
		{ "rst", "client", CT_C_RST_CLT }, { "rst", "server", CT_C_RST_SRV },
	};
	char ifn[2 * CT_METRICS_NAME_MAX + 1];

	family(f, "closetrace_tcp_flags_total", "counter",
	       "TCP segments with SYN, SYN-ACK, FIN or RST, by the side of the connection that "
	       "sent them.");
	for (int i = 0; i < m->nifs; i++)
		for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
			fprintf(f, "closetrace_tcp_flags_total{iface=\"%s\",flag=\"%s\",side=\"%s\"} "
				"%llu\n", iface(m, i, ifn, sizeof(ifn)), rows[r].flag, rows[r].side,
				(unsigned long long)m->ifs[i].k.c[rows[r].idx]);
}

static void resets(FILE *f, const struct ct_metrics *m)
{
	char ifn[2 * CT_METRICS_NAME_MAX + 1], reason[64];
	const char *names[CT_RST_REASONS];
	__u64 sums[CT_RST_REASONS];

	family(f, "closetrace_resets_sent_total", "counter",
	       "RSTs this host sent, by the kernel's reason (- when not known).");
	for (int i = 0; i < m->nifs; i++) {
		int n = 0;

		/* numbers this kernel does not name all count as "-": one series for them */
		for (int r = 0; r < CT_RST_REASONS; r++) {
			const char *name = ct_rst_reason_name((__u8)r);
			int k = 0;

			while (k < n && strcmp(names[k], name))
				k++;
			if (k == n) {
				names[n] = name;
				sums[n++] = 0;
			}
			sums[k] += m->ifs[i].k.rst_sent[r];
		}
		/* "-" (the first) always; the others once they happened */
		for (int k = 0; k < n; k++) {
			if (k && !sums[k])
				continue;
			ct_metrics_label(names[k], reason, sizeof(reason));
			fprintf(f, "closetrace_resets_sent_total{iface=\"%s\",reason=\"%s\"} %llu\n",
				iface(m, i, ifn, sizeof(ifn)), reason, (unsigned long long)sums[k]);
		}
	}
}

/* One series per interface of kernel counter @idx. */
static void per_iface(FILE *f, const struct ct_metrics *m, const char *name, const char *help,
		      int idx)
{
	char ifn[2 * CT_METRICS_NAME_MAX + 1];

	family(f, name, "counter", help);
	for (int i = 0; i < m->nifs; i++)
		fprintf(f, "%s{iface=\"%s\"} %llu\n", name, iface(m, i, ifn, sizeof(ifn)),
			(unsigned long long)m->ifs[i].k.c[idx]);
}

/* Evictions by class: embryonic flows go first, established ones when none is left. */
static void evicted(FILE *f, const struct ct_metrics *m)
{
	char ifn[2 * CT_METRICS_NAME_MAX + 1];

	family(f, "closetrace_flows_evicted_total", "counter", "Flows removed from the full "
	       "table before they ended, by class (raise --table-size).");
	for (int i = 0; i < m->nifs; i++) {
		iface(m, i, ifn, sizeof(ifn));
		fprintf(f, "closetrace_flows_evicted_total{iface=\"%s\",class=\"embryonic\"} %llu\n",
			ifn, (unsigned long long)m->ifs[i].k.c[CT_C_EVICT_EMB]);
		fprintf(f, "closetrace_flows_evicted_total{iface=\"%s\",class=\"established\"} "
			"%llu\n", ifn, (unsigned long long)m->ifs[i].k.c[CT_C_EVICT_EST]);
	}
}

static void packets(FILE *f, const struct ct_metrics *m)
{
	char ifn[2 * CT_METRICS_NAME_MAX + 1];

	family(f, "closetrace_packets_total", "counter",
	       "Packets the programs saw: TCP, other (well formed, not TCP), malformed, and "
	       "non-first IP fragments.");
	for (int i = 0; i < m->nifs; i++) {
		const __u64 *c = m->ifs[i].k.c;
		/* the kernel counts each packet under one of the four */
		const __u64 v[4] = { c[CT_C_TCP], c[CT_C_OTHER], c[CT_C_MALFORMED],
				     c[CT_C_FRAGMENT] };
		static const char *const res[4] = { "tcp", "other", "malformed", "fragment" };

		iface(m, i, ifn, sizeof(ifn));
		for (int r = 0; r < 4; r++)
			fprintf(f, "closetrace_packets_total{iface=\"%s\",result=\"%s\"} %llu\n", ifn,
				res[r], (unsigned long long)v[r]);
	}
}

/*
 * Tunnels, by type (six at most): the TCP segments the programs took out of each, and the
 * closes of the connections inside, for the types that carried any (a type's series
 * appears with its first segment, and stays).
 */
static void tunnels(FILE *f, const struct ct_metrics *m)
{
	char ifn[2 * CT_METRICS_NAME_MAX + 1];

	family(f, "closetrace_tunnel_segments_total", "counter",
	       "TCP segments decapsulated from a tunnel, by tunnel type.");
	for (int i = 0; i < m->nifs; i++) {
		iface(m, i, ifn, sizeof(ifn));
		for (int t = 1; t < CT_TUN_MAX; t++)
			fprintf(f, "closetrace_tunnel_segments_total{iface=\"%s\",type=\"%s\"} %llu\n",
				ifn, ct_tunnel_name((__u8)t),
				(unsigned long long)m->ifs[i].k.c[CT_C_TUN_BASE + t - 1]);
	}
	family(f, "closetrace_tunnel_closes_total", "counter",
	       "TCP connections inside tunnels that ended, by tunnel type and close kind "
	       "(types that carried a segment).");
	for (int i = 0; i < m->nifs; i++) {
		iface(m, i, ifn, sizeof(ifn));
		for (int t = 1; t < CT_TUN_MAX; t++) {
			if (!m->ifs[i].k.c[CT_C_TUN_BASE + t - 1])
				continue;
			for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++)
				fprintf(f, "closetrace_tunnel_closes_total{iface=\"%s\",type=\"%s\","
					"close=\"%s\"} %llu\n", ifn, ct_tunnel_name((__u8)t),
					ct_close_name((__u8)k),
					(unsigned long long)m->ifs[i].tun_closes[t][k]);
		}
	}
}

static void by_port(FILE *f, const struct ct_metrics *m)
{
	char ifn[2 * CT_METRICS_NAME_MAX + 1], port[8];

	if (!m->nports)
		return;
	family(f, "closetrace_server_closes_total", "counter",
	       "TCP connections that ended, by server port (those of --metrics-ports, the rest "
	       "as other) and close kind; from close events.");
	for (int i = 0; i < m->nifs; i++) {
		iface(m, i, ifn, sizeof(ifn));
		for (int p = 0; p <= m->nports; p++) {
			if (p < m->nports)
				snprintf(port, sizeof(port), "%u", m->ports[p]);
			else
				snprintf(port, sizeof(port), "other");
			for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++)
				fprintf(f, "closetrace_server_closes_total{iface=\"%s\",port=\"%s\","
					"close=\"%s\"} %llu\n", ifn, port, ct_close_name((__u8)k),
					(unsigned long long)(m->ifs[i].ports ?
							     m->ifs[i].ports[p][k] : 0));
		}
	}
}

static void by_app(FILE *f, const struct ct_metrics *m)
{
	const char *label = ct_app_by_name(m->app_by);
	char name[2 * CT_METRICS_APP_NAME + 1];

	if (!label || !m->apps)
		return;
	fprintf(f, "# HELP closetrace_app_closes_total TCP connections of this host's sockets that "
		"ended, by the %s of the socket's owner (--metrics-by; a refusal: its port's last "
		"listener's) and close kind; the --metrics-top busiest, the rest as other.\n"
		"# TYPE closetrace_app_closes_total counter\n", label);
	for (int a = 0; a < m->napps; a++) {
		ct_metrics_label(m->apps[a].name, name, sizeof(name));
		for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++)
			fprintf(f, "closetrace_app_closes_total{%s=\"%s\",close=\"%s\"} %llu\n", label,
				name, ct_close_name((__u8)k),
				(unsigned long long)m->apps[a].closes[k]);
	}
	for (int k = CT_CLOSE_GRACEFUL; k < CT_CLOSE_MAX; k++)
		fprintf(f, "closetrace_app_closes_total{%s=\"other\",close=\"%s\"} %llu\n", label,
			ct_close_name((__u8)k),
			(unsigned long long)m->apps[m->napps_max].closes[k]);
}

static void one(FILE *f, const char *name, const char *type, const char *help, double v)
{
	family(f, name, type, help);
	fprintf(f, "%s %.15g\n", name, v);
}

char *ct_metrics_render(const struct ct_metrics *m, size_t *len)
{
	char *buf = NULL, ver[64];
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	closes(f, m);
	flags(f, m);
	resets(f, m);
	per_iface(f, m, "closetrace_handshakes_total", "TCP handshakes completed.",
		  CT_C_HANDSHAKES);
	per_iface(f, m, "closetrace_flows_created_total",
		  "Flows the kernel created: connections and attempts, restarts included.",
		  CT_C_FLOWS);
	packets(f, m);
	tunnels(f, m);
	by_port(f, m);
	by_app(f, m);
	one(f, "closetrace_flow_table_entries", "gauge", "Flows in the kernel's table at the "
	    "last scan.", (double)m->table_entries);
	one(f, "closetrace_flow_table_capacity", "gauge", "Flows the kernel's table holds "
	    "(--table-size).", (double)m->table_capacity);
	one(f, "closetrace_events_lost_total", "counter", "Close events lost because the ring "
	    "buffer was full.", (double)m->events_lost);
	one(f, "closetrace_viewers", "gauge", "Local viewers (watch, top, diagnose) reading the "
	    "session now.", (double)m->viewers);
	one(f, "closetrace_viewer_records_dropped_total", "counter", "Records dropped for "
	    "viewers too slow to take them (the session and other viewers lose none).",
	    (double)m->viewer_dropped);
	evicted(f, m);
	per_iface(f, m, "closetrace_flows_untracked_total", "Flows the full table had no room "
		  "for, nothing being evictable (raise --table-size).", CT_C_FLOW_FAIL);
	per_iface(f, m, "closetrace_closes_summarised_total", "Orphan-RST closes past "
		  "--storm-rate counted in storm summaries instead of one by one.",
		  CT_C_SUMMARISED);
	{
		__u64 n = 0;

		for (int i = 0; i < m->nifs; i++)
			n += m->ifs[i].k.c[CT_C_OWNER_FULL];
		one(f, "closetrace_owners_untracked_total", "counter", "Sockets whose owner the "
		    "full owner table could not keep: their closes name only what tc saw.",
		    (double)n);
	}
	ct_metrics_label(m->version ? m->version : "", ver, sizeof(ver));
	family(f, "closetrace_build_info", "gauge", "closetrace's version; always 1.");
	fprintf(f, "closetrace_build_info{version=\"%s\"} 1\n", ver);
	one(f, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in "
	    "seconds.", m->cpu_seconds);
	one(f, "process_resident_memory_bytes", "gauge", "Resident memory size, in bytes.",
	    (double)m->rss_bytes);
	one(f, "process_start_time_seconds", "gauge", "Start time of the process since the "
	    "Unix epoch, in seconds.", m->start_time);
	one(f, "process_open_fds", "gauge", "Open file descriptors.", (double)m->open_fds);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
