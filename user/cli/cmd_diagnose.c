// SPDX-License-Identifier: BSD-3-Clause
/*
 * cmd_diagnose.c - `closetrace diagnose`: the closes of captures (FILE...) or of a live
 * session (-i IFACE, for --duration or until Ctrl-C) through the rules of diagnose.c,
 * then the findings, most severe first, as text or one JSON object each.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "diagnose.h"
#include "filter.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "privs.h"
#include "replay.h"

struct diag_run {
	struct ct_diag *d;
	const struct ct_filter *flt;
};

static int on_record(void *ctx, const struct ct_record *r)
{
	struct diag_run *dr = ctx;

	if (dr->flt && r->type != CT_REC_LOSS && !ct_filter_match(dr->flt, r))
		return 0;
	ct_diag_feed(dr->d, r);
	return 0;
}

static int validate_diagnose(const struct ct_command *cmd, struct ct_config *c)
{
	if (!c->nifaces && !c->nargs)
		return ct_usage_error(cmd, "a capture FILE or -i IFACE is required");
	if (c->nifaces && c->nargs)
		return ct_usage_error(cmd, "captures or -i IFACE, not both");
	if (c->duration_ns && !c->nifaces)
		return ct_usage_error(cmd, "--duration goes with -i IFACE");
	return c->nifaces ? ct_validate_live(cmd, c) : 0;
}

static int diagnose_files(struct ct_config *c, struct diag_run *dr)
{
	struct ct_rec_out rec = { .record = on_record, .ctx = dr };
	struct ct_replay_opts ro;
	struct ct_replay *rp;
	char err[256];
	int ret = 0, r = 0;

	ct_config_replay(c, &rec, &ro);
	rp = ct_replay_new(&ro, err, sizeof(err));
	if (!rp || ct_privs_drop(ro.engine == CT_ENGINE_BPF ? CT_KEEP_MAP_READS : 0, c->user,
				 c->uid, c->gid, err, sizeof(err))) {
		pr_warn("%s\n", err);
		ct_replay_free(rp);
		return 1;
	}
	for (int i = 0; i < c->nargs && r >= 0; i++) {
		r = ct_replay_file(rp, c->args[i]);
		if (r > 0)
			ret = 1;
	}
	ret |= ct_replay_finish(rp);
	ct_replay_free(rp);
	return ret;
}

static int run_diagnose(struct ct_config *c)
{
	struct ct_diag_opts o;
	struct diag_run dr = { .flt = c->filter };
	const struct ct_finding *f;
	size_t n;
	int ret, worst = -1;

	ct_config_diag(c, &o);
	dr.d = ct_diag_new(&o);
	if (!dr.d) {
		pr_warn("out of memory\n");
		return 1;
	}
	if (c->nifaces) {
		struct ct_rec_out rec = { .record = on_record, .ctx = &dr };

		ret = ct_config_every_close(c, "diagnose", "diagnosing", &rec, dr.d);
	} else {
		ret = diagnose_files(c, &dr);
	}
	n = ct_diag_findings(dr.d, &f);
	for (size_t i = 0; i < n; i++) {
		char line[4 * CT_FINDING_TEXT];

		if ((int)f[i].sev > worst)
			worst = (int)f[i].sev;
		if (c->format == CT_FMT_JSON) {
			ct_finding_json(&f[i], line, sizeof(line));
			fputs(line, stdout);
			continue;
		}
		printf("%-8s %s: %s\n         evidence: %s\n         next: %s\n",
		       ct_severity_name(f[i].sev), f[i].rule, f[i].summary, f[i].evidence,
		       f[i].next);
	}
	if (c->format != CT_FMT_JSON && !n)
		printf("no finding: nothing abnormal enough to report\n");
	fflush(stdout);
	pr_note("%zu finding%s\n", n, n == 1 ? "" : "s");
	ct_diag_free(dr.d);
	if (ret)
		return ret;
	return c->fail_on && worst >= c->fail_on - 1 ? 3 : 0;
}

static const struct ct_opt_group *const diagnose_groups[] = {
	&ct_grp_ifaces, &ct_grp_diagnose, &ct_grp_rules, &ct_grp_attach, &ct_grp_expiry, &ct_grp_table, &ct_grp_tunnel,
	&ct_grp_engine, &ct_grp_select, &ct_grp_privs, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_diagnose = {
	.name = "diagnose",
	.synopsis = (const char *const[]){ "[OPTIONS] FILE [FILE...]",
					   "[OPTIONS] -i IFACE [--duration SECS]", NULL },
	.summary = "findings from how connections end: causes, evidence, what to check",
	.description =
		"Reads how the TCP connections of captures (or of live interfaces, for\n"
		"--duration or until Ctrl-C) ended and reports findings, most severe first: a\n"
		"server that refuses (and, live, whether its listener went away), one that never\n"
		"answers, an application that resets every session, RSTs for no connection,\n"
		"scans; and, as info, what is normal (user interrupts, connections without data).\n"
		"Each finding is one sentence, its evidence and what to check next\n"
		"(closetrace-diagnose(8) gives each rule and its threshold).",
	.groups = diagnose_groups,
	.min_args = 0,
	.max_args = -1,
	.args_meta = "a capture FILE",
	.validate = validate_diagnose,
	.examples = (const char *const[]){
		"closetrace diagnose trace.pcap                  # findings of a capture",
		"closetrace diagnose -i eth0 --duration 60       # of a minute of live traffic",
		"closetrace diagnose -o json trace.pcap | jq .summary",
		"closetrace diagnose --fail-on warning t.pcap || echo 'something to look at'",
		NULL },
	.run = run_diagnose,
};
