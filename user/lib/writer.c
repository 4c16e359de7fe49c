// SPDX-License-Identifier: BSD-3-Clause
/*
 * writer.c - a byte queue between the session and stdout, and the thread that empties it.
 * The thread takes no signal, so a blocked write(2) never delays a signal's effect on the
 * session; the queue is bounded, so a stalled reader costs memory up to its capacity and
 * then lines, whole, never the session's progress.
 *
 * One producer (the session) and one consumer (the thread): each owns its end of the
 * ring and publishes it with an atomic store, so queueing a line takes no lock. Lines are
 * handed to the thread a batch at a time (ct_writer_flush(), at the end of each drain of
 * the ring buffer), which then writes them with as few write(2) calls as they fill: a
 * futex wake and a write per line cost more than formatting the line.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "writer.h"

struct ct_writer {
	pthread_t thread;
	pthread_mutex_t lock;		/* only to sleep and to wake: never held to queue */
	pthread_cond_t more, empty;
	int fd;
	char *buf;			/* cap bytes of ring, then CT_WRITER_ROOM_MAX of spill */
	size_t cap;
	/* positions: counts of bytes ever queued, the ring offset being modulo cap */
	_Atomic unsigned long long done;	/* written out (the thread's) */
	_Atomic unsigned long long shown;	/* handed to the thread (the session's) */
	unsigned long long tail;	/* queued, maybe not handed over yet (the session's) */
	_Atomic int sleeping;		/* the thread waits for @more, or is about to */
	_Atomic int failed;		/* a write failed: the reader is gone */
	_Atomic int quit;
	/* the session's: where each queued item ends, a ring of nends (items in..out) */
	unsigned long long *ends, items_in, items_out;
	size_t nends;
	unsigned long long dropped;
	const char *items;
	int said;
};

/* Items at least this long on average fill the bytes before the ring of their ends. */
#define ITEM_MIN 64
/* One write(2) at most: what a pipe holds, so that a slow reader frees room as it reads. */
#define WRITE_MAX 65536
/* Queued but not handed over: past this, hand over without waiting for the batch's end. */
#define SHOW_AFTER 65536

static void *run(void *arg)
{
	struct ct_writer *w = arg;
	unsigned long long d = atomic_load(&w->done), s;

	for (;;) {
		size_t n, at;

		s = atomic_load(&w->shown);
		if (s == d) {
			pthread_mutex_lock(&w->lock);
			/* before looking again: a flush that misses this sees it and wakes us */
			atomic_store(&w->sleeping, 1);
			pthread_cond_broadcast(&w->empty);
			while ((s = atomic_load(&w->shown)) == d && !atomic_load(&w->quit))
				pthread_cond_wait(&w->more, &w->lock);
			atomic_store(&w->sleeping, 0);
			pthread_mutex_unlock(&w->lock);
			if (s == d)
				break;
		}
		at = (size_t)(d % w->cap);
		n = s - d < WRITE_MAX ? (size_t)(s - d) : WRITE_MAX;
		n = n < w->cap - at ? n : w->cap - at;
		/* blocking, and nothing held: the session never waits for this */
		for (size_t off = 0; off < n;) {
			ssize_t r = write(w->fd, w->buf + at + off, n - off);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				pthread_mutex_lock(&w->lock);
				atomic_store(&w->failed, 1);
				pthread_cond_broadcast(&w->empty);
				pthread_mutex_unlock(&w->lock);
				return NULL;
			}
			off += (size_t)r;
		}
		d += n;
		atomic_store_explicit(&w->done, d, memory_order_release);
	}
	return NULL;
}

struct ct_writer *ct_writer_start(int fd, size_t capacity)
{
	struct ct_writer *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int e;

	if (!w || !(w->buf = malloc(capacity + CT_WRITER_ROOM_MAX)) ||
	    !(w->ends = calloc(capacity / ITEM_MIN + 1, sizeof(*w->ends)))) {
		if (w)
			free(w->buf);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->fd = fd;
	w->cap = capacity;
	w->nends = capacity / ITEM_MIN + 1;
	w->items = "records";
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->empty, NULL);
	/* the thread takes no signal: they are the session's, whatever write(2) does */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&w->thread, NULL, run, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		free(w->ends);
		free(w->buf);
		free(w);
		errno = e;
		return NULL;
	}
	return w;
}

void ct_writer_name(struct ct_writer *w, const char *items)
{
	w->items = items;
}

/* Forget the ends of the items written out: a walk over the ends, so only when needed. */
static void writer_forget(struct ct_writer *w)
{
	unsigned long long d = atomic_load_explicit(&w->done, memory_order_acquire);

	while (w->items_out < w->items_in && w->ends[w->items_out % w->nends] <= d)
		w->items_out++;
}

/* Whether an item of @n bytes has room: its bytes, and a place in the ring of ends. */
static int writer_fits(struct ct_writer *w, size_t n)
{
	unsigned long long d = atomic_load_explicit(&w->done, memory_order_acquire);

	if (n > w->cap - (size_t)(w->tail - d))
		return 0;
	if (w->items_in - w->items_out == w->nends)
		writer_forget(w);
	return w->items_in - w->items_out < w->nends;
}

static void writer_drop(struct ct_writer *w)
{
	w->dropped++;
	if (!w->said) {
		w->said = 1;
		pr_warn("stdout does not take the %s as fast as they come (a reader that "
			"stopped reading?): those that do not fit are dropped whole and counted\n",
			w->items);
	}
}

/* The item of @n bytes at the tail is in the ring: count it, hand it over if it is time. */
static void writer_queued(struct ct_writer *w, size_t n)
{
	w->tail += n;
	w->ends[w->items_in++ % w->nends] = w->tail;
	if (w->tail - atomic_load_explicit(&w->shown, memory_order_relaxed) >= SHOW_AFTER)
		ct_writer_flush(w);
}

void ct_writer_flush(struct ct_writer *w)
{
	if (atomic_load_explicit(&w->shown, memory_order_relaxed) == w->tail)
		return;
	/* sequentially consistent: either the thread sees the new tail, or we see it asleep */
	atomic_store(&w->shown, w->tail);
	if (atomic_load(&w->sleeping)) {
		pthread_mutex_lock(&w->lock);
		pthread_cond_signal(&w->more);
		pthread_mutex_unlock(&w->lock);
	}
}

int ct_writer_room(struct ct_writer *w, size_t max, char **at)
{
	if (atomic_load_explicit(&w->failed, memory_order_relaxed))
		return -1;
	if (max > CT_WRITER_ROOM_MAX || !writer_fits(w, max))
		return 1;
	*at = w->buf + w->tail % w->cap;
	return 0;
}

void ct_writer_commit(struct ct_writer *w, size_t n)
{
	size_t at = (size_t)(w->tail % w->cap);

	/* what ran past the ring's end goes to its start, which was free too */
	if (at + n > w->cap)
		memcpy(w->buf, w->buf + w->cap, at + n - w->cap);
	writer_queued(w, n);
}

int ct_writer_line(struct ct_writer *w, const char *line, size_t n)
{
	size_t at, first;

	if (atomic_load_explicit(&w->failed, memory_order_relaxed))
		return -1;
	if (!writer_fits(w, n)) {
		writer_drop(w);
		return 1;
	}
	at = (size_t)(w->tail % w->cap);
	first = w->cap - at < n ? w->cap - at : n;
	memcpy(w->buf + at, line, first);
	memcpy(w->buf, line + first, n - first);
	writer_queued(w, n);
	/* a whole item on its own (a header, top's frame): out now */
	ct_writer_flush(w);
	return 0;
}

void ct_writer_stop(struct ct_writer *w, int ms)
{
	struct timespec until;
	int stuck;

	if (!w)
		return;
	ct_writer_flush(w);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (atomic_load(&w->done) != w->tail && !atomic_load(&w->failed) &&
	       pthread_cond_timedwait(&w->empty, &w->lock, &until) != ETIMEDOUT)
		;
	stuck = atomic_load(&w->done) != w->tail && !atomic_load(&w->failed);
	atomic_store(&w->quit, 1);
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	/* what is still queued, or half written, will not be written: dropped too */
	if (stuck) {
		writer_forget(w);
		w->dropped += w->items_in - w->items_out;
	}
	if (w->dropped)
		pr_warn("%llu %s were dropped: stdout did not take them\n", w->dropped, w->items);
	if (stuck)
		return;	/* blocked in write(2): the thread, and its buffer, end with the process */
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->empty);
	free(w->ends);
	free(w->buf);
	free(w);
}
