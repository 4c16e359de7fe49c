/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * diagnose.h - from counts to causes: closes fed one by one (a capture's, or a live
 * session's), findings out, each with a severity, its rule, one sentence, its evidence and
 * what to check next. The rules and their thresholds are closetrace-diagnose(8)'s. Pure:
 * no I/O; the caller prints.
 */
#ifndef CT_DIAGNOSE_H
#define CT_DIAGNOSE_H

#include <stddef.h>
#include <linux/types.h>

#include "record.h"

enum ct_severity {
	CT_SEV_INFO = 0,
	CT_SEV_WARNING,
	CT_SEV_CRITICAL,
	CT_SEV_MAX,
};

/* "info", "warning", "critical"; and back: -1 for another word */
const char *ct_severity_name(enum ct_severity s);
int ct_severity_parse(const char *s);

/* The thresholds (closetrace-diagnose(8) names each rule's). */
struct ct_diag_opts {
	__u64 min_closes;	/* closes of a kind a server (or client) needs for a finding */
	double refused_share;	/* refusals of a port's attempts: critical from this share */
	double reset_share;	/* sessions the server resets: "every session" from this share */
	unsigned int scan_ports;	/* one client refused or unanswered on this many ports */
	unsigned int scan_hosts;	/* ... or this many hosts */
	__u64 scan_window_ns;	/* ... within this span */
	unsigned int storm_conns;	/* a server ends this many open connections ... */
	__u64 storm_window_ns;		/* ... within this span: a crash or a restart */
	unsigned int spike_min;		/* failed closes of an interval worth a spike */
	double spike_factor;		/* ... and this many times the host's baseline */
	__u64 spike_interval_ns;	/* the interval */
	/*
	 * Live, with the socket tracepoints: a refusal this host's stack sends names its
	 * port's listener (or its absence), one taken by a local client names that client;
	 * a refusal with neither came from no socket of this host: a firewall's REJECT
	 * here or beyond, or forwarded traffic.
	 */
	int owners;
};

/*
 * Zeek's scan policy (15 ports, 25 hosts, 5 minutes), 3 closes, half, 80 %; 10 connections
 * within 1 s for a storm; 10 failed closes in 10 s and 4 times the baseline for a spike.
 */
void ct_diag_opts_default(struct ct_diag_opts *o);

#define CT_FINDING_TEXT 768

/* Within a severity: what happened to a server first, then causes, then context. */
enum ct_finding_class {
	CT_FC_EVENT = 0,	/* a server crashed or restarted */
	CT_FC_CAUSE,		/* a server refuses, never answers, resets; a scan */
	CT_FC_CONTEXT,		/* a spike: when, not why */
};

struct ct_finding {
	enum ct_severity sev;
	enum ct_finding_class cls;
	const char *rule;
	char summary[CT_FINDING_TEXT];		/* one sentence */
	char evidence[CT_FINDING_TEXT];		/* "refused 6, conns 6, ...": text */
	char evidence_json[CT_FINDING_TEXT];	/* the same, a JSON object */
	char next[CT_FINDING_TEXT];		/* what to check next */
	__u64 weight;				/* ranks findings of one class */
};

struct ct_diag;

struct ct_diag *ct_diag_new(const struct ct_diag_opts *o);
void ct_diag_free(struct ct_diag *d);

/* The socket tracepoints run (live): ct_diag_opts.owners, once known. */
void ct_diag_set_owners(struct ct_diag *d, int owners);

/* Count one record: a close (graceful ones too) or a summary; others are ignored. */
void ct_diag_feed(struct ct_diag *d, const struct ct_record *r);

/*
 * The findings so far, most severe first, then by class, heaviest first: an array
 * owned by @d, valid until the next call. Returns how many.
 */
size_t ct_diag_findings(struct ct_diag *d, const struct ct_finding **out);

/* A finding as one JSON line (its text at @buf, @len bytes at most): the length. */
size_t ct_finding_json(const struct ct_finding *f, char *buf, size_t len);

#endif /* CT_DIAGNOSE_H */
