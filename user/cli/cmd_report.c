// SPDX-License-Identifier: BSD-3-Clause
/*
 * cmd_report.c - `closetrace report -r FILE -o report.html`: a capture's closes into top's
 * model and diagnose's rules, then one self-contained HTML file (report.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agg.h"
#include "commands.h"
#include "diagnose.h"
#include "filter.h"
#include "log.h"
#include "options.h"
#include "privs.h"
#include "replay.h"
#include "report.h"

struct report_run {
	struct ct_agg *agg;
	struct ct_diag *d;
	const struct ct_filter *flt;
	__u64 t0, t1;
	int nomem;
};

static int on_record(void *ctx, const struct ct_record *r)
{
	struct report_run *rr = ctx;

	if (rr->flt && r->type != CT_REC_LOSS && !ct_filter_match(rr->flt, r))
		return 0;
	ct_diag_feed(rr->d, r);
	if (r->type == CT_REC_LOSS || r->type == CT_REC_SUMMARY)
		return 0;
	if (ct_agg_feed(rr->agg, r, r->ts_ns)) {
		rr->nomem = 1;
		return -1;
	}
	if (!rr->t0 || (r->start_ns && r->start_ns < rr->t0))
		rr->t0 = r->start_ns;
	if (r->ts_ns > rr->t1)
		rr->t1 = r->ts_ns;
	return 0;
}

static int validate_report(const struct ct_command *cmd, struct ct_config *c)
{
	if (!c->read)
		return ct_usage_error(cmd, "-r FILE, the capture, is required");
	if (!c->report_out)
		return ct_usage_error(cmd, "-o FILE, where the report goes, is required");
	return 0;
}

static int run_report(struct ct_config *c)
{
	struct ct_diag_opts o;
	struct report_run rr = { .flt = c->filter };
	struct ct_rec_out rec = { .record = on_record, .ctx = &rr };
	struct ct_replay_opts ro;
	struct ct_report_in in = { .version = CT_VERSION };
	struct ct_replay *rp;
	char err[256];
	FILE *out;
	int ret = 1, r;

	ct_config_diag(c, &o);
	rr.agg = ct_agg_new(0, NULL);
	rr.d = ct_diag_new(&o);
	ct_config_replay(c, &rec, &ro);
	rp = rr.agg && rr.d ? ct_replay_new(&ro, err, sizeof(err)) : NULL;
	if (!rp || ct_privs_drop(ro.engine == CT_ENGINE_BPF ? CT_KEEP_MAP_READS : 0, c->user,
				 c->uid, c->gid, err, sizeof(err))) {
		pr_warn("%s\n", rr.agg && rr.d ? err : "out of memory");
		goto done;
	}
	r = ct_replay_file(rp, c->read);
	if (r == 2 || rr.nomem)
		goto done;
	r |= ct_replay_finish(rp);
	in.source = strrchr(c->read, '/') ? strrchr(c->read, '/') + 1 : c->read;
	in.t0 = rr.t0;
	in.t1 = rr.t1;
	in.agg = rr.agg;
	in.nfindings = ct_diag_findings(rr.d, &in.findings);
	out = strcmp(c->report_out, "-") ? fopen(c->report_out, "we") : stdout;
	if (!out) {
		pr_warn("%s: %s\n", c->report_out, strerror(errno));
		goto done;
	}
	if (ct_report_html(out, &in) | (out != stdout ? fclose(out) : fflush(out))) {
		pr_warn("%s: cannot write the report\n", c->report_out);
		goto done;
	}
	pr_note("%s: %zu finding%s, written to %s\n", in.source, in.nfindings,
		in.nfindings == 1 ? "" : "s", c->report_out);
	ret = r ? 1 : 0;
done:
	ct_replay_free(rp);
	ct_diag_free(rr.d);
	ct_agg_free(rr.agg);
	return ret;
}

static const struct ct_opt_group *const report_groups[] = {
	&ct_grp_report, &ct_grp_rules, &ct_grp_expiry, &ct_grp_table, &ct_grp_engine, &ct_grp_select,
	&ct_grp_privs, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_report = {
	.name = "report",
	.synopsis = (const char *const[]){ "[OPTIONS] -r FILE -o REPORT.html", NULL },
	.summary = "one self-contained HTML report of a capture: charts, top servers, findings",
	.description =
		"Writes one HTML file of how the TCP connections of a capture ended: RST per\n"
		"connection over time, client and server (the probe's Figure 5), closes by kind\n"
		"over time, the top servers and client zones by server RST, diagnose's findings\n"
		"and a summary. The charts are SVG, without script; the file loads nothing and\n"
		"opens from file:// (closetrace-report(8)).",
	.groups = report_groups,
	.validate = validate_report,
	.examples = (const char *const[]){
		"closetrace report -r trace.pcap -o report.html",
		"closetrace report -r trace.pcap --zones zones.txt -o report.html",
		NULL },
	.run = run_report,
};
