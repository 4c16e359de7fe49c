/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sink.h - where records go besides stdout, for log collectors: a file that lines are
 * appended to (created 0640, never a partial line, reopened on SIGHUP for logrotate,
 * optionally rotated by size), and the systemd journal, with native fields.
 */
#ifndef CT_SINK_H
#define CT_SINK_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "record.h"

struct ct_file;

/*
 * Open @path for appending (created 0640; owned by @uid/@gid when @chown). @rotate: rotate
 * once a line would take the file past this many bytes (0: never), keeping @keep older
 * files, FILE.1 (newest) to FILE.@keep. NULL with one sentence in @err.
 */
struct ct_file *ct_file_open(const char *path, __u64 rotate, int keep, int chown,
			     uid_t uid, gid_t gid, char *err, size_t errlen);

/*
 * Append one whole line. A line that cannot be written whole (disk full, file gone
 * read-only) is dropped, counted and said on stderr once; 0 written, 1 dropped.
 */
int ct_file_write(struct ct_file *f, const char *line, size_t n);

/* Whether the file is empty (a text header goes first). */
int ct_file_empty(const struct ct_file *f);

/* Ask for a reopen before the next write (async-signal-safe: SIGHUP, logrotate). */
void ct_file_reopen_later(void);

/* Close, saying how many lines were dropped if any. */
void ct_file_close(struct ct_file *f);

/*
 * Send a close to the systemd journal: MESSAGE @text (the text line), PRIORITY by kind,
 * SYSLOG_IDENTIFIER=closetrace and CLOSETRACE_* fields, one per JSON key. 0, or -1
 * (the journal is not there, or refused it), counted and said once.
 */
int ct_journal_write(const struct ct_record *r, const char *text);

#endif /* CT_SINK_H */
