// SPDX-License-Identifier: BSD-3-Clause
/*
 * cmd_replay.c - `closetrace replay FILE...`: the captures through a replay session
 * (replay.h), their records to the output, with no privilege for the in-process engine.
 */
#include "classify.h"
#include "commands.h"
#include "log.h"
#include "filter.h"
#include "options.h"
#include "output.h"
#include "privs.h"
#include "replay.h"

static int run_replay(struct ct_config *c)
{
	struct ct_output_opts oo;
	struct ct_output out;
	struct ct_rec_out rec = { .record = ct_output_take, .ctx = &out };
	struct ct_replay_opts ro;
	struct ct_replay *rp;
	char err[256];
	int ret = 0, r = 0;

	ct_config_replay(c, &rec, &ro);
	/* only the kernel's engine needs privileges: the one in process, none */
	if (ro.engine == CT_ENGINE_BPF && ct_privs_check(err, sizeof(err))) {
		pr_warn("%s\n", err);
		return 1;
	}
	ct_config_output(c, &oo);
	if (ct_output_open(&out, &oo, 0))
		return 1;
	rp = ct_replay_new(&ro, err, sizeof(err));
	/* ready: the captures are read without any capability (and as --user) */
	if (!rp || ct_privs_drop(ro.engine == CT_ENGINE_BPF ? CT_KEEP_MAP_READS : 0, c->user,
				 c->uid, c->gid, err, sizeof(err))) {
		pr_warn("%s\n", err);
		ct_replay_free(rp);
		ct_output_close(&out);
		return 1;
	}
	/* asked for what a capture cannot tell: said once */
	if (ct_filter_uses_app(c->filter))
		pr_note("a capture has no sockets: its closes name no application, and app. "
			"fields are empty (\"\", 0)\n");
	for (int i = 0; i < c->nargs && r >= 0; i++) {
		/* several captures: each named once (escaped), its label in the IFACE column */
		if (c->nargs > 1 && oo.fmt == CT_FMT_TEXT)
			pr_note("#%d: %s\n", i + 1, c->args[i]);
		r = ct_replay_file(rp, c->args[i]);
		if (r > 0)
			ret = 1;
	}
	/* stdout went away (r < 0): stop quietly, there is nobody to tell */
	if (r >= 0) {
		unsigned long long closes[CT_CLOSE_MAX];
		char line[512];

		ret |= ct_replay_finish(rp);
		/* the last line, when all went well: a problem was its own one line */
		ct_replay_closes(rp, closes);
		ct_closes_summary(closes, line, sizeof(line));
		if (!ret)
			pr_note("%s; %llu record%s printed\n", line,
				(unsigned long long)out.printed, out.printed == 1 ? "" : "s");
	}
	ct_replay_free(rp);
	ct_output_close(&out);
	return ret;
}

static const struct ct_opt_group *const replay_groups[] = {
	&ct_grp_expiry, &ct_grp_table, &ct_grp_tunnel, &ct_grp_engine, &ct_grp_select, &ct_grp_output,
	&ct_grp_privs, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_replay = {
	.name = "replay",
	.synopsis = (const char *const[]){ "[OPTIONS] FILE [FILE...]", NULL },
	.summary = "classify the TCP connections of pcap / pcapng captures",
	.description =
		"Runs the code of closetrace's BPF program over pcap / pcapng captures (Ethernet,\n"
		"Linux cooked, BSD loopback, raw IP), capture time as the clock, and prints how\n"
		"the TCP connections in them ended. FILE - reads standard input. Needs no\n"
		"privilege: the flow code runs in this process (--engine bpf runs the BPF program\n"
		"itself in the kernel, with BPF_PROG_TEST_RUN, as root).",
	.groups = replay_groups,
	.min_args = 1,
	.max_args = -1,
	.args_meta = "a capture FILE",
	.examples = (const char *const[]){
		"closetrace replay trace.pcap                   # abnormal closes in a capture",
		"closetrace replay -o json trace.pcapng | jq .  # as NDJSON",
		"closetrace replay --final --all a.pcap b.pcap  # every flow's final counts",
		"closetrace replay -f 'ip.srv in 10.0.0.0/8 and close = refused' t.pcap",
		NULL },
	.run = run_replay,
};
