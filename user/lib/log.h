/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log.h - a small leveled logger on stderr. libbpf's own messages go through it one
 * level down, so that its chatter shows only with -v / -vv.
 */
#ifndef CT_LOG_H
#define CT_LOG_H

/* NOTE: what a command says it does and did (its start and summary lines): -q silences it. */
enum ct_log_level { CT_LOG_NOTE = -1, CT_LOG_WARN = 0, CT_LOG_INFO = 1, CT_LOG_DEBUG = 2 };

/* Set how much is printed (0: warnings; 1: -v; 2: -vv) and route libbpf's output. */
void ct_log_init(int verbosity);
int ct_log_verbosity(void);
/* -q: no notes. */
void ct_log_quiet(int quiet);
/*
 * Around a call whose failure is an expected answer (a probe, a look for something that
 * may not be there): libbpf's messages about it show only at -vvv. Returns the previous
 * setting, to put back.
 */
int ct_log_probe(int on);
void ct_log(enum ct_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_note(...) ct_log(CT_LOG_NOTE, __VA_ARGS__)
#define pr_warn(...) ct_log(CT_LOG_WARN, __VA_ARGS__)
#define pr_info(...) ct_log(CT_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) ct_log(CT_LOG_DEBUG, __VA_ARGS__)

#endif /* CT_LOG_H */
