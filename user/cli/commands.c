// SPDX-License-Identifier: BSD-3-Clause
/*
 * commands.c - the command registry: every command closetrace has, in the order `closetrace
 * help` lists them, and the two that live here (help, version). A new command is a file of
 * its own defining a struct ct_command, declared in commands.h and listed below.
 */
#include <stdio.h>
#include <string.h>

#include "closetrace.h"
#include "commands.h"
#include "filter.h"
#include "reasons.h"
#include "text.h"

const char ct_version[] = CT_VERSION;

static int run_version(struct ct_config *c)
{
	(void)c;
	printf("closetrace %s\n", ct_version);
	return 0;
}

const char *ct_command_nearest(const char *name, int with_topics)
{
	const char *names[18];
	size_t n = 0;
	int i;

	for (i = 0; ct_commands[i] && n < 15; i++)
		names[n++] = ct_commands[i]->name;
	if (with_topics) {
		names[n++] = "filter";
		names[n++] = "reasons";
	}
	i = ct_nearest(name, names, n);
	return i < 0 ? NULL : names[i];
}

/* "  NAME  TEXT" with TEXT wrapped at 78 columns under itself */
static void legend_entry(FILE *out, const char *name, const char *text)
{
	const int indent = 21, width = 78;
	int col = fprintf(out, "  %-*s", indent - 3, name);

	if (col > indent - 1) {
		fputc('\n', out);
		col = fprintf(out, "%*s", indent - 1, "");
	}
	while (*text) {
		size_t w = strcspn(text, " ");

		if (col + 1 + (int)w > width && col > indent - 1) {
			fprintf(out, "\n%*s", indent - 1, "");
			col = indent - 1;
		}
		col += fprintf(out, " %.*s", (int)w, text);
		text += w;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

/* closetrace help reasons: what each reset reason means, and the kernel's name for it */
static void reasons_help(FILE *out)
{
	size_t n;
	const struct ct_reason_word *w = ct_reason_words(&n);

	fprintf(out,
		"Reset reasons: why this host's kernel sent a RST (Linux 6.10 and later, watch and\n"
		"top in tc mode). The REASON column of the text, rst.reason in -f, rst_reason in\n"
		"JSON, with the kernel's own name beside it in rst_reason_kernel; -w adds the\n"
		"socket's state (app-abort/established).\n\n");
	for (size_t i = 0; i < n; i++) {
		char text[512];

		snprintf(text, sizeof(text), "%s (SK_RST_REASON_%s)", w[i].what, w[i].kernel);
		legend_entry(out, w[i].name, text);
	}
	legend_entry(out, "rst-received", "REASON column only: this host sent no RST, but a local "
		     "socket took the peer's (rst_accepted in JSON)");
	legend_entry(out, "-", "not known: replay and XDP mode (no kernel to ask), a kernel "
		     "before 6.10 or without BTF, a RST sent by another host");
	fprintf(out, "\nExamples:\n"
		"  closetrace watch -i eth0 -f 'rst.reason = closed-unread'\n"
		"  closetrace watch -i eth0 -o json | jq -r '.rst_reason_kernel'\n");
}

static int run_help(struct ct_config *c)
{
	const struct ct_command *cmd = c->nargs ? ct_command_find(c->args[0]) : &ct_cmd_main;
	const char *near;

	if (!cmd && !strcmp(c->args[0], "filter")) {
		ct_filter_help(stdout);
		return 0;
	}
	if (!cmd && !strcmp(c->args[0], "reasons")) {
		reasons_help(stdout);
		return 0;
	}
	if (!cmd && (near = ct_command_nearest(c->args[0], 1)))
		return ct_usage_error(&ct_cmd_help, "no command '%s'; did you mean '%s'?",
				      c->args[0], near);
	if (!cmd)
		return ct_usage_error(&ct_cmd_help, "no command '%s'", c->args[0]);
	ct_print_help(cmd, stdout);
	return 0;
}

static const struct ct_opt_group *const plain_groups[] = { &ct_grp_common, NULL };

const struct ct_command ct_cmd_help = {
	.name = "help",
	.synopsis = (const char *const[]){ "[COMMAND | filter | reasons]", NULL },
	.summary = "this text, a command's options, the filter fields, the reset reasons",
	.description = "Shows closetrace's commands, the options of COMMAND, with 'filter' the\n"
		       "fields and operators of -f EXPR, with 'reasons' what each reset reason means.",
	.groups = plain_groups,
	.max_args = 1,
	.examples = (const char *const[]){ "closetrace help watch", "closetrace help filter",
					   "closetrace help reasons", NULL },
	.run = run_help,
};

const struct ct_command ct_cmd_version = {
	.name = "version",
	.synopsis = (const char *const[]){ "", NULL },
	.summary = "print the version",
	.description = "Prints closetrace's version.",
	.groups = plain_groups,
	.max_args = 0,
	.run = run_version,
};

const struct ct_command *const ct_commands[] = {
	&ct_cmd_watch, &ct_cmd_top, &ct_cmd_replay, &ct_cmd_diagnose, &ct_cmd_report, &ct_cmd_cleanup, &ct_cmd_check,
	&ct_cmd_help, &ct_cmd_version, NULL,
};

const struct ct_command *ct_command_find(const char *name)
{
	for (int i = 0; ct_commands[i]; i++)
		if (!strcmp(ct_commands[i]->name, name))
			return ct_commands[i];
	return NULL;
}
