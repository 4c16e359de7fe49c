// SPDX-License-Identifier: BSD-3-Clause
/*
 * main.c - the entry point: the options before the command (-v, --help, --version),
 * then the command's own, both read from the option tables; `help` and `version`.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kfeatures.h"
#include "log.h"
#include "commands.h"
#include "options.h"

int main(int argc, char **argv)
{
	const struct ct_command *cmd;
	struct ct_config top, c;
	int r, verbose;

	/* a reader that goes away (| head) is a write error we stop on, not a signal */
	signal(SIGPIPE, SIG_IGN);
	ct_config_init(&top);
	r = ct_parse_args(&ct_cmd_main, argc, argv, &top);
	if (r)
		return r == 1 ? 0 : r;
	if (top.version)
		return ct_cmd_version.run(&top);
	cmd = ct_command_find(top.args[0]);
	if (!cmd && ct_command_nearest(top.args[0], 0))
		return ct_usage_error(&ct_cmd_main, "unknown command '%s'; did you mean '%s'?",
				      top.args[0], ct_command_nearest(top.args[0], 0));
	if (!cmd)
		return ct_usage_error(&ct_cmd_main, "unknown command '%s'", top.args[0]);

	ct_config_init(&c);
	r = ct_parse_args(cmd, top.nargs, top.args, &c);
	if (r) {
		ct_config_free(&c);
		return r == 1 ? 0 : r;
	}
	/* -v counts before and after the command's name alike */
	verbose = top.verbose + c.verbose;
	ct_log_init(verbose);
	ct_log_quiet(top.quiet || c.quiet);
	{
		char err[256];

		if (ct_features_check_env(err, sizeof(err))) {
			pr_warn("%s\n", err);
			ct_config_free(&c);
			return 2;
		}
	}
	r = cmd->run(&c);
	ct_config_free(&c);
	return r;
}
