// SPDX-License-Identifier: BSD-3-Clause
/*
 * cmd_report.c - `closetrace report -r FILE -o report.html`: a capture's closes (or a live
 * session's, -i IFACE for --duration or until Ctrl-C) into top's model and diagnose's
 * rules, then one self-contained HTML file (report.c).
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
	if (!c->read && !c->nifaces)
		return ct_usage_error(cmd, "-r FILE, the capture, or -i IFACE is required");
	if (c->read && c->nifaces)
		return ct_usage_error(cmd, "-r FILE or -i IFACE, not both");
	if (!c->report_out)
		return ct_usage_error(cmd, "-o FILE, where the report goes, is required");
	if (c->duration_ns && !c->nifaces)
		return ct_usage_error(cmd, "--duration goes with -i IFACE");
	return c->nifaces ? ct_validate_live(cmd, c) : 0;
}

static int report_file(struct ct_config *c, struct ct_rec_out *rec)
{
	struct ct_replay_opts ro;
	struct ct_replay *rp;
	char err[256];
	int r;

	ct_config_replay(c, rec, &ro);
	rp = ct_replay_new(&ro, err, sizeof(err));
	if (!rp || ct_privs_drop(ro.engine == CT_ENGINE_BPF ? CT_KEEP_MAP_READS : 0, c->user,
				 c->uid, c->gid, err, sizeof(err))) {
		pr_warn("%s\n", err);
		ct_replay_free(rp);
		return 2;
	}
	r = ct_replay_file(rp, c->read);
	if (r != 2)
		r |= ct_replay_finish(rp);
	ct_replay_free(rp);
	return r;
}

static int run_report(struct ct_config *c)
{
	struct ct_diag_opts o;
	struct report_run rr = { .flt = c->filter };
	struct ct_rec_out rec = { .record = on_record, .ctx = &rr };
	struct ct_report_in in = { .version = CT_VERSION };
	char live[256];
	FILE *out;
	int ret = 1, r;

	ct_config_diag(c, &o);
	rr.agg = ct_agg_new(0, NULL);
	rr.d = ct_diag_new(&o);
	if (!rr.agg || !rr.d) {
		pr_warn("out of memory\n");
		goto done;
	}
	r = c->nifaces ? (ct_config_every_close(c, "report", "reporting on", &rec, rr.d) ? 2 : 0) :
			 report_file(c, &rec);
	if (r == 2 || rr.nomem)
		goto done;
	if (c->nifaces) {
		size_t off = 0;

		for (int i = 0; i < c->nifaces; i++)
			off += (size_t)snprintf(live + off, sizeof(live) - off, "%s%s", i ? "," : "",
						c->ifaces[i]);
		in.source = live;
	} else {
		in.source = strrchr(c->read, '/') ? strrchr(c->read, '/') + 1 : c->read;
	}
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
	ct_diag_free(rr.d);
	ct_agg_free(rr.agg);
	return ret;
}

static const struct ct_opt_group *const report_groups[] = {
	&ct_grp_ifaces, &ct_grp_report, &ct_grp_rules, &ct_grp_attach, &ct_grp_expiry,
	&ct_grp_table, &ct_grp_tunnel, &ct_grp_engine, &ct_grp_select, &ct_grp_privs, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_report = {
	.name = "report",
	.synopsis = (const char *const[]){ "[OPTIONS] -r FILE -o REPORT.html",
					   "[OPTIONS] -i IFACE [--duration SECS] -o REPORT.html", NULL },
	.summary = "one self-contained HTML report of a capture: charts, top servers, findings",
	.description =
		"Writes one HTML file of how the TCP connections of a capture (or of live\n"
		"interfaces, for --duration or until Ctrl-C) ended: RST per connection over\n"
		"time, client and server (the probe's Figure 5), closes by kind over time, the\n"
		"top servers and client zones by server RST, diagnose's findings and a summary.\n"
		"The charts are SVG, without script; the file loads nothing and opens from\n"
		"file:// (closetrace-report(8)).",
	.groups = report_groups,
	.validate = validate_report,
	.examples = (const char *const[]){
		"closetrace report -r trace.pcap -o report.html",
		"closetrace report -r trace.pcap --zones zones.txt -o report.html",
		"closetrace report -i eth0 --duration 300 -o report.html",
		NULL },
	.run = run_report,
};
