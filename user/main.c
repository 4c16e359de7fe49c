// SPDX-License-Identifier: BSD-3-Clause
/*
 * main.c - subcommand dispatch, common options (-v, --help, --version) and the `check`
 * command, which loads the BPF programs and reports what this kernel accepted.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "closetrace.h"
#include "closetrace.skel.h"
#include "loader.h"
#include "log.h"

#ifndef CT_VERSION
#define CT_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"closetrace - how TCP connections end, classified in the kernel with eBPF\n"
		"\n"
		"Usage: closetrace [-v] COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  watch        print abnormal TCP closes on live interfaces as they happen\n"
		"  top          servers / clients ranked by RSTs, refusals, resets, live or on a\n"
		"               capture, with RST per connection over time\n"
		"  replay       classify the TCP connections of pcap / pcapng captures\n"
		"  cleanup      remove what a killed closetrace left on interfaces\n"
		"  check        load the BPF programs and report what this kernel accepted\n"
		"  help         show this text\n"
		"  version      print the version\n"
		"\n"
		"Options:\n"
		"  -v, --verbose   more detail on stderr (-vv: libbpf's debug output too)\n"
		"  -h, --help      show this text\n"
		"  -V, --version   print the version\n"
		"\n"
		"Run 'closetrace COMMAND --help' for a command's options.\n"
		"\n"
		"EXAMPLES:\n"
		"  closetrace watch -i eth0       # abnormal closes on eth0, as they happen\n"
		"  closetrace top -i eth0         # servers ranked by server RSTs, live\n"
		"  closetrace replay trace.pcap   # how the connections in a capture ended\n"
		"  closetrace check        # can this kernel run closetrace? (needs root)\n"
		"  closetrace -v check     # the same, with the verifier's log on failure\n");
}

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
	printf("program      %-8s %-10s %5u insns, %u verified, jited %u B\n",
	       bpf_program__name(prog), libbpf_bpf_prog_type_str(bpf_program__type(prog)),
	       info.xlated_prog_len / 8, info.verified_insns, info.jited_prog_len);
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	struct ct_load_opts lo = {};
	struct closetrace *skel;
	struct utsname uts;
	char err[256];
	int ret = 0;

	if (argc > 1) {
		fprintf(stderr, "closetrace check: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	if (!uname(&uts))
		printf("kernel       %s %s\n", uts.release, uts.machine);
	skel = ct_load(&lo, err, sizeof(err));
	if (!skel) {
		fprintf(stderr, "closetrace: %s\n", err);
		return 1;
	}
	ret |= prog_line(skel->progs.ct_xdp);
	ret |= prog_line(skel->progs.ct_tc);
	printf("flow entry   key %zu B + value %zu B = %zu B; table of %u flows\n",
	       sizeof(struct ct_flow_key), sizeof(struct ct_flow),
	       sizeof(struct ct_flow_key) + sizeof(struct ct_flow),
	       bpf_map__max_entries(skel->maps.flows));
	printf("ring buffer  %u KiB, event %zu B\n", bpf_map__max_entries(skel->maps.events) / 1024,
	       sizeof(struct ct_event));
	printf("result       %s\n", ret ? "loaded, but program information is incomplete" : "ok");
	ct_unload(skel);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int verbosity = 0, c;
	const char *cmd;

	/* "+": stop at the subcommand; its options are its own */
	while ((c = getopt_long(argc, argv, "+vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbosity++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("closetrace %s\n", CT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	ct_log_init(verbosity);
	/* a reader that goes away (| head) is a write error we stop on, not a signal */
	signal(SIGPIPE, SIG_IGN);
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;

	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc, argv);
	if (!strcmp(cmd, "top"))
		return cmd_top(argc, argv);
	if (!strcmp(cmd, "cleanup"))
		return cmd_cleanup(argc, argv);
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc, argv);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc, argv);
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version")) {
		printf("closetrace %s\n", CT_VERSION);
		return 0;
	}
	fprintf(stderr, "closetrace: unknown command '%s'; see closetrace --help\n", cmd);
	return 2;
}
