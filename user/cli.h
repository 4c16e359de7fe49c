/* SPDX-License-Identifier: BSD-3-Clause */
/* cli.h - what every subcommand shares: number parsing with range checks, usage errors. */
#ifndef CT_CLI_H
#define CT_CLI_H

/* Parse a whole decimal number in [min, max]; 0 on success, -1 otherwise. */
int ct_parse_long(const char *s, long min, long max, long *out);

/* Print "closetrace CMD: <message>; see closetrace CMD --help" and return 2. */
int ct_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cmd_replay(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);

#endif /* CT_CLI_H */
