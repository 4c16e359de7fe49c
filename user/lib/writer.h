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
 * Queue one whole item (a line, or top's frame of lines) and hand it to the thread at
 * once. 0 when queued, 1 when dropped (no room: counted, said once), -1 once writing has
 * failed (EPIPE: the reader went away).
 */
int ct_writer_line(struct ct_writer *w, const char *line, size_t n);

/* The most ct_writer_room() gives. */
#define CT_WRITER_ROOM_MAX 4096

/*
 * A line written in place, without a copy: *@at gets room for @max bytes (at most
 * CT_WRITER_ROOM_MAX) at the queue's tail; ct_writer_commit() then queues the @n <= @max
 * bytes written there. 0 then; 1 when the queue has not that much room (write the line
 * elsewhere and hand it to ct_writer_line(), which drops it if it does not fit); -1 once
 * writing has failed. Lines queued this way wait for ct_writer_flush() (or for enough of
 * them to make a good write).
 */
int ct_writer_room(struct ct_writer *w, size_t max, char **at);
void ct_writer_commit(struct ct_writer *w, size_t n);

/* Hand what is queued to the thread: the end of a batch of lines. */
void ct_writer_flush(struct ct_writer *w);

/*
 * Give the queue up to @ms milliseconds to go out, say how many items were dropped, and
 * free what can be freed; a writer still stuck in write(2) is left to the process's exit.
 */
void ct_writer_stop(struct ct_writer *w, int ms);

#endif /* CT_WRITER_H */
