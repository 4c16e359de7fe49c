// SPDX-License-Identifier: BSD-3-Clause
/*
 * writer.c - a byte queue between the session and stdout, and the thread that empties it.
 * The thread takes no signal, so a blocked write(2) never delays a signal's effect on the
 * session; the queue is bounded, so a stalled reader costs memory up to its capacity and
 * then lines, whole, never the session's progress.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "writer.h"

struct ct_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more, empty;
	int fd;
	char *buf;
	size_t cap, head, len;		/* a ring: len bytes from head */
	int writing;			/* the thread holds bytes it is writing */
	int failed;			/* a write failed: the reader is gone */
	int quit;
	/* where each queued item ends, as a count of bytes ever queued: a ring of them */
	unsigned long long *ends, in, out;
	size_t nends, ehead, elen;
	unsigned long long dropped;
	const char *items;
	int said;
};

/* Items at least this long on average fill the bytes before the ring of their ends. */
#define ITEM_MIN 64

static void *run(void *arg)
{
	struct ct_writer *w = arg;
	char chunk[65536];

	pthread_mutex_lock(&w->lock);
	for (;;) {
		size_t n, first;
		ssize_t r;

		while (!w->len && !w->quit)
			pthread_cond_wait(&w->more, &w->lock);
		if (!w->len)
			break;
		n = w->len < sizeof(chunk) ? w->len : sizeof(chunk);
		first = w->cap - w->head < n ? w->cap - w->head : n;
		memcpy(chunk, w->buf + w->head, first);
		memcpy(chunk + first, w->buf, n - first);
		w->writing = 1;
		pthread_mutex_unlock(&w->lock);
		/* blocking, outside the lock: the session only ever waits for the lock */
		for (size_t off = 0; off < n; off += (size_t)r) {
			r = write(w->fd, chunk + off, n - off);
			if (r < 0 && errno == EINTR) {
				r = 0;
				continue;
			}
			if (r <= 0) {
				pthread_mutex_lock(&w->lock);
				w->failed = 1;
				w->writing = 0;
				pthread_cond_broadcast(&w->empty);
				pthread_mutex_unlock(&w->lock);
				return NULL;
			}
		}
		pthread_mutex_lock(&w->lock);
		w->head = (w->head + n) % w->cap;
		w->len -= n;
		w->writing = 0;
		w->out += n;
		while (w->elen && w->ends[w->ehead] <= w->out) {
			w->ehead = (w->ehead + 1) % w->nends;
			w->elen--;
		}
		if (!w->len)
			pthread_cond_broadcast(&w->empty);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct ct_writer *ct_writer_start(int fd, size_t capacity)
{
	struct ct_writer *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int e;

	if (!w || !(w->buf = malloc(capacity)) ||
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

int ct_writer_line(struct ct_writer *w, const char *line, size_t n)
{
	int ret = 0;

	pthread_mutex_lock(&w->lock);
	if (w->failed) {
		ret = -1;
	} else if (n > w->cap - w->len || w->elen == w->nends) {
		w->dropped++;
		ret = 1;
	} else {
		size_t tail = (w->head + w->len) % w->cap, first = w->cap - tail;

		first = first < n ? first : n;
		memcpy(w->buf + tail, line, first);
		memcpy(w->buf, line + first, n - first);
		w->len += n;
		w->in += n;
		w->ends[(w->ehead + w->elen++) % w->nends] = w->in;
		pthread_cond_signal(&w->more);
	}
	pthread_mutex_unlock(&w->lock);
	if (ret == 1 && !w->said) {
		w->said = 1;
		pr_warn("stdout does not take the %s as fast as they come (a reader that "
			"stopped reading?): those that do not fit are dropped whole and counted\n",
			w->items);
	}
	return ret;
}

void ct_writer_stop(struct ct_writer *w, int ms)
{
	struct timespec until;
	int stuck;

	if (!w)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while ((w->len || w->writing) && !w->failed &&
	       pthread_cond_timedwait(&w->empty, &w->lock, &until) != ETIMEDOUT)
		;
	stuck = (w->len || w->writing) && !w->failed;
	w->quit = 1;
	pthread_cond_signal(&w->more);
	/* what is still queued, or half written, will not be written: dropped too */
	if (stuck)
		w->dropped += w->elen;
	pthread_mutex_unlock(&w->lock);
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
