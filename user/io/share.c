// SPDX-License-Identifier: BSD-3-Clause
/*
 * share.c - the agent's sockets for local viewers, and the viewers' end of them. The agent
 * side never blocks: sockets are non-blocking, each viewer has its own bounded queue, and
 * what does not fit is dropped for that viewer alone and counted.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "share.h"

#define QUEUE_FIRST (64u << 10)		/* a viewer's queue starts this big, then doubles */
#define FLUSH_AT (256u << 10)		/* queued bytes written at once, not at the next service */
#define MSG_MAX (1u << 20)		/* the largest message a viewer takes */
#define HELLO_WAIT_MS 5000

struct viewer {
	int fd;			/* -1: a free slot */
	int slot;		/* the interface (its listening socket) */
	char *q;		/* bytes queued, [off, len) */
	size_t off, len, cap;
	size_t flush_mark;	/* queued bytes at which to write at once */
	__u64 dropped;		/* records that did not fit, in all */
	int dropping;		/* the last record did not fit (said in its status) */
	struct ct_share_sub sub;
	int subscribed;
	char in[sizeof(struct ct_share_hdr) + sizeof(struct ct_share_sub)];
	size_t inlen;
};

struct ct_share {
	int n;
	int lfd[CT_MAX_IFACES];
	char name[CT_MAX_IFACES][16];
	char path[CT_MAX_IFACES][sizeof(((struct sockaddr_un *)0)->sun_path)];
	int xdp;
	int owners;
	struct viewer v[CT_SHARE_VIEWERS];
	__u64 dropped;		/* for every viewer, in all */
	__u64 scans;
	char *scratch;		/* one message, encoded once for every viewer */
	size_t scratch_cap;
};

const char *ct_share_dir(void)
{
	const char *d = getenv("CLOSETRACE_RUN_DIR");

	return d && *d ? d : CT_SHARE_DIR;
}

unsigned long ct_share_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (unsigned long)st.st_ino;
}

/*
 * Interface names are a network namespace's: eth0 in a container is not the host's. The
 * socket names the namespace, so that an agent and its viewers meet in theirs only.
 */
void ct_share_path(const char *iface, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s@%lu.sock", ct_share_dir(), iface, ct_share_netns());
}

/* --- the agent ------------------------------------------------------------------------ */

static void viewer_drop(struct ct_share *sh, struct viewer *v)
{
	(void)sh;
	if (v->fd >= 0)
		close(v->fd);
	free(v->q);
	memset(v, 0, sizeof(*v));
	v->fd = -1;
}

/* Write what is queued for @v, as much as its socket takes now. */
static void viewer_flush(struct ct_share *sh, struct viewer *v)
{
	while (v->off < v->len) {
		ssize_t n = send(v->fd, v->q + v->off, v->len - v->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			v->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		pr_debug("share: viewer %s[%u] gone\n", v->sub.name, v->sub.pid);
		viewer_drop(sh, v);	/* it went away: its socket is closed */
		return;
	}
	v->off = v->len = 0;
	v->flush_mark = FLUSH_AT;
}

/* Queue @len bytes for @v; 0, or -1 when its queue is full (the message is dropped). */
static int viewer_queue(struct ct_share *sh, struct viewer *v, const void *msg, size_t len)
{
	if (v->len + len > v->cap && v->off) {
		memmove(v->q, v->q + v->off, v->len - v->off);
		v->len -= v->off;
		v->off = 0;
	}
	if (v->len + len > v->cap) {
		size_t cap = v->cap ? v->cap : QUEUE_FIRST;
		char *q;

		while (cap < v->len + len && cap < CT_SHARE_QUEUE)
			cap *= 2;
		if (cap < v->len + len || !(q = realloc(v->q, cap)))
			return -1;
		v->q = q;
		v->cap = cap;
	}
	memcpy(v->q + v->len, msg, len);
	v->len += len;
	/*
	 * written at once every FLUSH_AT bytes queued: a drain of thousands of events goes
	 * out to a reading viewer as it is handed out, not after it (its queue would fill);
	 * a viewer that does not read costs one system call a FLUSH_AT, not one a record
	 */
	if (v->len - v->off >= v->flush_mark) {
		viewer_flush(sh, v);
		if (v->fd >= 0)
			v->flush_mark = v->len - v->off + FLUSH_AT;
	}
	return 0;
}

/* The scratch message: a header of @type and room for @body bytes */
static void *scratch(struct ct_share *sh, enum ct_share_msg type, size_t body)
{
	size_t need = sizeof(struct ct_share_hdr) + body;
	struct ct_share_hdr *h;

	if (need > sh->scratch_cap) {
		char *p = realloc(sh->scratch, need);

		if (!p)
			return NULL;
		sh->scratch = p;
		sh->scratch_cap = need;
	}
	h = (struct ct_share_hdr *)sh->scratch;
	h->len = (__u32)need;
	h->type = (__u16)type;
	h->pad = 0;
	return h + 1;
}

static void say_hello(struct ct_share *sh, struct viewer *v)
{
	struct ct_share_hello *h = scratch(sh, CT_SM_HELLO, sizeof(*h));

	if (!h) {
		viewer_drop(sh, v);
		return;
	}
	memset(h, 0, sizeof(*h));
	snprintf(h->version, sizeof(h->version), "%s", CT_VERSION);
	h->rec_size = (__u32)(sizeof(struct ct_flow_key) + sizeof(struct ct_flow));
	h->pid = (__u32)getpid();
	h->xdp = (__u32)sh->xdp;
	h->owners = (__u32)sh->owners;
	for (int i = 0; i < CT_SHARE_VIEWERS; i++) {
		const struct viewer *o = &sh->v[i];

		if (o->fd < 0 || !o->subscribed)
			continue;
		if (h->viewers < sizeof(h->who) / sizeof(h->who[0])) {
			h->who[h->viewers].pid = o->sub.pid;
			memcpy(h->who[h->viewers].name, o->sub.name, sizeof(o->sub.name));
		}
		h->viewers++;
	}
	snprintf(h->iface, sizeof(h->iface), "%s", sh->name[v->slot]);
	if (viewer_queue(sh, v, sh->scratch, ((struct ct_share_hdr *)sh->scratch)->len))
		viewer_drop(sh, v);
}

/*
 * Connect to @path and leave: 0 when an agent listens there, else connect's errno (EAGAIN:
 * one does, stopped with its backlog full; ECONNREFUSED: a socket nobody listens on).
 * Non-blocking, so that a stopped agent hangs nobody.
 */
static int probe(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;

	if (fd < 0)
		return errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		e = errno;
	close(fd);
	return e;
}

/* One listening socket: a stale one (its agent gone) is replaced, a live one refused. */
static int listen_on(struct ct_share *sh, int i, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct group *g = getgrnam(CT_SHARE_GROUP);
	mode_t old;
	int fd, r, e;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sh->path[i]);
	e = probe(sh->path[i]);
	if (!e || e == EAGAIN) {
		snprintf(err, errlen, "%s: another closetrace already shares it (%s)", sh->name[i],
			 sh->path[i]);
		return -1;
	}
	unlink(sh->path[i]);	/* a stale socket: its agent is gone */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot share the session: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || listen(fd, 16)) {
		snprintf(err, errlen, "cannot share the session at %s: %s", sh->path[i],
			 strerror(errno));
		close(fd);
		return -1;
	}
	/* the closetrace group reads it, where there is one; else root alone */
	if (g && (chown(sh->path[i], (uid_t)-1, g->gr_gid) || chmod(sh->path[i], 0660)))
		pr_info("%s: cannot give the group %s access: %s\n", sh->path[i], CT_SHARE_GROUP,
			strerror(errno));
	sh->lfd[i] = fd;
	return 0;
}

struct ct_share *ct_share_open(char *const *ifaces, int n, int xdp, char *err, size_t errlen)
{
	const char *dir = ct_share_dir();
	struct ct_share *sh = calloc(1, sizeof(*sh));

	if (!sh) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < CT_MAX_IFACES; i++)
		sh->lfd[i] = -1;
	for (int i = 0; i < CT_SHARE_VIEWERS; i++)
		sh->v[i].fd = -1;
	sh->xdp = xdp;
	/*
	 * root's (or the unit's RuntimeDirectory): never given to --user, who could plant
	 * sockets there that viewers would trust; an agent that dropped to --user cannot
	 * remove its sockets then, and the next one replaces them
	 */
	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "cannot share the session: %s: %s", dir, strerror(errno));
		free(sh);
		return NULL;
	}
	for (int i = 0; i < n && i < CT_MAX_IFACES; i++) {
		snprintf(sh->name[i], sizeof(sh->name[i]), "%s", ifaces[i]);
		ct_share_path(ifaces[i], sh->path[i], sizeof(sh->path[i]));
		sh->n = i + 1;
		if (listen_on(sh, i, err, errlen)) {
			sh->path[i][0] = '\0';	/* not ours: left alone */
			ct_share_close(sh);
			return NULL;
		}
	}
	return sh;
}

void ct_share_rename(struct ct_share *sh, int slot, const char *name)
{
	if (sh && slot >= 0 && slot < sh->n)
		snprintf(sh->name[slot], sizeof(sh->name[slot]), "%s", name);
}

void ct_share_set_owners(struct ct_share *sh, int owners)
{
	if (sh)
		sh->owners = owners;
}

void ct_share_close(struct ct_share *sh)
{
	if (!sh)
		return;
	for (int i = 0; i < CT_SHARE_VIEWERS; i++) {
		if (sh->v[i].fd < 0)
			continue;
		viewer_flush(sh, &sh->v[i]);	/* what fits goes; the rest is lost with it */
		if (sh->v[i].fd >= 0)
			viewer_drop(sh, &sh->v[i]);
	}
	for (int i = 0; i < sh->n; i++) {
		if (sh->lfd[i] >= 0)
			close(sh->lfd[i]);
		if (sh->lfd[i] >= 0 && sh->path[i][0] && unlink(sh->path[i]))
			pr_info("%s: cannot remove it: %s\n", sh->path[i], strerror(errno));
	}
	/* the directory goes once its last socket has, whichever agent made it */
	rmdir(ct_share_dir());
	free(sh->scratch);
	free(sh);
}

void ct_share_record(struct ct_share *sh, const struct ct_record *r, int visit)
{
	size_t il, cl, body;
	char *p;
	int slot = -1, any = 0;

	/* whose interface: a capture's records name none, a live one's its interface */
	for (int i = 0; i < sh->n && r->iface; i++)
		if (!strcmp(sh->name[i], r->iface))
			slot = i;
	/*
	 * every viewer from its hello on: its subscription may still be on its way, and
	 * what comes meanwhile is its too; the flows scans leave only for those asking
	 */
	for (int i = 0; i < CT_SHARE_VIEWERS && !any; i++)
		any = sh->v[i].fd >= 0 && (slot < 0 || sh->v[i].slot == slot) &&
		      (!visit || (sh->v[i].sub.flags & CT_SUB_VISITS));
	if (!any)
		return;
	il = r->iface ? strlen(r->iface) : 0;
	cl = r->cgroup ? strlen(r->cgroup) : 0;
	body = sizeof(*r) + il + 1 + cl + 1;
	p = scratch(sh, CT_SM_RECORD, body);
	if (!p)
		return;
	/* the record as it is, its pointers replaced by the strings after it */
	memcpy(p, r, sizeof(*r));
	((struct ct_record *)p)->iface = NULL;
	((struct ct_record *)p)->zones = NULL;
	((struct ct_record *)p)->cgroup = NULL;
	memcpy(p + sizeof(*r), r->iface ? r->iface : "", il + 1);
	memcpy(p + sizeof(*r) + il + 1, r->cgroup ? r->cgroup : "", cl + 1);
	for (int i = 0; i < CT_SHARE_VIEWERS; i++) {
		struct viewer *v = &sh->v[i];

		if (v->fd < 0 || (slot >= 0 && v->slot != slot) ||
		    (visit && !(v->sub.flags & CT_SUB_VISITS)))
			continue;
		if (viewer_queue(sh, v, sh->scratch, ((struct ct_share_hdr *)sh->scratch)->len)) {
			v->dropped++;
			sh->dropped++;
		}
	}
}

void ct_share_status(struct ct_share *sh, const struct ct_loss *lost, __u64 flows, __u64 cap,
		     int whole_scan)
{
	sh->scans += !!whole_scan;
	for (int i = 0; i < CT_SHARE_VIEWERS; i++) {
		struct viewer *v = &sh->v[i];
		struct ct_share_status *st;

		if (v->fd < 0)
			continue;
		st = scratch(sh, CT_SM_STATUS, sizeof(*st));
		if (!st)
			return;
		memset(st, 0, sizeof(*st));
		if (lost)
			st->lost = *lost;
		st->table_flows = flows;
		st->table_capacity = cap;
		st->dropped = v->dropped;
		st->scans = sh->scans;
		viewer_queue(sh, v, sh->scratch, ((struct ct_share_hdr *)sh->scratch)->len);
	}
}

/* The viewer's subscription, as it comes (a few bytes, maybe in pieces) */
static void read_sub(struct ct_share *sh, struct viewer *v)
{
	struct ct_share_hdr h;
	ssize_t n;

	if (v->subscribed) {
		char junk[256];

		/* nothing more is expected: what comes is read and ignored, an EOF ends it */
		n = recv(v->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			viewer_drop(sh, v);
		return;
	}
	n = recv(v->fd, v->in + v->inlen, sizeof(v->in) - v->inlen, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		viewer_drop(sh, v);
		return;
	}
	if (n > 0)
		v->inlen += (size_t)n;
	if (v->inlen < sizeof(v->in))
		return;
	memcpy(&h, v->in, sizeof(h));
	if (h.type != CT_SM_SUB || h.len != sizeof(v->in)) {
		viewer_drop(sh, v);	/* not a viewer of this version */
		return;
	}
	memcpy(&v->sub, v->in + sizeof(h), sizeof(v->sub));
	v->sub.name[sizeof(v->sub.name) - 1] = '\0';
	v->subscribed = 1;
	pr_info("share: a viewer (%s[%u]) on %s\n", v->sub.name, v->sub.pid, sh->name[v->slot]);
}

int ct_share_service(struct ct_share *sh)
{
	int visits = 0;

	for (int i = 0; i < sh->n; i++) {
		int fd;

		while ((fd = accept4(sh->lfd[i], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			struct viewer *v = NULL;

			for (int k = 0; k < CT_SHARE_VIEWERS && !v; k++)
				if (sh->v[k].fd < 0)
					v = &sh->v[k];
			if (!v) {
				close(fd);	/* full: it sees the end before any hello */
				continue;
			}
			v->fd = fd;
			v->slot = i;
			v->flush_mark = FLUSH_AT;
			say_hello(sh, v);
		}
	}
	for (int i = 0; i < CT_SHARE_VIEWERS; i++) {
		struct viewer *v = &sh->v[i];

		if (v->fd >= 0)
			read_sub(sh, v);
		if (v->fd >= 0)
			viewer_flush(sh, v);
		if (v->fd >= 0 && v->subscribed && (v->sub.flags & CT_SUB_VISITS))
			visits = 1;
	}
	return visits;
}

void ct_share_counts(const struct ct_share *sh, __u64 *viewers, __u64 *dropped)
{
	*viewers = 0;
	for (int i = 0; sh && i < CT_SHARE_VIEWERS; i++)
		*viewers += sh->v[i].fd >= 0 && sh->v[i].subscribed;
	*dropped = sh ? sh->dropped : 0;
}

/* Whether @path is a socket nobody listens on (an agent's that was killed) */
static int stale(const char *path)
{
	return probe(path) == ECONNREFUSED;
}

int ct_share_remove_stale(const char *iface)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)], tail[32];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (iface) {
		ct_share_path(iface, path, sizeof(path));
		n = stale(path) && !unlink(path);
	} else if ((d = opendir(ct_share_dir()))) {
		snprintf(tail, sizeof(tail), "@%lu.sock", ct_share_netns());
		while ((e = readdir(d))) {
			size_t len = strlen(e->d_name), tl = strlen(tail);

			if (len <= tl || strcmp(e->d_name + len - tl, tail))
				continue;
			snprintf(path, sizeof(path), "%s/%s", ct_share_dir(), e->d_name);
			n += stale(path) && !unlink(path);
		}
		closedir(d);
	}
	if (n)
		rmdir(ct_share_dir());	/* when that was the last */
	return n;
}

/* --- the viewer ----------------------------------------------------------------------- */

/* Read exactly @len bytes within @ms: 0, or -1 */
static int read_full(int fd, void *buf, size_t len, int ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ms) <= 0)
			return -1;
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

int ct_share_connect(const char *iface, struct ct_share_hello *h, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct {
		struct ct_share_hdr hdr;
		struct ct_share_hello hello;
	} msg;
	int fd, e;

	ct_share_path(iface, sa.sun_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -2;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = errno;
		close(fd);
		if (e == EAGAIN) {
			snprintf(err, errlen, "%s: the agent sharing it (%s) takes no viewer now "
				 "(stopped, or its backlog full)", iface, sa.sun_path);
			return -3;
		}
		if (e == EACCES || e == EPERM) {
			snprintf(err, errlen, "%s: an agent watches it, but %s is for the %s group: "
				 "join it to view (sudo usermod -aG %s $USER, then log in again)",
				 iface, sa.sun_path, CT_SHARE_GROUP, CT_SHARE_GROUP);
			return -2;
		}
		return -1;	/* no socket, or a stale one: no agent */
	}
	if (read_full(fd, &msg, sizeof(msg), HELLO_WAIT_MS) || msg.hdr.type != CT_SM_HELLO ||
	    msg.hdr.len != sizeof(msg)) {
		close(fd);
		snprintf(err, errlen, "%s: the agent sharing it (%s) said no hello: it is starting "
			 "or stopping, serves %d viewers already, or is of another version", iface,
			 sa.sun_path, CT_SHARE_VIEWERS);
		return -3;
	}
	msg.hello.version[sizeof(msg.hello.version) - 1] = '\0';
	if (strcmp(msg.hello.version, CT_VERSION) ||
	    msg.hello.rec_size != sizeof(struct ct_flow_key) + sizeof(struct ct_flow)) {
		close(fd);
		snprintf(err, errlen, "%s: the agent watching it (pid %u) runs closetrace %s, this "
			 "is %s: view it with its own binary, or attach apart (--no-agent)", iface,
			 msg.hello.pid, msg.hello.version, CT_VERSION);
		return -2;
	}
	*h = msg.hello;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

int ct_share_subscribe(int fd, __u32 flags, const char *name)
{
	struct {
		struct ct_share_hdr hdr;
		struct ct_share_sub sub;
	} msg;
	size_t off = 0;

	memset(&msg, 0, sizeof(msg));
	msg.hdr.len = sizeof(msg);
	msg.hdr.type = CT_SM_SUB;
	msg.sub.flags = flags;
	msg.sub.pid = (__u32)getpid();
	snprintf(msg.sub.name, sizeof(msg.sub.name), "%s", name);
	while (off < sizeof(msg)) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, (char *)&msg + off, sizeof(msg) - off, MSG_NOSIGNAL |
				 MSG_DONTWAIT);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && poll(&p, 1, 1000) > 0)
			continue;
		return -1;
	}
	return 0;
}

int ct_share_read(int fd, struct ct_share_rx *rx)
{
	int got = 0;

	for (;;) {
		ssize_t n;

		if (rx->off && rx->off == rx->len)
			rx->off = rx->len = 0;
		if (rx->cap - rx->len < 65536) {
			size_t cap = rx->cap ? rx->cap * 2 : 262144;
			char *b;

			if (rx->off) {	/* room first from what was handed out */
				memmove(rx->buf, rx->buf + rx->off, rx->len - rx->off);
				rx->len -= rx->off;
				rx->off = 0;
			}
			if (rx->cap - rx->len < 65536) {
				if (cap > 2 * MSG_MAX + 262144)
					return got ? 1 : -1;	/* hand out first */
				b = realloc(rx->buf, cap);
				if (!b)
					return -1;
				rx->buf = b;
				rx->cap = cap;
			}
		}
		n = recv(fd, rx->buf + rx->len, rx->cap - rx->len, MSG_DONTWAIT);
		if (n > 0) {
			rx->len += (size_t)n;
			got = 1;
			if (rx->len - rx->off > MSG_MAX)
				return 1;	/* enough for now */
			continue;
		}
		if (n == 0)
			return got ? 1 : 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		return -1;
	}
}

int ct_share_next(struct ct_share_rx *rx, const struct ct_share_hdr **h, const void **body)
{
	if (rx->len - rx->off < sizeof(rx->hdr))
		return 0;
	memcpy(&rx->hdr, rx->buf + rx->off, sizeof(rx->hdr));
	if (rx->hdr.len < sizeof(rx->hdr) || rx->hdr.len > MSG_MAX)
		return -1;
	if (rx->len - rx->off < rx->hdr.len)
		return 0;
	*h = &rx->hdr;
	*body = rx->buf + rx->off + sizeof(rx->hdr);
	rx->off += rx->hdr.len;
	return 1;
}

void ct_share_rx_free(struct ct_share_rx *rx)
{
	free(rx->buf);
	memset(rx, 0, sizeof(*rx));
}

int ct_share_decode(const void *body, size_t len, struct ct_record *r)
{
	const char *s = (const char *)body + sizeof(*r), *end = (const char *)body + len;
	const char *cg;

	if (len < sizeof(*r) + 2 || end[-1] != '\0')
		return -1;
	memcpy(r, body, sizeof(*r));
	cg = memchr(s, '\0', (size_t)(end - s));
	if (!cg || cg + 1 >= end)
		return -1;
	r->iface = s;
	r->cgroup = cg[1] ? cg + 1 : NULL;
	r->zones = NULL;
	return 0;
}
