// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_options.c - the option layer: every option of every command is in its --help; a
 * default that help prints, given back to the parser, is the value the parser starts
 * from; the names that clashed (--flows) are gone and the ones that replaced them work;
 * usage errors are one line and a hint; the flow table's size is bounded by memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "closetrace.h"
#include "commands.h"
#include "options.h"

static char *help_of(const struct ct_command *cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	ct_print_help(cmd, f);
	fclose(f);
	return buf;
}

/* The argv strings parsed configs point into: kept to the end of the run, then freed. */
static char *kept[1024];
static size_t nkept;

static char *keep(const char *s)
{
	assert_true(nkept < sizeof(kept) / sizeof(kept[0]));
	kept[nkept] = strdup(s);
	assert_non_null(kept[nkept]);
	return kept[nkept++];
}

static int free_kept(void **state)
{
	(void)state;
	while (nkept)
		free(kept[--nkept]);
	return 0;
}

/* Parse @args (NULL-ended) for @cmd; stderr is kept in @err. Returns what the parser did. */
static int parse(const struct ct_command *cmd, struct ct_config *c, char *err, size_t errlen,
		 ...)
{
	char *argv[32], tmpl[] = "/tmp/ct-test-options.XXXXXX";
	int argc = 0, saved, fd, r;
	va_list ap;
	ssize_t n;

	argv[argc++] = (char *)(cmd->name ? cmd->name : "closetrace");
	va_start(ap, errlen);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argv[argc] = keep(argv[argc]), argc++;
	va_end(ap);
	argv[argc] = NULL;

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	ct_config_init(c);
	r = ct_parse_args(cmd, argc, argv, c);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	/* argv strings stay (see keep()): the config points into them */
	return r;
}

/* The text of option @name's entry in @help: from its line to the next option or blank. */
static const char *entry_of(const char *help, const char *name, char *buf, size_t len)
{
	char pat[64];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "--%s", name);
	for (p = strstr(help, pat); p; p = strstr(p + 1, pat)) {
		const char *bol = p;

		while (bol > help && bol[-1] != '\n')
			bol--;
		/* an option's own line: "  -x, --name" or "      --name" */
		if (strspn(bol, " ") >= 2 && (bol[strspn(bol, " ")] == '-') &&
		    (p[strlen(pat)] == ' ' || p[strlen(pat)] == '\n'))
			break;
	}
	if (!p)
		return NULL;
	/* to the next option's line: "  -x, --next" or "      --next" */
	end = p;
	while ((end = strchr(end, '\n')) && end[1] && end[1] != '\n' &&
	       !(strspn(end + 1, " ") <= 6 && end[1 + strspn(end + 1, " ")] == '-'))
		end++;
	snprintf(buf, len, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
	return buf;
}

/* What each command needs besides the option under test, to be a valid invocation. */
static void base_args(const struct ct_command *cmd, const char **a, const char **b)
{
	*a = *b = NULL;
	if (!cmd->name || !strcmp(cmd->name, "help") || !strcmp(cmd->name, "version"))
		return;
	if (!strcmp(cmd->name, "watch")) {
		*a = "-i";
		*b = "lo";
	} else if (!strcmp(cmd->name, "top")) {
		*a = "-r";
		*b = "x.pcap";
	} else if (!strcmp(cmd->name, "replay") || !strcmp(cmd->name, "diagnose")) {
		*a = "x.pcap";
	} else if (!strcmp(cmd->name, "report")) {
		*a = "-rx.pcap";
		*b = "-ox.html";
	}
}

static void t_help_lists_every_option(void **state)
{
	(void)state;
	for (int i = 0; ct_commands[i]; i++) {
		const struct ct_command *cmd = ct_commands[i];
		char *h = help_of(cmd), entry[1024], usage[64];

		snprintf(usage, sizeof(usage), "Usage: closetrace %s", cmd->name);
		assert_true(!strncmp(h, usage, strlen(usage)));
		for (int g = 0; cmd->groups[g]; g++) {
			for (const struct ct_opt *o = cmd->groups[g]->opts; o->name; o++) {
				char shortform[8];

				if (!entry_of(h, o->name, entry, sizeof(entry)))
					fail_msg("%s --help lacks --%s", cmd->name, o->name);
				snprintf(shortform, sizeof(shortform), "-%c, --", o->key);
				if (o->key && !strstr(h, shortform))
					fail_msg("%s --help lacks -%c", cmd->name, o->key);
			}
		}
		free(h);
	}
}

/*
 * The default help prints for an option, given to the parser, yields the value the
 * parser starts from: what help says is what running without the option does.
 */
static void t_help_defaults_are_the_parsers(void **state)
{
	int checked = 0;

	(void)state;
	for (int i = 0; ct_commands[i]; i++) {
		const struct ct_command *cmd = ct_commands[i];
		char *h = help_of(cmd);

		for (int g = 0; cmd->groups[g]; g++) {
			for (const struct ct_opt *o = cmd->groups[g]->opts; o->name; o++) {
				char entry[1024], val[64], name[64], err[1024];
				const char *d, *a, *b;
				struct ct_config c, init;

				assert_non_null(entry_of(h, o->name, entry, sizeof(entry)));
				d = strstr(entry, "(default ");
				if (o->type != CT_ARG_LONG && o->type != CT_ARG_SECS &&
				    o->type != CT_ARG_CHOICE) {
					assert_null(d);	/* flags and lists have no default */
					continue;
				}
				assert_non_null(d);
				if (o->def_text)	/* words, not a value */
					continue;
				snprintf(val, sizeof(val), "%.*s", (int)strcspn(d + 9, ")"), d + 9);
				snprintf(name, sizeof(name), "--%s", o->name);
				base_args(cmd, &a, &b);
				assert_int_equal(parse(cmd, &c, err, sizeof(err), name, val,
						       a, b, NULL), 0);
				ct_config_init(&init);
				assert_memory_equal((char *)&c + o->off, (char *)&init + o->off,
						    o->type == CT_ARG_LONG ? sizeof(long) :
						    o->type == CT_ARG_SECS ? sizeof(__u64) : sizeof(int));
				ct_config_free(&c);
				checked++;
			}
		}
		free(h);
	}
	/* the timeouts and table size of four commands, top's view: a real number of them */
	assert_true(checked >= 15);
}

static void t_flows_is_gone(void **state)
{
	const char *cmds[] = { "watch", "top", "replay", "check" };
	struct ct_config c;
	char err[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(parse(ct_command_find(cmds[i]), &c, err, sizeof(err), "--flows",
				       "5000", NULL), 2);
		assert_non_null(strstr(err, "unknown option '--flows'"));
	}
	/* the new names: one meaning each */
	assert_int_equal(parse(ct_command_find("replay"), &c, err, sizeof(err), "--final",
			       "--table-size", "4096", "x.pcap", NULL), 0);
	assert_int_equal(c.final, 1);
	assert_int_equal(c.table_size, 4096);
	assert_int_equal(parse(ct_command_find("watch"), &c, err, sizeof(err), "-i", "lo",
			       "--final", "--table-size", "2048", NULL), 0);
	assert_int_equal(c.final, 1);
	assert_int_equal(c.table_size, 2048);
	/* top -r takes the flow-table options replay takes */
	assert_int_equal(parse(ct_command_find("top"), &c, err, sizeof(err), "-r", "x.pcap",
			       "--table-size", "1024", "--syn-timeout", "2", "--idle-timeout", "30",
			       NULL), 0);
	assert_int_equal(c.table_size, 1024);
	assert_int_equal(c.syn_timeout_s, 2);
	assert_int_equal(c.idle_timeout_s, 30);
	/* and the live group: --xdp-mode, --force, the duplicate interface */
	assert_int_equal(parse(ct_command_find("top"), &c, err, sizeof(err), "-i", "lo,lo", NULL),
			 2);
	assert_non_null(strstr(err, "interface lo is given twice"));
	assert_int_equal(parse(ct_command_find("top"), &c, err, sizeof(err), "-i", "lo", "-m",
			       "xdp", "--xdp-mode", "generic", "--force", NULL), 0);
	assert_int_equal(c.xdp_mode, 2);
	assert_int_equal(c.force, 1);
}

/* Each usage error: exit 2, one line naming the problem, then the hint. */
static void t_usage_errors(void **state)
{
	static const struct {
		const char *cmd, *a, *b, *c, *says;
	} cases[] = {
		{ "watch", NULL, NULL, NULL, "-i IFACE is required" },
		{ "watch", "-i", "lo", "--bogus", "unknown option '--bogus'" },
		{ "watch", "-i", NULL, NULL, "-i needs a value (LIST)" },
		{ "watch", "-i", "lo", "-b", "-b is not an option of watch (top takes it)" },
		{ "replay", "-i", "lo", "x", "-i is not an option of replay (watch, top, diagnose, "
		  "report, cleanup, check take it)" },
		{ "watch", "-i", ",", NULL, "--interface needs an interface name" },
		{ "top", "-r", "x", "--s=5", "--s is ambiguous: --sort, --syn-timeout" },
		{ "check", "--syn-timeout", "5", NULL, "--syn-timeout is not an option of check" },
		{ "watch", "-i", "lo", "--all=1", "--all takes no value" },
		{ "watch", "-i", "lo", "--mode=bpf", "--mode takes tc or xdp, not 'bpf'" },
		{ "watch", "-i", "lo", "--xdp-mode=native", "--xdp-mode goes with --mode xdp" },
		{ "replay", NULL, NULL, NULL, "a capture FILE is required" },
		{ "replay", "-o", "xml", "x", "--output takes text, json, journal or none, not 'xml'" },
		{ "replay", "--syn-timeout", "0", "x",
		  "--syn-timeout takes a whole number from 1 to 86400, not '0'" },
		{ "top", NULL, NULL, NULL, "give either -i IFACE or -r FILE" },
		{ "top", "-r", "x", "-d0", "--delay takes 0.1 to 3600 seconds, not '0'" },
		{ "top", "-r", "x", "-mxdp", "--mode, --xdp-mode and --force go with -i IFACE" },
		{ "top", "-r", "x", "-gnope", "--group takes server, server-ip, client-ip, flow, app, unit, client-zone, server-zone or tunnel" },
		{ "cleanup", "x", NULL, NULL, "unexpected argument 'x'" },
		{ "cleanup", "-o", "json", NULL, "-o is not an option of cleanup" },
		{ "check", "x", NULL, NULL, "unexpected argument 'x'" },
		{ "help", "nope", "more", NULL, "unexpected argument 'more'" },
	};
	struct ct_config c;
	char err[1024], hint[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ct_command *cmd = ct_command_find(cases[i].cmd);
		char *nl;

		assert_int_equal(parse(cmd, &c, err, sizeof(err), cases[i].a, cases[i].b, cases[i].c,
				       NULL), 2);
		if (!strstr(err, cases[i].says))
			fail_msg("%s: '%s' does not say '%s'", cases[i].cmd, err, cases[i].says);
		/* "closetrace CMD: ...\ntry 'closetrace CMD --help'\n", nothing else */
		assert_true(!strncmp(err, "closetrace ", 11));
		nl = strchr(err, '\n');
		assert_non_null(nl);
		snprintf(hint, sizeof(hint), "try 'closetrace %s --help'\n", cases[i].cmd);
		assert_string_equal(nl + 1, hint);
		ct_config_free(&c);
	}
}

static void t_help_option_exits_zero(void **state)
{
	struct ct_config c;
	char err[256];
	FILE *saved = stdout;

	(void)state;
	stdout = fopen("/dev/null", "w");
	for (int i = 0; ct_commands[i]; i++) {
		assert_int_equal(parse(ct_commands[i], &c, err, sizeof(err), "--help", NULL), 1);
		assert_string_equal(err, "");
		assert_int_equal(parse(ct_commands[i], &c, err, sizeof(err), "-h", NULL), 1);
	}
	fclose(stdout);
	stdout = saved;
}

/*
 * --tunnel-port: a type's first port replaces its defaults, later ones add (at most four,
 * a repeat ignored), TYPE=off and on, GRE and ERSPAN without ports; --no-decap; what a
 * viewer may share (the default only). The loader hands the result to the programs as is.
 */
static void t_tunnel_ports(void **state)
{
	struct ct_tunnels t;
	struct ct_cfg cfg;
	struct ct_load_opts lo = { .tunnels = &t };
	char err[256];

	(void)state;
	ct_tunnels_default(&t);
	assert_true(ct_tunnels_is_default(&t));
	assert_int_equal(t.decap, CT_TUN_ALL);
	assert_int_equal(t.port[CT_TUN_VXLAN - 1][0], 4789);
	assert_int_equal(t.port[CT_TUN_VXLAN - 1][1], 8472);
	assert_int_equal(ct_tunnels_parse(&t, "vxlan=4790,geneve=6082,vxlan=4791,vxlan=4790", err,
					  sizeof(err)), 0);
	assert_int_equal(t.port[CT_TUN_VXLAN - 1][0], 4790);
	assert_int_equal(t.port[CT_TUN_VXLAN - 1][1], 4791);
	assert_int_equal(t.port[CT_TUN_VXLAN - 1][2], 0);
	assert_int_equal(t.port[CT_TUN_GENEVE - 1][0], 6082);
	assert_int_equal(t.port[CT_TUN_GTPU - 1][0], 2152);	/* untouched */
	assert_false(ct_tunnels_is_default(&t));
	/* a second option adds to what the first gave */
	assert_int_equal(ct_tunnels_parse(&t, "vxlan=1,vxlan=2,vxlan=3", err, sizeof(err)), -1);
	assert_string_equal(err, "vxlan: at most 4 ports");
	assert_int_equal(ct_tunnels_parse(&t, "gre=off,teredo=off", err, sizeof(err)), 0);
	assert_int_equal(t.decap, CT_TUN_ALL & ~(1 << CT_TUN_GRE) & ~(1 << CT_TUN_TEREDO));
	assert_int_equal(ct_tunnels_parse(&t, "gre=on,gtp-u=off", err, sizeof(err)), 0);
	assert_int_equal(t.decap, CT_TUN_ALL & ~(1 << CT_TUN_GTPU) & ~(1 << CT_TUN_TEREDO));
	assert_int_equal(ct_tunnels_parse(&t, "gre=5", err, sizeof(err)), -1);
	assert_string_equal(err, "gre has no port (it is not carried in UDP): gre=off or gre=on");
	assert_int_equal(ct_tunnels_parse(&t, "vxlan", err, sizeof(err)), -1);
	assert_int_equal(ct_tunnels_parse(&t, "vxlan=0", err, sizeof(err)), -1);
	assert_int_equal(ct_tunnels_parse(&t, "ipip=4", err, sizeof(err)), -1);
	assert_int_equal(ct_tunnels_parse(&t, "", err, sizeof(err)), -1);
	/* what the programs get */
	ct_cfg_fill(&lo, 1024, &cfg);
	assert_int_equal(cfg.decap, t.decap);
	assert_memory_equal(cfg.tun_port, t.port, sizeof(cfg.tun_port));
	t.none = 1;
	assert_false(ct_tunnels_is_default(&t));
	ct_cfg_fill(&lo, 1024, &cfg);
	assert_int_equal(cfg.decap, 0);
	lo.tunnels = NULL;
	ct_cfg_fill(&lo, 1024, &cfg);
	assert_int_equal(cfg.decap, CT_TUN_ALL);
	assert_int_equal(cfg.tun_port[CT_TUN_TEREDO - 1][0], 3544);
}

static void t_table_size_bounds(void **state)
{
	struct ct_config c;
	char err[512];

	(void)state;
	/*
	 * 280-byte elements, and 16-byte buckets and two 48-byte ring keys for each slot
	 * rounded up to a power of two
	 */
	assert_true(ct_table_bytes(131072) == 131072.0 * 392);
	assert_true(ct_table_bytes(100000) == 100000.0 * 280 + 131072.0 * 112);
	/* any long, without wrapping around */
	assert_true(ct_table_bytes(9223372036854775807l) > 1.7e21);
	assert_int_equal(ct_table_fits(131072, 0, err, sizeof(err)), 0);
	assert_int_equal(ct_table_fits(CT_TABLE_MAX, 0, err, sizeof(err)), 0);
	assert_int_equal(ct_table_fits(1l << 26, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "a table of 67108864 flows would take 24.5 GiB of kernel "
				 "memory; closetrace takes at most 16777216 flows (6.1 GiB)");
	/* a machine with 1 GiB available: 4M flows (1.5 GiB) do not fit, 2M (0.7 GiB) do */
	assert_int_equal(ct_table_fits(1l << 22, 1ull << 30, err, sizeof(err)), -1);
	assert_string_equal(err, "a table of 4194304 flows would take 1.5 GiB of kernel memory, "
				 "more than the 1.0 GiB this machine has available");
	assert_int_equal(ct_table_fits(1l << 21, 1ull << 30, err, sizeof(err)), 0);
	/* through the parser: one line naming the memory */
	assert_int_equal(parse(ct_command_find("watch"), &c, err, sizeof(err), "-i", "lo",
			       "--table-size", "67108864", NULL), 2);
	assert_non_null(strstr(err, "--table-size: a table of 67108864 flows would take 24.5 GiB"));
	assert_int_equal(parse(ct_command_find("watch"), &c, err, sizeof(err), "-i", "lo",
			       "--table-size", "1023", NULL), 2);
	assert_non_null(strstr(err, "takes a whole number from 1024 to 16777216, not '1023'"));
}

static void t_command_required(void **state)
{
	struct ct_config c;
	char err[512];

	(void)state;
	assert_int_equal(parse(&ct_cmd_main, &c, err, sizeof(err), "-v", NULL), 2);
	assert_string_equal(err, "closetrace: a command is required: watch, top, replay, diagnose, report, cleanup, "
				 "check, help, version\ntry 'closetrace --help'\n");
}

static void t_verbose_counts_everywhere(void **state)
{
	struct ct_config c;
	char err[256];

	(void)state;
	assert_int_equal(parse(&ct_cmd_main, &c, err, sizeof(err), "-vv", "watch", "-i", "lo",
			       NULL), 0);
	assert_int_equal(c.verbose, 2);
	assert_int_equal(c.nargs, 3);	/* the command and its arguments are left */
	assert_int_equal(parse(ct_command_find("replay"), &c, err, sizeof(err), "-v", "x.pcap",
			       "-v", NULL), 0);
	assert_int_equal(c.verbose, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_help_lists_every_option),
		cmocka_unit_test(t_help_defaults_are_the_parsers),
		cmocka_unit_test(t_flows_is_gone),
		cmocka_unit_test(t_usage_errors),
		cmocka_unit_test(t_help_option_exits_zero),
		cmocka_unit_test(t_table_size_bounds),
		cmocka_unit_test(t_tunnel_ports),
		cmocka_unit_test(t_command_required),
		cmocka_unit_test(t_verbose_counts_everywhere),
	};

	return cmocka_run_group_tests(tests, NULL, free_kept);
}
