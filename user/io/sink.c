// SPDX-License-Identifier: BSD-3-Clause
/*
 * sink.c - the file and journal sinks. The file: one write(2) per line with O_APPEND; a
 * short write is cut back off, so that the file holds whole lines only; rotation renames
 * FILE.k to FILE.k+1 and FILE to FILE.1; a reopen asked for by SIGHUP happens before the
 * next write. The journal: the JSON record's keys become CLOSETRACE_* fields, so that the
 * two outputs carry the same facts under the same names.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "classify.h"
#include "log.h"
#include "format.h"
#include "sink.h"

struct ct_file {
	char *path;
	int fd;
	__u64 size;		/* bytes in the file as we wrote it */
	__u64 rotate;
	int keep;
	unsigned long long dropped;
	int said;		/* the first drop was said */
};

static volatile sig_atomic_t reopen_asked;

void ct_file_reopen_later(void)
{
	reopen_asked = 1;
}

static int open_append(struct ct_file *f, char *err, size_t errlen)
{
	struct stat st;

	f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (f->fd < 0) {
		snprintf(err, errlen, "--output-file %s: %s", f->path, strerror(errno));
		return -1;
	}
	f->size = fstat(f->fd, &st) ? 0 : (__u64)st.st_size;
	return 0;
}

struct ct_file *ct_file_open(const char *path, __u64 rotate, int keep, int chown,
			     uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct ct_file *f = calloc(1, sizeof(*f));

	if (!f || !(f->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		free(f);
		return NULL;
	}
	f->rotate = rotate;
	f->keep = keep;
	if (open_append(f, err, errlen)) {
		free(f->path);
		free(f);
		return NULL;
	}
	/* --user: the file is that user's, so that a reopen after rotation works as it */
	if (chown && fchown(f->fd, uid, gid))
		pr_warn("--output-file %s: cannot give it to uid %u: %s\n", path,
			(unsigned int)uid, strerror(errno));
	return f;
}

/* FILE.k -> FILE.k+1 for k = keep-1 .. 1, FILE -> FILE.1, then a new FILE. */
static void rotate(struct ct_file *f)
{
	size_t len = strlen(f->path) + 16;
	char *from = malloc(len), *to = malloc(len), err[256];

	if (from && to) {
		for (int k = f->keep - 1; k >= 1; k--) {
			snprintf(from, len, "%s.%d", f->path, k);
			snprintf(to, len, "%s.%d", f->path, k + 1);
			rename(from, to);
		}
		snprintf(to, len, "%s.1", f->path);
		if (f->keep > 0)
			rename(f->path, to);
		else
			unlink(f->path);
	}
	free(from);
	free(to);
	close(f->fd);
	if (open_append(f, err, sizeof(err)))
		pr_warn("%s\n", err);
}

static void drop(struct ct_file *f, int e)
{
	f->dropped++;
	if (!f->said) {
		pr_warn("--output-file %s: a line could not be written (%s); such lines are "
			"dropped whole and counted\n", f->path, strerror(e));
		f->said = 1;
	}
}

int ct_file_write(struct ct_file *f, const char *line, size_t n)
{
	char err[256];
	ssize_t w;

	if (reopen_asked) {
		reopen_asked = 0;
		if (f->fd >= 0)
			close(f->fd);
		if (open_append(f, err, sizeof(err)))
			pr_warn("%s\n", err);
	}
	if (f->fd >= 0 && f->rotate && f->size && f->size + n > f->rotate)
		rotate(f);
	if (f->fd < 0) {
		drop(f, EBADF);
		return 1;
	}
	w = write(f->fd, line, n);
	if (w == (ssize_t)n) {
		f->size += n;
		return 0;
	}
	/* never a partial line: what went in is cut back off */
	if (w > 0 && ftruncate(f->fd, (off_t)f->size))
		pr_warn("--output-file %s: cannot remove a partial line: %s\n", f->path,
			strerror(errno));
	drop(f, w < 0 ? errno : ENOSPC);
	return 1;
}

int ct_file_empty(const struct ct_file *f)
{
	return !f->size;
}

void ct_file_close(struct ct_file *f)
{
	if (!f)
		return;
	if (f->dropped)
		pr_warn("--output-file %s: %llu lines were dropped\n", f->path, f->dropped);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

/* --- the journal -------------------------------------------------------------------------- */

static unsigned long long journal_dropped;

/* How urgent a close is: resets warn, refusals and silence notice, clean ends inform. */
static int priority(__u8 close)
{
	switch (close) {
	case CT_CLOSE_GRACEFUL:
	case CT_CLOSE_IDLE:
	case CT_CLOSE_MIDSTREAM:
	case CT_CLOSE_NONE:
		return 6;	/* LOG_INFO */
	case CT_CLOSE_REFUSED:
	case CT_CLOSE_UNANSWERED:
	case CT_CLOSE_HALF_OPEN:
	case CT_CLOSE_HALF_CLOSED:
		return 5;	/* LOG_NOTICE */
	default:
		return 4;	/* LOG_WARNING: a connection reset */
	}
}

/* The journal fields a record takes, built one by one (ct_format_fields()). */
struct journal_fields {
	struct iovec iov[64];
	int n;
	char buf[8192];
	size_t used;
};

/* One field: CLOSETRACE_KEY=value, the JSON key in capitals. */
static int journal_field(void *ctx, const char *key, const char *value)
{
	struct journal_fields *j = ctx;
	char *f = j->buf + j->used;
	size_t room = sizeof(j->buf) - j->used, k = sizeof("CLOSETRACE_") - 1, vlen = strlen(value);

	if (j->n == (int)(sizeof(j->iov) / sizeof(j->iov[0])) || room < k + strlen(key) + 2 + vlen)
		return -1;
	memcpy(f, "CLOSETRACE_", k);
	for (; *key; key++)
		f[k++] = *key >= 'a' && *key <= 'z' ? (char)(*key - 'a' + 'A') : *key;
	f[k++] = '=';
	memcpy(f + k, value, vlen);
	k += vlen;
	j->iov[j->n++] = (struct iovec){ f, k };
	j->used += k;
	return 0;
}

int ct_journal_write(const struct ct_record *r, const char *text)
{
	static char ident[] = "SYSLOG_IDENTIFIER=closetrace";
	struct journal_fields j = { .n = 0 };
	char prio[16], msg[4200];
	size_t tlen = strlen(text);
	int ret;

	/* the text line is the message; the record's fields are the journal's fields */
	tlen -= tlen && text[tlen - 1] == '\n';
	snprintf(msg, sizeof(msg), "MESSAGE=%.*s", (int)tlen, text);
	snprintf(prio, sizeof(prio), "PRIORITY=%d", r->type == CT_REC_LOSS ? 4 : priority(r->close));
	j.iov[j.n++] = (struct iovec){ msg, strlen(msg) };
	j.iov[j.n++] = (struct iovec){ prio, strlen(prio) };
	j.iov[j.n++] = (struct iovec){ ident, sizeof(ident) - 1 };
	ct_format_fields(r, journal_field, &j);
	ret = sd_journal_sendv(j.iov, j.n);
	if (ret < 0) {
		if (!journal_dropped++)
			pr_warn("-o journal: the journal refused a record (%s); such records are "
				"counted and dropped\n", strerror(-ret));
		return -1;
	}
	return 0;
}
