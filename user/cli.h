/* SPDX-License-Identifier: BSD-3-Clause */
/* cli.h - what every subcommand shares: number parsing with range checks, usage errors. */
#ifndef CT_CLI_H
#define CT_CLI_H

/* Parse a whole decimal number in [min, max]; 0 on success, -1 otherwise. */
int ct_parse_long(const char *s, long min, long max, long *out);

/* Print "closetrace CMD: <message>; see closetrace CMD --help" and return 2. */
int ct_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct ct_output;
struct ct_expiry;

/* Options replay and watch share, as getopt_long codes above the short options. */
enum {
	CT_OPT_SYN = 300,	/* --syn-timeout SECS */
	CT_OPT_IDLE,		/* --idle-timeout SECS */
	CT_OPT_TABLE,		/* --table-size N (watch: --flows N too) */
};
#define CT_COMMON_SHORT "o:awf:"

struct ct_common {
	long syn_s, idle_s, table;
};

/* The defaults of struct ct_common. */
void ct_common_init(struct ct_common *co);

/*
 * Handle option @opt (with @arg) if it is a shared one: -o, -a, -w, -f, the timeouts,
 * the table size. Returns 1 if handled, 0 if not a shared option, 2 after printing a usage
 * error for @cmd (the command should exit with it).
 */
int ct_common_opt(const char *cmd, int opt, const char *arg, struct ct_output *out,
		  struct ct_common *co);

/*
 * Compile filter @expr for @cmd; on a parse error print the expression with a caret under
 * the column and return NULL (the command exits with 2).
 */
struct ct_filter *ct_cli_filter(const char *cmd, const char *expr);

/* The expiry the shared options ask for. */
void ct_common_expiry(const struct ct_common *co, struct ct_expiry *e);

int cmd_replay(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);

#endif /* CT_CLI_H */
