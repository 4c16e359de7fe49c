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
	const char *names[16];
	size_t n = 0;
	int i;

	for (i = 0; ct_commands[i] && n < 15; i++)
		names[n++] = ct_commands[i]->name;
	if (with_topics)
		names[n++] = "filter";
	i = ct_nearest(name, names, n);
	return i < 0 ? NULL : names[i];
}

static int run_help(struct ct_config *c)
{
	const struct ct_command *cmd = c->nargs ? ct_command_find(c->args[0]) : &ct_cmd_main;
	const char *near;

	if (!cmd && !strcmp(c->args[0], "filter")) {
		ct_filter_help(stdout);
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
	.synopsis = (const char *const[]){ "[COMMAND | filter]", NULL },
	.summary = "this text, a command's options, or the filter fields (help filter)",
	.description = "Shows closetrace's commands, the options of COMMAND, or with 'filter'\n"
		       "the fields and operators of -f EXPR.",
	.groups = plain_groups,
	.max_args = 1,
	.examples = (const char *const[]){ "closetrace help watch", "closetrace help filter", NULL },
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
	&ct_cmd_watch, &ct_cmd_top, &ct_cmd_replay, &ct_cmd_cleanup, &ct_cmd_check,
	&ct_cmd_help, &ct_cmd_version, NULL,
};

const struct ct_command *ct_command_find(const char *name)
{
	for (int i = 0; ct_commands[i]; i++)
		if (!strcmp(ct_commands[i]->name, name))
			return ct_commands[i];
	return NULL;
}
