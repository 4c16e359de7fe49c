// SPDX-License-Identifier: BSD-3-Clause
/*
 * cmd_watch.c - `closetrace watch -i IFACE[,IFACE...]`: a live session that prints closes as
 * the kernel decides them, scans the flow table once a second for the closes only time
 * can tell, and leaves the system as it found it on exit.
 */
#include "classify.h"
#include "commands.h"
#include "live.h"
#include "log.h"
#include "options.h"
#include "output.h"
#include "view.h"

static int validate_watch(const struct ct_command *cmd, struct ct_config *c)
{
	if (!c->nifaces)
		return ct_usage_error(cmd, "-i IFACE is required");
	return ct_validate_live(cmd, c);
}

/* The last line: the closes by kind, and how many records went out. */
static void summary(const unsigned long long *closes, unsigned long long printed)
{
	char line[512];

	ct_closes_summary(closes, line, sizeof(line));
	pr_note("%s; %llu record%s printed\n", line, printed, printed == 1 ? "" : "s");
}

static int run_watch(struct ct_config *c)
{
	static struct ct_live l;
	static struct ct_viewer view;
	struct ct_output_opts oo;
	struct ct_output out;
	struct ct_rec_out rec = { .record = ct_output_take, .flush = ct_output_batch_end,
				  .ctx = &out };
	struct ct_live_opts lo;
	int ret = 0;

	/* the output first: a file that cannot be written is said before anything attaches */
	ct_config_output(c, &oo);
	if (ct_output_open(&out, &oo, 1))
		return 1;
	/* signals next: an interrupted start still detaches what it attached */
	ct_catch_stop_signals(CT_HUP_TERMINAL, !!c->output_file);
	/* an agent watches the interfaces already: its viewer */
	ret = ct_config_view(c, "watch", 0, &rec, &view);
	if (ret <= 0) {
		if (!ret) {
			ret = ct_viewer_run(&view, 0);
			ct_viewer_end(&view);
			summary(view.closes, out.printed);
		}
		ct_output_close(&out);
		return ret ? 1 : 0;
	}
	ret = 0;
	/* closes by port count graceful ones too: the kernel must report them */
	ct_config_live(c, c->all || c->final || c->nmetrics_ports, &rec, &lo);
	lo.announce = 1;
	lo.all = c->all;
	/* and the session is offered to viewers, unless it runs beside an agent */
	lo.share = !c->no_agent;
	if (ct_live_start(&l, &lo)) {
		ret = 1;
		goto out;
	}
	ret = ct_live_run(&l, 0);
out:
	ct_live_end(&l, c->final);
	if (l.attached)
		summary(l.closes, out.printed);
	ct_output_close(&out);
	return ret;
}

static const struct ct_opt_group *const watch_groups[] = {
	&ct_grp_ifaces, &ct_grp_attach, &ct_grp_expiry, &ct_grp_table, &ct_grp_tunnel, &ct_grp_select, &ct_grp_output,
	&ct_grp_metrics, &ct_grp_privs, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_watch = {
	.name = "watch",
	.synopsis = (const char *const[]){ "-i IFACE[,IFACE...] [OPTIONS]", NULL },
	.summary = "print abnormal TCP closes on live interfaces as they happen",
	.description =
		"Attaches to live interfaces and prints each abnormal TCP close as it happens:\n"
		"the close, who reset (clt, srv), SYNs, FINs and RSTs as client:server counts,\n"
		"the duration, why this host sent a RST (REASON: 'closetrace help reasons'),\n"
		"then client and server; -w adds Zeek's state and history, packets, full times.\n"
		"Needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON). Where a watch (the\n"
		"service) already watches the interfaces, it views that agent's session instead:\n"
		"no program of its own, no privilege but read access to its socket (the\n"
		"closetrace group); --no-agent attaches anyway.",
	.live = 1,
	.groups = watch_groups,
	.max_args = 0,
	.notes = "Stops on SIGINT or SIGTERM, detaching and printing the last events. SIGHUP\n"
		 "stops it too where it has a controlling terminal (the terminal went away);\n"
		 "elsewhere, as a service, SIGHUP reopens --output-file (logrotate, systemctl\n"
		 "reload), or without one is said once and ignored. Once attached, it drops\n"
		 "every capability (see --user). A watch offers its session to local viewers\n"
		 "(watch, top, diagnose, report on the same interfaces) through\n"
		 "/run/closetrace/IFACE@NETNS.sock; a slow viewer never holds it up.",
	.examples = (const char *const[]){
		"closetrace watch -i eth0                      # abnormal closes on eth0",
		"closetrace watch -i eth0 -o json | jq .close  # as NDJSON",
		"closetrace watch -i mirror0 --mode xdp --all  # a mirror port, every close",
		"closetrace watch -i eth0 -f 'close = refused and port.srv = 1194'",
		NULL },
	.validate = validate_watch,
	.run = run_watch,
};
