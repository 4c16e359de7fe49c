// SPDX-License-Identifier: BSD-3-Clause
/*
 * options.c - the option tables shared by the commands, the parser that reads them
 * (getopt_long, with getopt's own messages replaced by one line and a hint), and the
 * --help text generated from the same tables and from the defaults the parser starts at.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "agg.h"
#include "attach.h"
#include "engine.h"
#include "filter.h"
#include "format.h"
#include "flows.h"
#include "http.h"
#include "log.h"
#include "live.h"
#include "now.h"
#include "metrics.h"
#include "numbers.h"
#include "commands.h"
#include "diagnose.h"
#include "options.h"
#include "output.h"
#include "text.h"
#include "privs.h"
#include "replay.h"
#include "view.h"

#define OFF(field) offsetof(struct ct_config, field)
#define MAX_OPTS 64

/* --- choices ----------------------------------------------------------------------------- */

static const char *mode_name(int i)
{
	static const char *const n[] = { [CT_MODE_TC] = "tc", [CT_MODE_XDP] = "xdp" };

	return n[i];
}

static const char *xdp_mode_name(int i)
{
	static const char *const n[] = {
		[CT_XDP_AUTO] = "auto", [CT_XDP_NATIVE] = "native", [CT_XDP_GENERIC] = "generic",
	};

	return n[i];
}

static const char *format_name(int i)
{
	static const char *const n[] = {
		[CT_FMT_TEXT] = "text", [CT_FMT_JSON] = "json", [CT_FMT_JOURNAL] = "journal",
		[CT_FMT_NONE] = "none",
	};

	return n[i];
}

static const char *engine_name(int i)
{
	return ct_engine_name(i);
}

static const char *group_name(int i)
{
	return ct_grouping_name((enum ct_grouping)i);
}

static const char *metrics_by_name(int i)
{
	return i ? ct_app_by_name((enum ct_app_by)i) : "none";
}

static const char *col_name(int i)
{
	return ct_col_name((enum ct_col)i);
}

/* MemAvailable from /proc/meminfo, in bytes; 0 when it cannot be read. */
static __u64 mem_available(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (__u64)kib * 1024;
}

static int check_table(long v, char *err, size_t errlen)
{
	return ct_table_fits(v, mem_available(), err, errlen);
}

static double gib(double b)
{
	return b / (1024.0 * 1024 * 1024);
}

static int check_max_flows(long v, char *err, size_t errlen)
{
	double need = (double)v * (double)ct_agg_flow_bytes();
	__u64 avail = mem_available();

	if (avail && need > (double)avail / 2) {
		snprintf(err, errlen, "keeping %ld ended flows would take %.1f GiB, more than half "
			 "the %.1f GiB this machine has available", v, gib(need),
			 gib((double)avail));
		return -1;
	}
	return 0;
}

/* --- the groups -------------------------------------------------------------------------- */

/* Entry macros: the name, letter, argument, help and field of an option, then its extras. */
#define OPT(n, k, t, m, h, f, ...) \
	{ .name = (n), .key = (k), .type = (t), .meta = (m), .help = (h), .off = OFF(f), __VA_ARGS__ }
#define END { .name = NULL }

static const struct ct_opt ifaces_opts[] = {
	OPT("interface", 'i', CT_ARG_IFACES, "LIST", "interfaces, comma-separated (repeatable)",
	    ifaces),
	END,
};

static const struct ct_opt attach_opts[] = {
	OPT("mode", 'm', CT_ARG_CHOICE, "MODE",
	    "tc: ingress and egress of this host's traffic;\n"
	    "xdp: ingress only, for a mirror/TAP port or a gateway",
	    mode, .choice = mode_name, .nchoices = 2),
	OPT("xdp-mode", 0, CT_ARG_CHOICE, "MODE", "with --mode xdp: native or generic",
	    xdp_mode, .choice = xdp_mode_name, .nchoices = 3,
	    .def_text = "auto: native, else generic"),
	OPT("force", 0, CT_ARG_FLAG, NULL,
	    "with --mode xdp: replace another XDP program in one\n"
	    "step; it is put back if closetrace fails to start,\nnot on exit", force),
	OPT("wait-interface", 0, CT_ARG_FLAG, NULL,
	    "for services: an interface deleted is waited for\n"
	    "and attached to again when it comes back (keeps\n"
	    "CAP_BPF and CAP_NET_ADMIN for it); else it is no\n"
	    "longer watched", wait_iface),
	OPT("no-agent", 0, CT_ARG_FLAG, NULL,
	    "attach a program of its own even where a running\n"
	    "agent (watch, the service) watches the interface;\n"
	    "else its viewer. Beside the agent with tcx only\n(Linux 6.6 and later)", no_agent),
	END,
};

static const struct ct_opt expiry_opts[] = {
	OPT("syn-timeout", 0, CT_ARG_LONG, "SECS", "close unanswered SYNs after SECS",
	    syn_timeout_s, .min = 1, .max = 86400),
	OPT("idle-timeout", 0, CT_ARG_LONG, "SECS", "close silent established flows after SECS",
	    idle_timeout_s, .min = 1, .max = 7 * 86400),
	END,
};

static const struct ct_opt table_opts[] = {
	OPT("table-size", 0, CT_ARG_LONG, "N",
	    "flow-table entries, preallocated in the kernel\n(about 390 bytes each)",
	    table_size, .min = CT_TABLE_MIN, .max = CT_TABLE_MAX, .check = check_table),
	OPT("storm-rate", 0, CT_ARG_LONG, "N",
	    "orphan RSTs and unanswered SYNs reported one by one\n"
	    "a second; past N, counted in summaries by server\nport (0: no limit)",
	    storm_rate, .min = 0, .max = 1000000000, .def_text = "1000", .def_offline = "0"),
	END,
};

static int parse_tunnel_port(const char *arg, struct ct_config *c, char *err, size_t errlen)
{
	return ct_tunnels_parse(&c->tunnels, arg, err, errlen);
}

static const struct ct_opt tunnel_opts[] = {
	OPT("tunnel-port", 0, CT_ARG_CUSTOM, "TYPE=PORT",
	    "decapsulate TYPE (vxlan, geneve, gtpu, teredo) on\n"
	    "this UDP port; comma-separated, repeatable: a\n"
	    "type's first port replaces its defaults (vxlan 4789\n"
	    "and 8472, geneve 6081, gtpu 2152, teredo 3544);\n"
	    "TYPE=off turns one off (gre and erspan too)",
	    tunnels, .parse = parse_tunnel_port),
	OPT("no-decap", 0, CT_ARG_FLAG, NULL,
	    "open no tunnel: TCP inside one is not seen, the\ntunnel's own packets count as other", tunnels.none),
	END,
};

static const struct ct_opt engine_opts[] = {
	OPT("engine", 0, CT_ARG_CHOICE, "ENGINE",
	    "what runs the flow code on the packets: user, this\n"
	    "process (no privilege needed); bpf, the kernel, the\n"
	    "BPF program through BPF_PROG_TEST_RUN (root). The\n"
	    "same code decides: the records are the same",
	    engine, .choice = engine_name, .nchoices = CT_ENGINE_MAX),
	END,
};

static int parse_zones(const char *arg, struct ct_config *c, char *err, size_t errlen)
{
	char *text = NULL, msg[512];
	size_t len = 0;
	FILE *f = fopen(arg, "re"), *m;
	int ret;

	if (!f) {
		snprintf(err, errlen, "%s: %s", arg, strerror(errno));
		return -1;
	}
	m = open_memstream(&text, &len);
	if (!m) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int ch; (ch = getc(f)) != EOF;)
		putc(ch, m);
	fclose(f);
	fclose(m);
	ret = ct_zones_parse(&c->zones, text ? text : "", arg, msg, sizeof(msg));
	free(text);
	if (ret)
		snprintf(err, errlen, "%s", msg);
	return ret;
}

static int parse_zone_prefix(const char *arg, struct ct_config *c, char *err, size_t errlen)
{
	return ct_zones_parse_prefix(&c->zones, arg, err, errlen);
}

static const struct ct_opt select_opts[] = {
	OPT("filter", 'f', CT_ARG_FILTER, "EXPR",
	    "only records matching EXPR, e.g. 'rst.count > 0 and\n"
	    "fin.count = 0' ('closetrace help filter' lists the fields)", filter),
	OPT("zones", 0, CT_ARG_CUSTOM, "FILE",
	    "client and server zones: 'CIDR NAME' lines, the\n"
	    "longest prefix wins (clt_zone, srv_zone)", zones, .parse = parse_zones),
	OPT("zone-prefix", 0, CT_ARG_CUSTOM, "V4,V6",
	    "the zone of an address no --zones prefix holds: its\n"
	    "network at these lengths (24,64)", zones, .parse = parse_zone_prefix),
	END,
};

static int parse_rotate(const char *arg, struct ct_config *c, char *err, size_t errlen)
{
	char *end;
	double v;
	long keep = 5;

	errno = 0;
	v = strtod(arg, &end);
	if (end != arg && (*end == 'K' || *end == 'k'))
		v *= 1024, end++;
	else if (end != arg && (*end == 'M' || *end == 'm'))
		v *= 1024 * 1024, end++;
	else if (end != arg && (*end == 'G' || *end == 'g'))
		v *= 1024.0 * 1024 * 1024, end++;
	if (*end == ',' && ct_parse_long(end + 1, 0, 1000, &keep))
		end = (char *)"x";
	else if (*end == ',')
		end += strlen(end);
	if (errno || end == arg || *end || !isfinite(v) || v < 4096 || v > 1e15) {
		snprintf(err, errlen, "takes SIZE[,KEEP]: a size of 4K or more (10M, 1G) and 0 to "
			 "1000 files kept, not '%s'", arg);
		return -1;
	}
	c->rotate_size = (__u64)v;
	c->rotate_keep = (int)keep;
	return 0;
}

static const struct ct_opt output_opts[] = {
	OPT("output", 'o', CT_ARG_CHOICE, "FMT",
	    "text, json (NDJSON, one object per line), journal\n"
	    "(the systemd journal, CLOSETRACE_* fields), or none\n"
	    "(no records; losses still said)",
	    format, .choice = format_name, .nchoices = 4,
	    .help_live = "(none with --metrics: a metrics-only agent)"),
	OPT("output-file", 0, CT_ARG_STRING, "FILE",
	    "append the records to FILE (created 0640) instead\n"
	    "of stdout", output_file,
	    .help_live = "(SIGHUP reopens it: logrotate, systemctl reload)"),
	OPT("output-rotate", 0, CT_ARG_CUSTOM, "SIZE[,KEEP]",
	    "with --output-file: rotate at SIZE bytes (K, M, G),\n"
	    "keeping KEEP older files FILE.1 ... (5 if not given)", rotate_size,
	    .parse = parse_rotate),
	OPT("all", 'a', CT_ARG_FLAG, NULL, "every close, not only abnormal ones", all),
	OPT("final", 0, CT_ARG_FLAG, NULL,
	    "each flow's final state when it leaves the table,\n"
	    "instead of its close", final,
	    .help_live = "(and at exit, the flows still open)"),
	OPT("wide", 'w', CT_ARG_FLAG, NULL, "text: every column, full times, IPv6-wide endpoints", wide),
	END,
};

static const struct ct_opt top_opts[] = {
	OPT("read", 'r', CT_ARG_STRING, "FILE", "a pcap / pcapng capture instead of interfaces",
	    read),
	OPT("delay", 'd', CT_ARG_SECS, "SECS", "refresh every SECS", delay_ns, .min = 0.1,
	    .max = 3600),
	OPT("group", 'g', CT_ARG_CHOICE, "BY", "rows are: server, server-ip, client-ip, flow,\napp (the local process and its unit), unit,\nclient-zone, server-zone or tunnel (type and id)",
	    group, .choice = group_name, .nchoices = CT_G_MAX),
	OPT("sort", 's', CT_ARG_CHOICE, "COL",
	    "the column to rank by: CONN CT SYN/C FIN.C FIN.S\n"
	    "RST.C RST.S REFUSED RESETS FINRST UNANS RST/C LAST",
	    sort, .choice = col_name, .nchoices = CT_COL_MAX),
	OPT("window", 0, CT_ARG_SECS, "SECS", "ended flows count this long (live)", window_ns,
	    .min = 1, .max = 7 * 86400),
	OPT("batch", 'b', CT_ARG_FLAG, NULL, "plain-text frames on stdout, no screen (top -b)",
	    batch),
	OPT("frames", 'n', CT_ARG_LONG, "N", "stop after N frames", frames, .min = 1, .max = 1e9,
	    .def_text = "never; batch with -r: 1"),
	OPT("rows", 0, CT_ARG_LONG, "N", "table rows per frame", rows, .min = 1, .max = 1e9,
	    .def_text = "what fits; batch: all"),
	OPT("max-flows", 0, CT_ARG_LONG, "N",
	    "ended flows kept one by one for the window (about\n"
	    "500 bytes each); older ones are folded into the\n"
	    "(other) row, which keeps their counts",
	    max_flows, .min = 100, .max = CT_AGG_FLOWS_LIMIT, .check = check_max_flows),
	OPT("max-groups", 0, CT_ARG_LONG, "N",
	    "rows ranked; the groups past N are summed into\n(other)",
	    max_groups, .min = 10, .max = CT_AGG_GROUPS_LIMIT),
	END,
};

static int parse_metrics(const char *arg, struct ct_config *c, char *err, size_t errlen)
{
	if (ct_http_parse_addr(arg, &c->metrics_addr, err, errlen))
		return -1;
	c->metrics = 1;
	return 0;
}

static int parse_ports(const char *arg, struct ct_config *c, char *err, size_t errlen)
{
	const char *p = arg;

	while (*p) {
		size_t n = strcspn(p, ",");
		char one[8];
		long v;

		snprintf(one, sizeof(one), "%.*s", (int)(n < 7 ? n : 7), p);
		if (n > 5 || ct_parse_long(one, 1, 65535, &v) || (p[n] == ',' && !p[n + 1])) {
			snprintf(err, errlen, "takes ports from 1 to 65535, comma-separated, not '%.*s'",
				 (int)n, p);
			return -1;
		}
		if (c->nmetrics_ports == CT_METRICS_PORTS_MAX) {
			snprintf(err, errlen, "takes at most %d ports", CT_METRICS_PORTS_MAX);
			return -1;
		}
		for (int i = 0; i < c->nmetrics_ports; i++)
			if (c->metrics_ports[i] == v) {
				snprintf(err, errlen, "port %ld is given twice", v);
				return -1;
			}
		c->metrics_ports[c->nmetrics_ports++] = (__u16)v;
		p += n + (p[n] == ',');
	}
	if (!c->nmetrics_ports) {
		snprintf(err, errlen, "takes ports from 1 to 65535, comma-separated");
		return -1;
	}
	return 0;
}

static int parse_user(const char *arg, struct ct_config *c, char *err, size_t errlen)
{
	if (ct_privs_user(arg, &c->uid, &c->gid, err, errlen))
		return -1;
	c->user = 1;
	return 0;
}

static const struct ct_opt privs_opts[] = {
	OPT("user", 'u', CT_ARG_CUSTOM, "USER",
	    "once attached (replay: once loaded), run as USER,\n"
	    "without any capability, as tcpdump -Z does", user, .parse = parse_user),
	END,
};

static const struct ct_opt metrics_opts[] = {
	OPT("metrics", 0, CT_ARG_CUSTOM, "[ADDR:]PORT",
	    "serve Prometheus metrics at http://ADDR:PORT/metrics;\n"
	    "a port alone listens on 127.0.0.1 only", metrics, .parse = parse_metrics),
	OPT("metrics-ports", 0, CT_ARG_CUSTOM, "LIST",
	    "closes by server port for these ports (22,443,...),\n"
	    "the others as port=\"other\"", nmetrics_ports, .parse = parse_ports),
	OPT("metrics-by", 0, CT_ARG_CHOICE, "KEY",
	    "closes of this host's sockets by application:\n"
	    "unit, container, pod or comm", metrics_by, .choice = metrics_by_name,
	    .nchoices = CT_APP_BY_MAX),
	OPT("metrics-top", 0, CT_ARG_LONG, "N",
	    "with --metrics-by: at most N applications, the\n"
	    "busiest; the rest as \"other\"", metrics_top, .min = 1,
	    .max = CT_METRICS_APPS_MAX, .def_text = "20"),
	OPT("web-config", 0, CT_ARG_STRING, "FILE",
	    "TLS and basic authentication for --metrics, in the\n"
	    "exporters' web configuration file (closetrace-watch(8))", web_config),
	END,
};

static const char *fail_name(int i)
{
	return i ? ct_severity_name((enum ct_severity)(i - 1)) : "never";
}

static const struct ct_opt diagnose_opts[] = {
	OPT("output", 'o', CT_ARG_CHOICE, "FMT",
	    "text, or json (one object per finding)", format, .choice = format_name,
	    .nchoices = 2),
	OPT("duration", 0, CT_ARG_SECS, "SECS", "live: diagnose for SECS, then report (0: until\n"
	    "Ctrl-C)", duration_ns, .min = 0, .max = 7 * 86400),
	OPT("fail-on", 0, CT_ARG_CHOICE, "SEVERITY",
	    "exit 3 when a finding this severe or worse was\nfound: info, warning or critical",
	    fail_on, .choice = fail_name, .nchoices = CT_SEV_MAX + 1),
	END,
};

/* The rules' thresholds (closetrace-diagnose(8)), for diagnose and report */
static const struct ct_opt rules_opts[] = {
	OPT("min-closes", 0, CT_ARG_LONG, "N",
	    "closes of one kind a server (or client) needs\nbefore a rule speaks", min_closes,
	    .min = 1, .max = 1000000000),
	OPT("refused-share", 0, CT_ARG_LONG, "PCT",
	    "refused: critical when this share of a server's\nconnections was refused, else "
	    "warning", refused_share, .min = 1, .max = 100, .def_text = "50"),
	OPT("reset-share", 0, CT_ARG_LONG, "PCT",
	    "resets-sessions: the share of a server's\nestablished connections it resets",
	    reset_share, .min = 1, .max = 100, .def_text = "80"),
	OPT("storm-conns", 0, CT_ARG_LONG, "N",
	    "reset-storm, mass-close: connections open\ntogether that a server ends ...",
	    storm_conns, .min = 2, .max = 1000000, .def_text = "10"),
	OPT("storm-window", 0, CT_ARG_SECS, "SECS", "... within SECS", storm_window_ns,
	    .min = 0.001, .max = 3600, .def_text = "1"),
	OPT("scan-ports", 0, CT_ARG_LONG, "N",
	    "scan: one client refused or unanswered on N ports\nof a host ...", scan_ports,
	    .min = 2, .max = 32, .def_text = "15"),
	OPT("scan-hosts", 0, CT_ARG_LONG, "N", "... or by N hosts ...", scan_hosts, .min = 2,
	    .max = 32, .def_text = "25"),
	OPT("scan-window", 0, CT_ARG_SECS, "SECS", "... within SECS", scan_window_ns, .min = 1,
	    .max = 86400, .def_text = "300"),
	OPT("spike-min", 0, CT_ARG_LONG, "N",
	    "spike: failed closes (refused, unanswered, reset\nby the server, orphan RSTs) of "
	    "an interval ...", spike_min, .min = 1, .max = 1000000000, .def_text = "10"),
	OPT("spike-factor", 0, CT_ARG_LONG, "N",
	    "... and N times the mean of the 30 intervals\nbefore it (6 at least); a "
	    "storm too\nmust be N times a server's usual", spike_factor, .min = 2, .max = 1000,
	    .def_text = "4"),
	OPT("spike-window", 0, CT_ARG_SECS, "SECS", "... in intervals of SECS",
	    spike_interval_ns, .min = 1, .max = 3600, .def_text = "10"),
	END,
};

static const struct ct_opt report_opts[] = {
	OPT("read", 'r', CT_ARG_STRING, "FILE", "the pcap / pcapng capture to report on", read),
	OPT("output", 'o', CT_ARG_STRING, "FILE", "write the HTML report to FILE (- for stdout)",
	    report_out),
	OPT("duration", 0, CT_ARG_SECS, "SECS", "live: watch for SECS, then write the report (0:\n"
	    "until Ctrl-C)", duration_ns, .min = 0, .max = 7 * 86400),
	END,
};

static const struct ct_opt common_opts[] = {
	OPT("quiet", 'q', CT_ARG_FLAG, NULL,
	    "no start and summary lines on stderr (warnings and\nerrors still)", quiet),
	OPT("verbose", 'v', CT_ARG_COUNT, NULL,
	    "more on stderr: what was attached how, counters at\n"
	    "exit, and libbpf's warnings with the verifier's log\n"
	    "when the kernel refuses a program; -vv: libbpf's\n"
	    "informational messages; -vvv: its debug output",
	    verbose),
	OPT("help", 'h', CT_ARG_FLAG, NULL, "this text", help),
	END,
};

static const struct ct_opt version_opts[] = {
	OPT("version", 'V', CT_ARG_FLAG, NULL, "print the version", version),
	END,
};

const struct ct_opt_group ct_grp_ifaces = { "Interface", ifaces_opts };
const struct ct_opt_group ct_grp_attach = { "Attach", attach_opts };
const struct ct_opt_group ct_grp_expiry = { "Expiry", expiry_opts };
const struct ct_opt_group ct_grp_table = { "Flow-table", table_opts };
const struct ct_opt_group ct_grp_engine = { "Engine", engine_opts };
const struct ct_opt_group ct_grp_tunnel = { "Tunnels", tunnel_opts };
const struct ct_opt_group ct_grp_select = { "Selection", select_opts };
const struct ct_opt_group ct_grp_output = { "Output", output_opts };
const struct ct_opt_group ct_grp_top = { "View", top_opts };
const struct ct_opt_group ct_grp_metrics = { "Metrics", metrics_opts };
const struct ct_opt_group ct_grp_diagnose = { "Diagnosis", diagnose_opts };
const struct ct_opt_group ct_grp_report = { "Report", report_opts };
const struct ct_opt_group ct_grp_rules = { "Rules", rules_opts };
const struct ct_opt_group ct_grp_privs = { "Privilege", privs_opts };
const struct ct_opt_group ct_grp_common = { "Common", common_opts };
static const struct ct_opt_group grp_version = { NULL, version_opts };

/* --- the top level ----------------------------------------------------------------------- */

static const struct ct_opt_group *const main_groups[] = { &ct_grp_common, &grp_version, NULL };

const struct ct_command ct_cmd_main = {
	.name = NULL,
	.synopsis = (const char *const[]){ "[-v] COMMAND [OPTIONS]", NULL },
	.description = "How TCP connections end, classified in the kernel with eBPF.",
	.groups = main_groups,
	.min_args = 1,
	.max_args = -1,
	.args_meta = "COMMAND",
	.stop_at_arg = 1,
	.examples = (const char *const[]){
		"closetrace watch -i eth0       # abnormal closes on eth0, as they happen",
		"closetrace top -i eth0         # servers ranked by server RSTs, live",
		"closetrace replay trace.pcap   # how the connections in a capture ended",
		"closetrace check               # can this kernel run closetrace? (root)",
		"closetrace -v check            # the same, with the verifier's log on failure",
		NULL },
	.notes = "Run 'closetrace COMMAND --help' (or 'closetrace help COMMAND') for a\n"
		 "command's options, 'closetrace help filter' for the fields -f EXPR takes,\n"
		 "'closetrace help reasons' for what each reset reason means.",
};

/* --- defaults ---------------------------------------------------------------------------- */

void ct_config_init(struct ct_config *c)
{
	struct ct_diag_opts d;

	memset(c, 0, sizeof(*c));
	c->mode = CT_MODE_TC;
	c->xdp_mode = CT_XDP_AUTO;
	c->syn_timeout_s = CT_DEFAULT_SYN_TIMEOUT_S;
	c->idle_timeout_s = CT_DEFAULT_IDLE_TIMEOUT_S;
	c->table_size = CT_DEFAULT_FLOWS;
	c->storm_rate = -1;
	ct_tunnels_default(&c->tunnels);
	c->engine = CT_ENGINE_USER;
	c->format = CT_FMT_TEXT;
	c->delay_ns = 1000000000ull;
	c->window_ns = 60 * 1000000000ull;
	c->group = CT_G_SERVER;
	c->sort = CT_COL_RST_SRV;
	c->max_flows = CT_AGG_MAX_FLOWS;
	c->max_groups = CT_AGG_MAX_GROUPS;
	c->metrics_top = CT_METRICS_APPS_DEFAULT;
	ct_diag_opts_default(&d);
	c->min_closes = (long)d.min_closes;
	c->refused_share = (long)(d.refused_share * 100 + 0.5);
	c->reset_share = (long)(d.reset_share * 100 + 0.5);
	c->storm_conns = d.storm_conns;
	c->storm_window_ns = d.storm_window_ns;
	c->scan_ports = d.scan_ports;
	c->scan_hosts = d.scan_hosts;
	c->scan_window_ns = d.scan_window_ns;
	c->spike_min = d.spike_min;
	c->spike_factor = (long)d.spike_factor;
	c->spike_interval_ns = d.spike_interval_ns;
	ct_zones_init(&c->zones);
}

void ct_config_diag(const struct ct_config *c, struct ct_diag_opts *o)
{
	ct_diag_opts_default(o);
	o->min_closes = (__u64)c->min_closes;
	o->refused_share = (double)c->refused_share / 100;
	o->reset_share = (double)c->reset_share / 100;
	o->storm_conns = (unsigned int)c->storm_conns;
	o->storm_window_ns = c->storm_window_ns;
	o->scan_ports = (unsigned int)c->scan_ports;
	o->scan_hosts = (unsigned int)c->scan_hosts;
	o->scan_window_ns = c->scan_window_ns;
	o->spike_min = (unsigned int)c->spike_min;
	o->spike_factor = (double)c->spike_factor;
	o->spike_interval_ns = c->spike_interval_ns;
}

void ct_config_free(struct ct_config *c)
{
	ct_filter_free(c->filter);
	c->filter = NULL;
	ct_zones_free(&c->zones);
}

int ct_validate_live(const struct ct_command *cmd, struct ct_config *c)
{
	if (c->nmetrics_ports && !c->metrics)
		return ct_usage_error(cmd, "--metrics-ports goes with --metrics");
	if (c->web_config && !c->metrics)
		return ct_usage_error(cmd, "--web-config goes with --metrics");
	if (c->metrics_by && !c->metrics)
		return ct_usage_error(cmd, "--metrics-by goes with --metrics");
	if (c->metrics_top != CT_METRICS_APPS_DEFAULT && !c->metrics_by)
		return ct_usage_error(cmd, "--metrics-top goes with --metrics-by");
	if (c->metrics_by && c->mode == CT_MODE_XDP)
		return ct_usage_error(cmd, "--metrics-by needs --mode tc: XDP sees no socket "
				      "of this host");
	if (c->xdp_mode != CT_XDP_AUTO && c->mode != CT_MODE_XDP)
		return ct_usage_error(cmd, "--xdp-mode goes with --mode xdp");
	if (c->force && c->mode != CT_MODE_XDP)
		return ct_usage_error(cmd, "--force goes with --mode xdp");
	return 0;
}

void ct_config_replay(const struct ct_config *c, const struct ct_rec_out *out,
		      struct ct_replay_opts *o)
{
	*o = (struct ct_replay_opts){
		.engine = (enum ct_engine_kind)c->engine, .table_size = (__u32)c->table_size,
		/* offline, every close is a record unless a storm rate is asked for */
		.storm_rate = (__u32)(c->storm_rate < 0 ? 0 : c->storm_rate),
		.out = *out, .zones = &c->zones, .tunnels = &c->tunnels,
	};
	ct_config_expiry(c, &o->exp);
}

void ct_config_live(const struct ct_config *c, int emit_graceful, const struct ct_rec_out *out,
		    struct ct_live_opts *o)
{
	*o = (struct ct_live_opts){
		.ifaces = c->ifaces, .nifaces = c->nifaces, .xdp = c->mode == CT_MODE_XDP,
		.xdp_mode = (enum ct_xdp_mode)c->xdp_mode, .force = c->force,
		.table_size = (__u32)c->table_size,
		.storm_rate = (__u32)(c->storm_rate < 0 ? CT_DEFAULT_STORM_RATE : c->storm_rate),
		.emit_graceful = emit_graceful, .metrics = c->metrics,
		.metrics_addr = &c->metrics_addr, .metrics_ports = c->metrics_ports,
		.nmetrics_ports = c->nmetrics_ports, .web_config = c->web_config, .user = c->user,
		.metrics_by = c->metrics_by, .metrics_top = (int)c->metrics_top,
		.zones = &c->zones, .tunnels = &c->tunnels,
		.uid = c->uid, .gid = c->gid,
		.out = *out, .beside = c->no_agent, .wait_iface = c->wait_iface,
	};
	ct_config_expiry(c, &o->exp);
}

int ct_config_view(const struct ct_config *c, const char *name, __u32 flags,
		   const struct ct_rec_out *out, struct ct_viewer *v)
{
	struct ct_viewer_opts o = {
		.ifaces = c->ifaces, .nifaces = c->nifaces, .name = name, .flags = flags,
		.zones = &c->zones, .out = *out, .all = c->all,
	};

	/*
	 * what only an agent of its own can do (serve metrics, attach in another mode, size
	 * its table, time its flows out, wait for its interfaces) asks for one: attached as
	 * usual, beside an agent where the kernel allows it, else refused as before
	 */
	if (c->no_agent || c->metrics || c->mode == CT_MODE_XDP || c->force || c->user ||
	    c->table_size != CT_DEFAULT_FLOWS || c->storm_rate >= 0 || c->wait_iface ||
	    c->syn_timeout_s != CT_DEFAULT_SYN_TIMEOUT_S ||
	    c->idle_timeout_s != CT_DEFAULT_IDLE_TIMEOUT_S || !ct_tunnels_is_default(&c->tunnels))
		return 1;
	o.announce = !strcmp(name, "watch");
	return ct_viewer_start(v, &o);
}

/*
 * The text's IFACE column: as wide as the longest name watched (and its header); in
 * replay, a label for each capture (#1, #2: each named once, on stderr), and none for a
 * single capture.
 */
/* The APP column comes in narrow text from this terminal width on (the rest takes 116). */
#define CT_APP_COLUMNS 150

/* Whether standard output is a terminal of CT_APP_COLUMNS columns or more. */
static int wide_terminal(void)
{
	struct winsize ws;

	return isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) &&
	       ws.ws_col >= CT_APP_COLUMNS;
}

static unsigned int iface_width(const struct ct_config *c)
{
	unsigned int w = 0;

	for (int i = 0; i < c->nifaces; i++) {
		unsigned int n = ct_text_name_width(c->ifaces[i]);

		w = n > w ? n : w;
	}
	/* several captures: their labels, #1 to #N */
	if (!c->nifaces && c->nargs > 1)
		w = (unsigned int)snprintf(NULL, 0, "#%d", c->nargs);
	return w && w < 5 ? 5 : w;	/* "IFACE" */
}

void ct_config_output(const struct ct_config *c, struct ct_output_opts *o)
{
	*o = (struct ct_output_opts){
		.iface_width = iface_width(c),
		/* the kernel names its RSTs' reasons to the tc programs; replay has none */
		.reasons = c->nifaces && c->mode == CT_MODE_TC,
		/* this host's sockets pass on tc; the column needs a terminal that holds it */
		.apps = c->nifaces && c->mode == CT_MODE_TC && (c->wide || wide_terminal()),
		.labels = !c->nifaces && c->nargs > 1 ? c->args : NULL,
		.nlabels = !c->nifaces && c->nargs > 1 ? c->nargs : 0,
		.fmt = (enum ct_format)c->format, .all = c->all, .final = c->final,
		.wide = c->wide, .filter = c->filter, .file = c->output_file,
		.rotate_size = c->rotate_size, .rotate_keep = c->rotate_keep, .user = c->user,
		.uid = c->uid, .gid = c->gid,
	};
}

void ct_config_expiry(const struct ct_config *c, struct ct_expiry *e)
{
	e->syn_timeout_ns = (__u64)c->syn_timeout_s * 1000000000ull;
	e->idle_timeout_ns = (__u64)c->idle_timeout_s * 1000000000ull;
	e->linger_ns = CT_DEFAULT_LINGER_S * 1000000000ull;
}

/* --- parsing ----------------------------------------------------------------------------- */

/* "closetrace CMD", or "closetrace" for the top level: how messages and help name it. */
static const char *cmd_label(const struct ct_command *cmd)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "closetrace%s%s", cmd->name ? " " : "",
		 cmd->name ? cmd->name : "");
	return buf;
}

int ct_usage_error(const struct ct_command *cmd, const char *fmt, ...)
{
	char raw[1024], safe[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* the message quotes what was typed: no control byte of it reaches the terminal */
	ct_text_escape(raw, safe, sizeof(safe));
	fprintf(stderr, "%s: %s\n", cmd_label(cmd), safe);
	fprintf(stderr, "try '%s --help'\n", cmd_label(cmd));
	return 2;
}

static void choices_text(const struct ct_opt *o, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < o->nchoices; i++)
		ct_put(buf, len, &off, "%s%s", i ? (i == o->nchoices - 1 ? " or " : ", ") : "",
		       o->choice(i));
}

/* Store @arg for @o; 0, or 2 after a usage error. */
static int set_opt(const struct ct_command *cmd, const struct ct_opt *o, const char *arg,
		   struct ct_config *c)
{
	char *field = (char *)c + o->off, name[48], err[256];
	long v;

	snprintf(name, sizeof(name), "--%s", o->name);
	switch (o->type) {
	case CT_ARG_FLAG:
		*(int *)field = 1;
		return 0;
	case CT_ARG_COUNT:
		(*(int *)field)++;
		return 0;
	case CT_ARG_LONG:
		/* past the maximum, a check says why (what it would cost) where there is one */
		if (ct_parse_long(arg, (long)o->min, o->check ? LONG_MAX : (long)o->max, &v))
			return ct_usage_error(cmd, "%s takes a whole number from %ld to %ld, not '%s'",
					      name, (long)o->min, (long)o->max, arg);
		if (o->check && o->check(v, err, sizeof(err)))
			return ct_usage_error(cmd, "%s: %s", name, err);
		*(long *)field = v;
		return 0;
	case CT_ARG_SECS:
		if (ct_parse_secs(arg, o->min, o->max, (__u64 *)field))
			return ct_usage_error(cmd, "%s takes %g to %g seconds, not '%s'", name, o->min,
					      o->max, arg);
		return 0;
	case CT_ARG_CHOICE:
		for (int i = 0; i < o->nchoices; i++) {
			if (!strcasecmp(arg, o->choice(i))) {
				*(int *)field = i;
				return 0;
			}
		}
		choices_text(o, err, sizeof(err));
		return ct_usage_error(cmd, "%s takes %s, not '%s'", name, err, arg);
	case CT_ARG_IFACES: {
		char **names = (char **)field;
		int *n = &c->nifaces, named = 0;

		/* the list is split in place: the names point into argv */
		for (char *tok = strtok((char *)arg, ","); tok; tok = strtok(NULL, ",")) {
			if (*n >= CT_MAX_IFACES)
				return ct_usage_error(cmd, "at most %d interfaces", CT_MAX_IFACES);
			for (int k = 0; k < *n; k++)
				if (!strcmp(names[k], tok))
					return ct_usage_error(cmd, "interface %s is given twice", tok);
			names[(*n)++] = tok;
			named = 1;
		}
		if (!named)
			return ct_usage_error(cmd, "%s needs an interface name", name);
		return 0;
	}
	case CT_ARG_FILTER: {
		struct ct_filter_error ferr;
		struct ct_filter *f = ct_filter_parse(arg, &ferr);
		if (!f) {
			ct_filter_perror(stderr, cmd_label(cmd), arg, &ferr);
			fprintf(stderr, "the fields and operators: 'closetrace help filter'\n");
			return 2;
		}
		ct_filter_free(*(struct ct_filter **)field);
		*(struct ct_filter **)field = f;
		c->filter_text = arg;
		return 0;
	}
	case CT_ARG_STRING:
		*(const char **)field = arg;
		return 0;
	case CT_ARG_CUSTOM:
		if (o->parse(arg, c, err, sizeof(err)))
			return ct_usage_error(cmd, "%s %s", name, err);
		return 0;
	}
	return 0;
}

/* The commands that have an option @spelled (a letter, or a long name), as a list. */
static int owners_of(int letter, const char *spelled, char *buf, size_t len)
{
	size_t off = 0;
	int n = 0;

	buf[0] = '\0';
	for (int i = 0; ct_commands[i]; i++) {
		int has = 0;

		for (int g = 0; ct_commands[i]->groups && ct_commands[i]->groups[g]; g++)
			for (const struct ct_opt *o = ct_commands[i]->groups[g]->opts; o->name; o++)
				has |= letter ? o->key == letter : !strcmp(o->name, spelled);
		if (has)
			ct_put(buf, len, &off, "%s%s", n++ ? ", " : "", ct_commands[i]->name);
	}
	return n;
}

/* The long options of @cmd that begin with @prefix, as a list; how many. */
static int starting_with(const struct ct_command *cmd, const char *prefix, char *buf,
			 size_t len)
{
	size_t off = 0;
	int n = 0;

	buf[0] = '\0';
	for (int g = 0; cmd->groups && cmd->groups[g]; g++)
		for (const struct ct_opt *o = cmd->groups[g]->opts; o->name; o++)
			if (!strncmp(o->name, prefix, strlen(prefix)))
				ct_put(buf, len, &off, "%s--%s", n++ ? ", " : "", o->name);
	return n;
}

static int unknown_option(const struct ct_command *cmd, const char *arg, int letter)
{
	char spelled[64], list[256];
	const char *eq;
	int n;

	if (letter) {
		snprintf(spelled, sizeof(spelled), "-%c", letter);
	} else {
		eq = strchr(arg, '=');
		snprintf(spelled, sizeof(spelled), "%.*s", (int)(eq ? eq - arg : (long)strlen(arg)),
			 arg);
		/* getopt_long takes unique abbreviations; this one fits several */
		if (!strncmp(spelled, "--", 2) && starting_with(cmd, spelled + 2, list,
								  sizeof(list)) > 1)
			return ct_usage_error(cmd, "%s is ambiguous: %s", spelled, list);
	}
	n = owners_of(letter, letter ? NULL : spelled + 2, list, sizeof(list));
	if (n)
		return ct_usage_error(cmd, "%s is not an option of %s (%s take%s it)", spelled,
				      cmd->name ? cmd->name : "closetrace itself", list,
				      n > 1 ? "" : "s");
	return ct_usage_error(cmd, "unknown option '%s'", spelled);
}

/* The option getopt_long returned as @code: 1000 + its index, or its letter. */
static const struct ct_opt *find_opt(const struct ct_opt *const *by_index, int n, int code)
{
	if (code >= 1000 && code < 1000 + n)
		return by_index[code - 1000];
	for (int i = 0; i < n && code; i++)
		if (by_index[i]->key == code)
			return by_index[i];
	return NULL;
}

/*
 * getopt_long's '?' (an unknown option, or a value given to a flag) or ':' (a value
 * missing) for @arg, the word it was reading; @o is the option concerned, if known.
 */
static int option_error(const struct ct_command *cmd, int ch, const char *arg,
			const struct ct_opt *o)
{
	if (ch == '?' && o)
		return ct_usage_error(cmd, "--%s takes no value", o->name);
	if (ch == '?')
		return unknown_option(cmd, arg, optopt);
	/* as the user wrote it: -i, or --interface */
	if (optopt && optopt < 1000)
		return ct_usage_error(cmd, "-%c needs a value (%s)", optopt, o ? o->meta : "?");
	return ct_usage_error(cmd, "%s needs a value (%s)", arg, o ? o->meta : "?");
}

int ct_parse_args(const struct ct_command *cmd, int argc, char **argv, struct ct_config *c)
{
	const struct ct_opt *by_index[MAX_OPTS], *o;
	struct option lopts[MAX_OPTS + 1];
	char shorts[2 * MAX_OPTS + 3];
	size_t ns = 0;
	int n = 0, ch, idx, r;

	/* ':' first: a missing argument is told apart from an unknown option */
	shorts[ns++] = cmd->stop_at_arg ? '+' : ':';
	if (cmd->stop_at_arg)
		shorts[ns++] = ':';
	for (int g = 0; cmd->groups && cmd->groups[g]; g++) {
		for (const struct ct_opt *o = cmd->groups[g]->opts; o->name && n < MAX_OPTS; o++) {
			int has_arg = o->type != CT_ARG_FLAG && o->type != CT_ARG_COUNT;

			by_index[n] = o;
			lopts[n] = (struct option){ o->name, has_arg ? required_argument : no_argument,
						    NULL, 1000 + n };
			if (o->key) {
				shorts[ns++] = (char)o->key;
				if (has_arg)
					shorts[ns++] = ':';
			}
			n++;
		}
	}
	lopts[n] = (struct option){ 0 };
	shorts[ns] = '\0';

	opterr = 0;
	optind = 0;	/* 0, not 1: glibc then forgets a previous parse's state too */
	while ((optopt = 0, ch = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		if (ch == '?' || ch == ':')
			return option_error(cmd, ch, argv[optind - 1],
					    find_opt(by_index, n, optopt));
		o = find_opt(by_index, n, ch);
		if (!o)
			return ct_usage_error(cmd, "cannot read the options");
		r = set_opt(cmd, o, optarg, c);
		if (r)
			return r;
		if (c->help) {
			ct_print_help(cmd, stdout);
			return 1;
		}
	}
	c->args = argv + optind;
	c->nargs = argc - optind;
	if (c->version)
		return 0;
	if (c->nargs < cmd->min_args && !cmd->name) {
		char list[128];
		size_t off = 0;

		for (int i = 0; ct_commands[i]; i++)
			ct_put(list, sizeof(list), &off, "%s%s", i ? ", " : "", ct_commands[i]->name);
		return ct_usage_error(cmd, "a command is required: %s", list);
	}
	if (c->nargs < cmd->min_args)
		return ct_usage_error(cmd, "%s is required", cmd->args_meta);
	if (cmd->max_args >= 0 && c->nargs > cmd->max_args)
		return ct_usage_error(cmd, "unexpected argument '%s'", c->args[cmd->max_args]);
	return cmd->validate ? cmd->validate(cmd, c) : 0;
}

/* --- help -------------------------------------------------------------------------------- */

/* The default of @o in @d as help shows it, or "" when it has none worth saying. */
static void default_text(const struct ct_opt *o, const struct ct_config *d, int live,
			 char *buf, size_t len)
{
	const char *field = (const char *)d + o->off;

	buf[0] = '\0';
	if (!live && o->def_offline) {
		snprintf(buf, len, "%s", o->def_offline);
		return;
	}
	if (o->def_text) {
		snprintf(buf, len, "%s", o->def_text);
		return;
	}
	switch (o->type) {
	case CT_ARG_LONG:
		snprintf(buf, len, "%ld", *(const long *)field);
		break;
	case CT_ARG_SECS:
		snprintf(buf, len, "%g", (double)*(const __u64 *)field / 1e9);
		break;
	case CT_ARG_CHOICE:
		snprintf(buf, len, "%s", o->choice(*(const int *)field));
		break;
	default:
		break;
	}
}

/* A help text and, for a live command, its live line: "@help\n@help_live" in @buf. */
static const char *help_for(const struct ct_opt *o, int live, char *buf, size_t len)
{
	if (!live || !o->help_live)
		return o->help;
	snprintf(buf, len, "%s\n%s", o->help, o->help_live);
	return buf;
}

static void print_opt(const struct ct_opt *o, const struct ct_config *d, int live, FILE *out)
{
	char left[64], def[96], text[512];
	const char *h = help_for(o, live, text, sizeof(text)), *nl;
	size_t off = 0;

	if (o->key)
		ct_put(left, sizeof(left), &off, "-%c, ", o->key);
	else
		ct_put(left, sizeof(left), &off, "    ");
	ct_put(left, sizeof(left), &off, "--%s", o->name);
	if (o->meta)
		ct_put(left, sizeof(left), &off, " %s", o->meta);
	default_text(o, d, live, def, sizeof(def));
	for (int first = 1; h; first = 0) {
		int len;

		nl = strchr(h, '\n');
		len = (int)(nl ? nl - h : (long)strlen(h));
		fprintf(out, "  %-24s %.*s", first ? left : "", len, h);
		h = nl ? nl + 1 : NULL;
		/* the default ends the last line, or has a line of its own past 80 columns */
		if (!h && def[0] && 27 + len + 11 + strlen(def) > 80)
			fprintf(out, "\n  %-24s (default %s)", "", def);
		else if (!h && def[0])
			fprintf(out, " (default %s)", def);
		fputc('\n', out);
	}
}

void ct_print_help(const struct ct_command *cmd, FILE *out)
{
	struct ct_config d;

	ct_config_init(&d);
	for (int i = 0; cmd->synopsis[i]; i++)
		fprintf(out, "%s %s %s\n", i ? "      " : "Usage:", cmd_label(cmd),
			cmd->synopsis[i]);
	fprintf(out, "\n%s\n", cmd->description);
	if (!cmd->name) {
		fprintf(out, "\nCommands:\n");
		for (int i = 0; ct_commands[i]; i++)
			fprintf(out, "  %-10s %s\n", ct_commands[i]->name, ct_commands[i]->summary);
	}
	for (int g = 0; cmd->groups && cmd->groups[g]; g++) {
		if (cmd->groups[g]->title)
			fprintf(out, "\n%s options:\n", cmd->groups[g]->title);
		for (const struct ct_opt *o = cmd->groups[g]->opts; o->name; o++)
			print_opt(o, &d, cmd->live, out);
	}
	if (cmd->notes)
		fprintf(out, "\n%s\n", cmd->notes);
	if (cmd->examples) {
		fprintf(out, "\nEXAMPLES:\n");
		for (int i = 0; cmd->examples[i]; i++)
			fprintf(out, "  %s\n", cmd->examples[i]);
	}
}

int ct_config_every_close(const struct ct_config *c, const char *name, const char *doing,
			  const struct ct_rec_out *out, struct ct_diag *d)
{
	static struct ct_live l;
	static struct ct_viewer v;
	struct ct_live_opts lo;
	__u64 until = c->duration_ns ? ct_mono_ns() + c->duration_ns : 0;
	int ret;

	ct_catch_stop_signals(CT_HUP_TERMINAL, 0);
	/* an agent watches there: its records, without a program of our own */
	ret = ct_config_view(c, name, 0, out, &v);
	if (ret <= 0) {
		if (ret < 0)
			return 1;
		/* the agent's records name owners when it runs the socket tracepoints */
		ct_diag_set_owners(d, (int)v.a[0].hello.owners);
		pr_note("%s %s through the agent (pid %u)%s; Ctrl-C stops\n", doing,
			v.a[0].iface, v.a[0].hello.pid, c->duration_ns ? " for --duration" : "");
		ret = ct_viewer_run(&v, until);
		ct_viewer_end(&v);
		return ret;
	}
	/* every close counts: the kernel reports graceful ones too */
	ct_config_live(c, 1, out, &lo);
	lo.announce = 1;
	lo.all = 1;
	if (ct_live_start(&l, &lo)) {
		ct_live_end(&l, 0);
		return 1;
	}
	/* which refusals came from no socket of this host can be told only with them */
	ct_diag_set_owners(d, l.state_link != NULL);
	ret = ct_live_run(&l, until);
	ct_live_end(&l, 0);
	return ret;
}
