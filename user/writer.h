/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * writer.h - stdout that never holds the session up: lines go into a bounded queue that
 * a thread of its own writes out. A reader that stops reading fills the queue; lines that
 * do not fit are dropped whole, counted and said, while the session keeps draining the
 * ring buffer and scanning, and signals still end it at once.
 */
#ifndef CT_WRITER_H
#define CT_WRITER_H

#include <stddef.h>

struct ct_writer;

/* Write to @fd through a queue of @capacity bytes; NULL on failure (errno set). */
struct ct_writer *ct_writer_start(int fd, size_t capacity);

/* What an item is called in what is said about drops ("records" unless told). */
void ct_writer_name(struct ct_writer *w, const char *items);

/*
 * Queue one whole item (a line, or top's frame of lines). 0 when queued, 1 when dropped
 * (no room: counted, said once), -1 once writing has failed (EPIPE: the reader went away).
 */
int ct_writer_line(struct ct_writer *w, const char *line, size_t n);

/*
 * Give the queue up to @ms milliseconds to go out, say how many items were dropped, and
 * free what can be freed; a writer still stuck in write(2) is left to the process's exit.
 */
void ct_writer_stop(struct ct_writer *w, int ms);

#endif /* CT_WRITER_H */
