/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * options.h - the command line: every option of every command declared once, in tables
 * grouped by what several commands share (interfaces, attach, expiry, selection, output,
 * top's view, common). The same table parses the arguments, checks their ranges and
 * prints --help with the defaults the parser starts from, so the two cannot drift.
 */
#ifndef CT_OPTIONS_H
#define CT_OPTIONS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <linux/types.h>

#include "closetrace.h"
#include "loader.h"
#include "tunnel.h"
#include "zones.h"

/* --storm-rate's default live (replay: none, every close of the capture is a record) */
#define CT_DEFAULT_STORM_RATE 1000

struct ct_filter;

/* Every value any command takes; the defaults are set by ct_config_init(). */
struct ct_config {
	int verbose;			/* -v, repeatable */
	int quiet;			/* -q */
	int help;
	int version;
	/* interfaces and attach */
	char *ifaces[CT_MAX_IFACES];	/* pointers into argv (split at commas) */
	int nifaces;
	int mode;			/* CT_MODE_* */
	int xdp_mode;			/* enum ct_xdp_mode */
	int force;
	int no_agent;			/* --no-agent: attach even where an agent watches */
	int wait_iface;			/* --wait-interface */
	/* expiry */
	long syn_timeout_s, idle_timeout_s, table_size;
	long storm_rate;		/* --storm-rate; -1: the command's default */
	struct ct_tunnels tunnels;	/* --tunnel-port, --no-decap */
	int engine;			/* replay's: enum ct_engine_kind */
	/* selection and output */
	struct ct_filter *filter;	/* owned */
	struct ct_zones zones;		/* --zones, --zone-prefix (owned) */
	const char *filter_text;
	int format;			/* enum ct_format */
	int all, final, wide;
	const char *output_file;	/* --output-file */
	__u64 rotate_size;		/* --output-rotate SIZE[,KEEP] */
	int rotate_keep;
	/* --user */
	int user;
	uid_t uid;
	gid_t gid;
	/* metrics */
	int metrics;			/* --metrics given: serve at metrics_addr */
	struct sockaddr_storage metrics_addr;
	__u16 metrics_ports[256];	/* --metrics-ports (CT_METRICS_PORTS_MAX) */
	int nmetrics_ports;
	const char *web_config;		/* --web-config FILE */
	/* diagnose */
	__u64 duration_ns;		/* --duration: live, stop after it (0: at Ctrl-C) */
	int fail_on;			/* --fail-on: 1 + enum ct_severity, 0 none */
	long min_closes;		/* --min-closes, and the rules' other thresholds */
	long refused_share, reset_share, storm_conns, scan_ports, scan_hosts, spike_min;
	long spike_factor;
	__u64 storm_window_ns, scan_window_ns, spike_interval_ns;
	const char *report_out;		/* report -o FILE */
	int metrics_by;			/* --metrics-by: enum ct_app_by */
	long metrics_top;		/* --metrics-top N */
	/* top */
	const char *read;		/* -r FILE */
	__u64 delay_ns, window_ns;
	int group, sort;		/* enum ct_grouping, enum ct_col */
	int batch;
	long frames, rows;
	long max_flows, max_groups;	/* top's caps (struct ct_agg_caps) */
	/* what is left after the options: files, or a subcommand and its arguments */
	char **args;
	int nargs;
};

enum { CT_MODE_TC = 0, CT_MODE_XDP };

/* How an option's argument is read and stored (at ct_opt.off in struct ct_config). */
enum ct_arg {
	CT_ARG_FLAG = 0,	/* no argument: int = 1 */
	CT_ARG_COUNT,		/* no argument: int += 1 */
	CT_ARG_LONG,		/* a whole number in [min, max]: long */
	CT_ARG_SECS,		/* seconds, decimals allowed, in [min, max]: __u64 ns */
	CT_ARG_CHOICE,		/* one of choice(0 .. nchoices - 1), case-insensitive: int */
	CT_ARG_IFACES,		/* comma-separated interface names, repeatable */
	CT_ARG_FILTER,		/* a filter expression, compiled (its text kept too) */
	CT_ARG_STRING,		/* kept as given: const char * */
	CT_ARG_CUSTOM,		/* read by the option's parse() */
};

struct ct_opt {
	const char *name;	/* long name, without the dashes */
	int key;		/* short letter, or 0 */
	enum ct_arg type;
	const char *meta;	/* the argument in help: N, SECS, LIST, FMT */
	const char *help;	/* '\n' starts a continuation line */
	size_t off;		/* offsetof(struct ct_config, ...) */
	double min, max;	/* CT_ARG_LONG, CT_ARG_SECS */
	const char *(*choice)(int i);	/* CT_ARG_CHOICE: the names */
	int nchoices;
	/* what help says for the default, where the value alone would not say it */
	const char *def_text;
	/* a command on captures (not live): its default, where it differs */
	const char *def_offline;
	/* a live command (watch, top): a further line of help that only it needs */
	const char *help_live;
	/* further checks of a CT_ARG_LONG value: 0, or -1 with one sentence in @err */
	int (*check)(long v, char *err, size_t errlen);
	/* CT_ARG_CUSTOM: store @arg in @c; 0, or -1 with one sentence in @err */
	int (*parse)(const char *arg, struct ct_config *c, char *err, size_t errlen);
};

struct ct_opt_group {
	const char *title;
	const struct ct_opt *opts;	/* ends with a zeroed entry */
};

struct ct_command {
	const char *name;
	const char *const *synopsis;	/* usage lines after "closetrace NAME", NULL-ended */
	const char *summary;		/* one line, for `closetrace help` */
	const char *description;
	const struct ct_opt_group *const *groups;	/* NULL-ended */
	int min_args, max_args;		/* positional arguments (max -1: any number) */
	const char *args_meta;		/* what they are, for "needs FILE" */
	int stop_at_arg;		/* options end at the first positional argument */
	const char *const *examples;	/* NULL-ended */
	const char *notes;		/* a paragraph after the options, or NULL */
	int live;			/* on interfaces: help shows the options' live lines */
	/* checks across options after parsing: 0, or 2 after ct_usage_error() */
	int (*validate)(const struct ct_command *cmd, struct ct_config *c);
	/* the command itself: its exit status */
	int (*run)(struct ct_config *c);
};

/* The shared groups. */
extern const struct ct_opt_group ct_grp_tunnel;
extern const struct ct_opt_group ct_grp_ifaces, ct_grp_diagnose, ct_grp_report, ct_grp_rules, ct_grp_attach, ct_grp_expiry, ct_grp_table,
	ct_grp_engine, ct_grp_select, ct_grp_output, ct_grp_top, ct_grp_metrics, ct_grp_privs,
	ct_grp_common;

/* The top level: `closetrace [OPTIONS] COMMAND`. */
extern const struct ct_command ct_cmd_main;

/* The defaults every command starts from. */
void ct_config_init(struct ct_config *c);
void ct_config_free(struct ct_config *c);

/*
 * Parse @argv (argv[0] is the command's name) for @cmd into @c. Returns 0 when the
 * command is to run, 1 after printing --help (exit 0), 2 after printing a usage error:
 * one line naming the problem, then "try 'closetrace CMD --help'".
 */
int ct_parse_args(const struct ct_command *cmd, int argc, char **argv, struct ct_config *c);

/* Print @cmd's --help, generated from its tables and the defaults, to @out. */
void ct_print_help(const struct ct_command *cmd, FILE *out);

/* A usage error of @cmd: the message, then the hint; returns 2. */
int ct_usage_error(const struct ct_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct ct_expiry;
/* The expiry the timeouts of @c ask for. */
void ct_config_expiry(const struct ct_config *c, struct ct_expiry *e);

/* Options of watch and top that only make sense together: 0, or 2 after a usage error. */
int ct_validate_live(const struct ct_command *cmd, struct ct_config *c);

struct ct_live_opts;
struct ct_output_opts;
struct ct_rec_out;
struct ct_replay_opts;
/* What @c asks of a replay session (records to @out): replay, top -r, diagnose, report. */
void ct_config_replay(const struct ct_config *c, const struct ct_rec_out *out,
		      struct ct_replay_opts *o);
/* What @c asks of a live session (records to @out), and of the output. */
void ct_config_live(const struct ct_config *c, int emit_graceful, const struct ct_rec_out *out,
		    struct ct_live_opts *o);
void ct_config_output(const struct ct_config *c, struct ct_output_opts *o);
struct ct_viewer;
/*
 * Where an agent watches @c's interfaces, view it as @name (flags: CT_SUB_*), unless @c
 * asks for an agent of its own (--no-agent, --metrics, --mode xdp, --table-size, ...):
 * 0 viewing, 1 attach as usual, -1 said.
 */
int ct_config_view(const struct ct_config *c, const char *name, __u32 flags,
		   const struct ct_rec_out *out, struct ct_viewer *v);
struct ct_diag;
/*
 * diagnose's and report's live run: every close of @c's interfaces to @out (through the
 * agent that watches them, as viewer @name, "@doing IFACE through the agent", else
 * attached) for --duration or until Ctrl-C; @d told whether closes name sockets' owners.
 * 0, or 1 when it failed (said).
 */
int ct_config_every_close(const struct ct_config *c, const char *name, const char *doing,
			  const struct ct_rec_out *out, struct ct_diag *d);
struct ct_diag_opts;
/* The rules' thresholds @c asks for: diagnose, report. */
void ct_config_diag(const struct ct_config *c, struct ct_diag_opts *o);

#endif /* CT_OPTIONS_H */
