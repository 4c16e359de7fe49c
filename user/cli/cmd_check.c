// SPDX-License-Identifier: BSD-3-Clause
/*
 * cmd_check.c - `closetrace check`: loads the BPF programs and reports what this kernel
 * accepted (sizes, verified instructions), or why it refused them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "closetrace.h"
#include "closetrace.skel.h"
#include "kfeatures.h"
#include "loader.h"
#include "log.h"
#include "options.h"
#include "text.h"
#include "reasons_btf.h"
#include "cgroups.h"
#include "resets.skel.h"
#include "ct_expiry.h"
#include "scan.skel.h"
#include "share.h"

static int prog_line(struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(prog);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		pr_warn("cannot read information on program %s: %s\n", bpf_program__name(prog),
			strerror(errno));
		return -1;
	}
	printf("program      %-16s %-14s %5u insns, %u verified, jited %u B\n",
	       bpf_program__name(prog), libbpf_bpf_prog_type_str(bpf_program__type(prog)),
	       info.xlated_prog_len / 8, info.verified_insns, info.jited_prog_len);
	return 0;
}

#define OFF "CLOSETRACE_DISABLE turns it off"

/* One optional feature: its name, accepted / refused / absent / off, and what that means. */
static void feature_line(enum ct_feature f, const char *state, const char *what)
{
	printf("feature      %-10s %-9s %s\n", ct_feature_name(f), state, what);
}

/* Refused, absent or off: the line says what users get instead. */
/* the features missing, for the result line */
static char missing[128];

static void fallback_line(enum ct_feature f, const char *state, const char *why)
{
	char what[512];
	size_t off = strlen(missing);

	snprintf(missing + off, sizeof(missing) - off, "%s%s %s", off ? ", " : "",
		 ct_feature_name(f), state);
	snprintf(what, sizeof(what), "%s: %s", why, ct_feature_fallback(f));
	feature_line(f, state, what);
}

/*
 * The socket tracepoints, which the reset object holds (@rs NULL: it did not load, @why
 * says why), and the cgroup2 mount that names their cgroups. Returns the programs' line
 * status; counts a fallback in *@degraded.
 */
static int owners_line(struct resets *rs, const struct ct_load_opts *lo, const char *why,
		       int *degraded)
{
	struct ct_cgroups *cg;
	char what[512];
	int ret = 0;

	if (!lo->owners) {
		fallback_line(CT_FEAT_OWNERS, "off", OFF);
		++*degraded;
		return 0;
	}
	if (!rs) {
		fallback_line(CT_FEAT_OWNERS, "absent", why);
		++*degraded;
		return 0;
	}
	cg = ct_cgroups_open(NULL);
	if (cg)
		snprintf(what, sizeof(what), "inet_sock_set_state, tcp_retransmit_skb: the process "
			 "behind each local socket; cgroup2 at %s names %u cgroups",
			 ct_cgroups_mount(cg), ct_cgroups_count(cg));
	else
		snprintf(what, sizeof(what), "inet_sock_set_state, tcp_retransmit_skb: the process "
			 "behind each local socket; no cgroup2 mount here: no unit, container "
			 "or pod names");
	ct_cgroups_free(cg);
	feature_line(CT_FEAT_OWNERS, "accepted", what);
	ret |= prog_line(rs->progs.ct_sock_state);
	ret |= prog_line(rs->progs.ct_retransmit);
	return ret;
}

/*
 * The reset tracepoints: what the kernel's BTF says of them, and whether their programs
 * load. Their absence is no failure: closes are still told, only without reasons.
 * Returns the programs' line status (-1: a program's information could not be read) and
 * counts a fallback in *@degraded.
 */
static int check_resets(struct closetrace *skel, const struct ct_load_opts *base,
			int *degraded)
{
	struct ct_load_opts lo = *base;
	struct ct_reasons r;
	struct resets *rs;
	char err[256], what[256];
	int ret = 0;

	lo.owners = !ct_feature_off(CT_FEAT_OWNERS);
	if (ct_feature_off(CT_FEAT_RESETS)) {
		fallback_line(CT_FEAT_RESETS, "off", OFF);
		owners_line(NULL, &lo, "the reset programs, which hold them, are off", degraded);
		++*degraded;
		return 0;
	}
	if (ct_reasons_probe(&r, err, sizeof(err))) {
		fallback_line(CT_FEAT_RESETS, "absent", err);
		owners_line(NULL, &lo, err, degraded);
		++*degraded;
		return 0;
	}
	lo.progs |= CT_PROG_RESET;
	lo.reasons = &r;
	rs = ct_load_resets(skel, &lo, err, sizeof(err));
	if (!rs) {
		fallback_line(CT_FEAT_RESETS, "refused", err);
		owners_line(NULL, &lo, err, degraded);
		++*degraded;
		return 0;
	}
	if (r.reason_arg)
		snprintf(what, sizeof(what), "tcp_send_reset with %d reasons named in BTF%s",
			 r.nnames, r.receive_reset ? ", tcp_receive_reset" : "");
	else
		snprintf(what, sizeof(what), "tcp_send_reset without reasons (before 6.10): "
			 "socket states only%s", r.receive_reset ? ", tcp_receive_reset" : "");
	feature_line(CT_FEAT_RESETS, "accepted", what);
	ret |= prog_line(rs->progs.ct_send_reset);
	if (r.receive_reset)
		ret |= prog_line(rs->progs.ct_receive_reset);
	ret |= owners_line(rs, &lo, NULL, degraded);
	ct_unload_resets(rs);
	return ret;
}

/* The expiry scans' first cut in the kernel: optional, whole-table reads without it. */
static int check_scan(struct closetrace *skel, int *degraded)
{
	struct scan *sc;
	struct bpf_link *link;
	char err[256];
	int ret, e;

	link = ct_load_scan(bpf_map__fd(skel->maps.flows), &sc, err, sizeof(err));
	if (!link) {
		e = errno;
		if (e == ECANCELED)
			fallback_line(CT_FEAT_SCAN_ITER, "off", OFF);
		else
			fallback_line(CT_FEAT_SCAN_ITER, e == ENOENT ? "absent" : "refused", err);
		++*degraded;
		return 0;
	}
	feature_line(CT_FEAT_SCAN_ITER, "accepted",
		     "expiry scans read only the flows that may go (a map iterator)");
	ret = prog_line(sc->progs.ct_scan_cut);
	ct_unload_scan(link, sc);
	return ret;
}

/* tcx links: asked of the kernel's BTF, since a link needs an interface to be made on. */
static void check_tcx(int *degraded)
{
	int tcx = ct_probe_tcx();

	if (ct_feature_off(CT_FEAT_TCX))
		fallback_line(CT_FEAT_TCX, "off", OFF);
	else if (tcx == 1)
		feature_line(CT_FEAT_TCX, "accepted", "tc programs attach as tcx links, first in "
			     "line, gone with the process");
	else
		fallback_line(CT_FEAT_TCX, "absent", tcx ? "no kernel BTF to tell" :
			      "this kernel has no tcx links (before 6.6)");
	*degraded += ct_feature_off(CT_FEAT_TCX) || tcx != 1;
}

/* The interfaces given (-i) exist: 0, or -1 after naming the first that does not. */
static int ifaces_exist(const struct ct_config *c)
{
	char name[64];

	for (int i = 0; i < c->nifaces; i++)
		if (!if_nametoindex(c->ifaces[i])) {
			ct_text_escape(c->ifaces[i], name, sizeof(name));
			pr_warn("%s: no such interface\n", name);
			return -1;
		}
	return 0;
}

/*
 * Native XDP on the interfaces given (-i): what their drivers say, without attaching
 * anything (a native attach can reset a NIC's queues). Where only generic XDP runs,
 * watch --mode xdp still works, at more cost a packet.
 */
static void check_xdp(const struct ct_config *c)
{
	for (int i = 0; i < c->nifaces; i++) {
		char name[64];
		int native = ct_probe_xdp_native((int)if_nametoindex(c->ifaces[i]));

		ct_text_escape(c->ifaces[i], name, sizeof(name));
		if (native == 1)
			printf("interface    %-10s native XDP: yes (watch --mode xdp runs in the "
			       "driver)\n", name);
		else if (!native)
			printf("interface    %-10s native XDP: no (watch --mode xdp runs generic XDP, "
			       "at more cost a packet)\n", name);
		else
			printf("interface    %-10s native XDP: cannot tell (%s; before 6.3): watch "
			       "--mode xdp tries native, then generic\n", name, strerror(-native));
	}
}

/* The agents sharing their sessions here (share.h), and who views them. */
static void agents(void)
{
	DIR *dir = opendir(ct_share_dir());
	struct dirent *e;
	int n = 0;

	while (dir && (e = readdir(dir))) {
		size_t len = strlen(e->d_name);
		struct ct_share_hello h;
		char iface[IF_NAMESIZE + 8], err[512], who[512] = "";
		const char *at = strchr(e->d_name, '@');
		size_t off = 0;
		int fd;

		if (!at || len < 7 || strcmp(e->d_name + len - 5, ".sock") ||
		    at - e->d_name >= IF_NAMESIZE)
			continue;
		snprintf(iface, sizeof(iface), "%.*s", (int)(at - e->d_name), e->d_name);
		n++;
		/* another network namespace's: named, not joined */
		if (strtoul(at + 1, NULL, 10) != ct_share_netns()) {
			printf("agent        %s: in another network namespace (%.*s)\n", iface,
			       (int)(len - 5 - (size_t)(at + 1 - e->d_name)), at + 1);
			continue;
		}
		fd = ct_share_connect(iface, &h, err, sizeof(err));
		if (fd == -1) {
			printf("agent        %s: a socket left by an agent gone (no agent runs)\n",
			       iface);
			continue;
		}
		if (fd < 0) {
			printf("agent        %s\n", err);
			continue;
		}
		close(fd);
		for (__u32 i = 0; i < h.viewers && i < sizeof(h.who) / sizeof(h.who[0]); i++) {
			h.who[i].name[sizeof(h.who[i].name) - 1] = '\0';
			ct_put(who, sizeof(who), &off, " %s[%u]", h.who[i].name, h.who[i].pid);
		}
		printf("agent        %s: watched by pid %u (%s), %u viewer%s%s%s\n", iface, h.pid,
		       h.xdp ? "xdp" : "tc", h.viewers, h.viewers == 1 ? "" : "s", h.viewers ? ":" :
		       "", who);
	}
	if (dir)
		closedir(dir);
	if (!n)
		printf("agent        none shares a session here (%s): watch, top and diagnose "
		       "attach their own programs\n", ct_share_dir());
}

static int run_check(struct ct_config *c)
{
	/* the branches watch's defaults keep (graceful events, storm summaries) verified too */
	struct ct_load_opts lo = { .flows = (__u32)c->table_size, .emit_graceful = 1,
				   .storm_rate = CT_DEFAULT_STORM_RATE,
				   .owners = !ct_feature_off(CT_FEAT_OWNERS) };
	struct closetrace *skel;
	struct utsname uts;
	char err[256];
	int ret = 0, degraded = 0, loop;

	if (ifaces_exist(c))
		return 1;
	if (!uname(&uts))
		printf("kernel       %s %s (closetrace needs " CT_MIN_KERNEL " or later)\n",
		       uts.release, uts.machine);
	agents();
	loop = ct_probe_bpf_loop();
	if (!loop) {
		/* the packet programs cannot load: say why before the loader's error */
		printf("needs        bpf_loop (Linux %s or later): missing\n", CT_MIN_KERNEL);
		printf("result       cannot run: this kernel is too old (Linux %s or later)\n",
		       CT_MIN_KERNEL);
		return 1;
	}
	if (loop > 0)
		printf("needs        bpf_loop (Linux %s or later): present\n", CT_MIN_KERNEL);
	skel = ct_load(&lo, err, sizeof(err));
	if (!skel) {
		printf("result       cannot run: %s\n", err);
		return 1;
	}
	ret |= prog_line(skel->progs.ct_xdp);
	ret |= prog_line(skel->progs.ct_tc);
	check_tcx(&degraded);
	ret |= check_resets(skel, &lo, &degraded);
	ret |= check_scan(skel, &degraded);
	check_xdp(c);
	{
		__u32 n = bpf_map__max_entries(skel->maps.flows);
		double bytes = ct_table_bytes((long)n);

		/* one figure a flow: what --table-size's help and closetrace(8) say */
		printf("flow table   %u flows, %.0f B each (key %zu B and value %zu B, the "
		       "kernel's element, bucket and ring slots): %.1f MiB\n", n, bytes / n,
		       sizeof(struct ct_flow_key), sizeof(struct ct_flow), bytes / 1048576);
	}
	printf("ring buffer  %u KiB, event %zu B (%zu B in a tunnel)\n",
	       bpf_map__max_entries(skel->maps.events) / 1024, (size_t)CT_EVENT_PLAIN_SIZE,
	       sizeof(struct ct_event));
	if (ret)
		printf("result       ok, but program information is incomplete (-v says why)\n");
	else if (degraded)
		printf("result       degraded: %s (closetrace runs; the feature lines say what "
		       "is lost)\n", missing);
	else
		printf("result       ok\n");
	ct_unload(skel);
	return ret ? 1 : 0;
}

static const struct ct_opt_group *const check_groups[] = {
	&ct_grp_ifaces, &ct_grp_table, &ct_grp_common, NULL,
};

const struct ct_command ct_cmd_check = {
	.name = "check",
	.synopsis = (const char *const[]){ "[OPTIONS]", NULL },
	.summary = "load the BPF programs and report what this kernel accepted",
	.description =
		"Loads closetrace's BPF programs, without attaching them, and reports what this\n"
		"kernel accepted: program sizes, verified instructions, the flow table's memory.\n"
		"Each optional kernel feature (tcx, resets, scan-iter, owners) is named, accepted or not,\n"
		"with what closetrace does without it; with -i, whether each interface's driver\n"
		"runs XDP natively; the agents sharing their sessions here, and their viewers.\n"
		"Needs Linux " CT_MIN_KERNEL " or later, and root (or CAP_BPF and CAP_PERFMON).\n"
		"With -v, a refusal shows the verifier's log.",
	.groups = check_groups,
	.max_args = 0,
	.examples = (const char *const[]){
		"closetrace check                         # can this kernel run closetrace?",
		"closetrace check --table-size 1048576    # ... with a table of 1M flows",
		"closetrace check -i eth0                 # ... and native XDP on eth0",
		"closetrace -v check                      # the verifier's log on a refusal",
		NULL },
	.run = run_check,
};
