/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands.h - every command, declared once: each is defined in its own file (cmd_*.c,
 * commands.c for help and version) and listed in ct_commands.
 */
#ifndef CT_COMMANDS_H
#define CT_COMMANDS_H

#include "options.h"

extern const struct ct_command ct_cmd_watch, ct_cmd_top, ct_cmd_replay, ct_cmd_diagnose, ct_cmd_report, ct_cmd_cleanup,
	ct_cmd_check, ct_cmd_help, ct_cmd_version;

/* The commands, in the order `closetrace help` lists them; NULL-ended. */
extern const struct ct_command *const ct_commands[];

/* Look a command up by name; NULL if there is none. */
const struct ct_command *ct_command_find(const char *name);
/* The command (or, with @with_topics, help topic) a misspelt @name probably meant; NULL. */
const char *ct_command_nearest(const char *name, int with_topics);

/* closetrace's version. */
extern const char ct_version[];

#endif /* CT_COMMANDS_H */
