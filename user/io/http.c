// SPDX-License-Identifier: BSD-3-Clause
/*
 * http.c - /metrics over HTTP with libmicrohttpd: one internal thread polling every
 * connection (none blocks another), a small per-connection memory limit for oversized
 * requests, and room kept for a scraper however many clients hold connections without
 * finishing their request (see make_room()). The process's own metrics (CPU, memory,
 * start time, descriptors) are read when a scrape comes.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "numbers.h"
#include "webconfig.h"

/*
 * Slow and idle clients (slowloris: a request's headers sent half, or a byte at a time, and
 * the connection held) cannot take the room a scraper needs. A connection is "pending" until
 * its request's headers are complete; when one more arrives:
 * - a pending connection older than CT_HTTP_HEADER_MS is closed: a real client sends its
 *   headers at once;
 * - from an address that already has CT_HTTP_PER_IP pending, its oldest pending one gives
 *   way (not the newcomer: a scraper may share the address with whatever holds them);
 * - past CT_HTTP_BUDGET connections in all, the oldest pending one gives way.
 * Only a pending connection older than CT_HTTP_GRACE_MS gives way, so that a burst of real
 * scrapes is not mistaken for one. CT_HTTP_CONNECTIONS, libmicrohttpd's own limit, is the
 * hard bound; past it, connections wait in the listen backlog, and the deadline is also
 * applied once a second from the session's tick (ct_http_publish()), which frees the room
 * even when nothing new can be accepted.
 */
#define CT_HTTP_HEADER_MS 2000
#define CT_HTTP_PER_IP 8
#define CT_HTTP_BUDGET 48
#define CT_HTTP_GRACE_MS 250
#define CT_HTTP_CONNECTIONS 256
#define CT_HTTP_TIMEOUT_S 10		/* an idle connection is dropped after this */
#define CT_HTTP_CONN_MEMORY 16384	/* headers past this are refused, the body ignored */
#define CT_HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A connection, from libmicrohttpd's start to its close (its server thread's alone). */
struct conn {
	struct conn *prev, *next;
	int fd;
	struct sockaddr_storage peer;
	__u64 start_ms;
	int headers;			/* the request's headers are complete */
	int closing;			/* shut down here, not yet closed by libmicrohttpd */
};

struct ct_http {
	struct MHD_Daemon *d;
	struct ct_web_config *web;	/* TLS and users (--web-config), or NULL */
	pthread_mutex_t conns_lock;	/* the server's thread, and the session's tick */
	struct conn conns;		/* the list's head: oldest first */
	unsigned int nconns, closed_early;
	int fd;				/* the listening socket until the daemon takes it */
	char where[80];
	pthread_mutex_t lock;
	struct ct_metrics shown;	/* the latest snapshot, under lock */
	/* its layout, which never changes: read without the lock */
	int nifs, nports;
	__u16 ports[CT_METRICS_PORTS_MAX];
};

int ct_http_parse_addr(const char *s, struct sockaddr_storage *sa, char *err, size_t errlen)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	const char *colon = strrchr(s, ':'), *port_s = colon ? colon + 1 : s;
	char host[64];
	long port;

	memset(sa, 0, sizeof(*sa));
	if (ct_parse_long(port_s, 1, 65535, &port)) {
		snprintf(err, errlen, "takes [ADDR:]PORT, PORT from 1 to 65535, not '%s'", s);
		return -1;
	}
	/* a bare port, or ":PORT": loopback; any other address is written out */
	if (!colon || colon == s) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((__u16)port);
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return 0;
	}
	if ((size_t)(colon - s) >= sizeof(host)) {
		snprintf(err, errlen, "takes [ADDR:]PORT, not '%s'", s);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons((__u16)port);
			return 0;
		}
	} else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((__u16)port);
		return 0;
	}
	snprintf(err, errlen, "takes [ADDR:]PORT (192.0.2.1:9464, [::1]:9464, or a port alone "
		 "for 127.0.0.1), not '%s'", s);
	return -1;
}

void ct_http_addr_str(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &v6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(v6->sin6_port));
	} else {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &v4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(v4->sin_port));
	}
}

/* --- the process ------------------------------------------------------------------------ */

static void process_metrics(struct ct_metrics *m)
{
	unsigned long long utime = 0, stime = 0, start = 0, btime = 0, pages = 0;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	char line[1024], *p;
	FILE *f;
	DIR *d;

	f = fopen("/proc/self/stat", "re");
	if (f && fgets(line, sizeof(line), f) && (p = strrchr(line, ')')))
		/* after "pid (comm)": state is field 3; utime 14, stime 15, starttime 22 */
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
		       "%*d %*d %*d %llu", &utime, &stime, &start);
	if (f)
		fclose(f);
	f = fopen("/proc/stat", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	if (f)
		fclose(f);
	f = fopen("/proc/self/statm", "re");
	if (f && fscanf(f, "%*u %llu", &pages) != 1)
		pages = 0;
	if (f)
		fclose(f);
	m->cpu_seconds = tick > 0 ? (double)(utime + stime) / (double)tick : 0;
	m->start_time = tick > 0 ? (double)btime + (double)start / (double)tick : 0;
	m->rss_bytes = pages * (unsigned long long)(page > 0 ? page : 4096);
	m->open_fds = 0;
	d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;

		while ((e = readdir(d)))
			m->open_fds += e->d_name[0] != '.';
		closedir(d);
		m->open_fds--;	/* the directory's own descriptor */
	}
}

/* --- serving ---------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* --- room for a scraper ------------------------------------------------------------------ */

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static int same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

/* Close @k from here: libmicrohttpd sees it end and lets it go. */
static void close_early(struct ct_http *h, struct conn *k)
{
	k->closing = 1;
	h->closed_early++;
	shutdown(k->fd, SHUT_RDWR);
}

/* The oldest pending connection (from @from, or any) older than the grace; NULL if none. */
static struct conn *oldest_pending(struct ct_http *h, const struct sockaddr *from, __u64 now)
{
	for (struct conn *k = h->conns.next; k != &h->conns; k = k->next)
		if (!k->headers && !k->closing && now - k->start_ms >= CT_HTTP_GRACE_MS &&
		    (!from || same_host(&k->peer, from)))
			return k;
	return NULL;
}

/* Close the pending connections past the deadline; the connections left, and @addr's pending. */
static unsigned int past_deadline(struct ct_http *h, const struct sockaddr *addr, __u64 now,
				  unsigned int *mine)
{
	unsigned int live = 0;

	for (struct conn *k = h->conns.next; k != &h->conns; k = k->next) {
		if (!k->headers && !k->closing && now - k->start_ms >= CT_HTTP_HEADER_MS)
			close_early(h, k);
		if (k->closing)
			continue;
		live++;
		if (mine && addr)
			*mine += !k->headers && same_host(&k->peer, addr);
	}
	return live;
}

/* libmicrohttpd asks before accepting a connection from @addr: make room, then take it. */
static enum MHD_Result make_room(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct ct_http *h = cls;
	__u64 now = mono_ms();
	unsigned int live, mine = 0;
	struct conn *k;

	(void)len;
	pthread_mutex_lock(&h->conns_lock);
	live = past_deadline(h, addr, now, &mine);
	if (mine >= CT_HTTP_PER_IP && (k = oldest_pending(h, addr, now))) {
		close_early(h, k);
		live--;
	}
	if (live >= CT_HTTP_BUDGET && (k = oldest_pending(h, NULL, now)))
		close_early(h, k);
	pthread_mutex_unlock(&h->conns_lock);
	return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct ct_http *h = cls;
	struct conn *k = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd, *peer;

		k = calloc(1, sizeof(*k));
		fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		peer = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (!k || !fd || !peer) {
			free(k);	/* not tracked: it never gives way */
			return;
		}
		k->fd = fd->connect_fd;
		memcpy(&k->peer, peer->client_addr, peer->client_addr->sa_family == AF_INET6 ?
			sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
		k->start_ms = mono_ms();
		pthread_mutex_lock(&h->conns_lock);
		k->prev = h->conns.prev;
		k->next = &h->conns;
		h->conns.prev->next = k;
		h->conns.prev = k;
		h->nconns++;
		pthread_mutex_unlock(&h->conns_lock);
		*socket_context = k;
	} else if (k) {
		/* under the lock: the tick never shuts down a descriptor being closed */
		pthread_mutex_lock(&h->conns_lock);
		k->prev->next = k->next;
		k->next->prev = k->prev;
		h->nconns--;
		pthread_mutex_unlock(&h->conns_lock);
		free(k);
		*socket_context = NULL;
	}
}

/* --web-config's users: whether the request's basic authentication names one of them. */
static int authorized(struct ct_http *h, struct MHD_Connection *c)
{
	char *password = NULL, *user = MHD_basic_auth_get_username_password(c, &password);
	int ok = ct_web_config_allows(h->web, user, password);

	if (password) {
		memset(password, 0, strlen(password));
		MHD_free(password);
	}
	MHD_free(user);
	return ok;
}

static enum MHD_Result unauthorized(struct MHD_Connection *c)
{
	static char body[] = "unauthorized: --metrics asks for a user and password\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(body) - 1, body,
								  MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_basic_auth_fail_response(c, "closetrace", r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct ct_http *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct ct_metrics m;
	char *text;
	size_t len;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	/* the headers are complete: this connection never gives way */
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context) {
		pthread_mutex_lock(&h->conns_lock);
		((struct conn *)ci->socket_context)->headers = 1;
		pthread_mutex_unlock(&h->conns_lock);
	}
	if (h->web && h->web->nusers && !authorized(h, c))
		return unauthorized(c);
	/*
	 * Answered at once, on the headers: a body (there should be none) is not read, and
	 * the connection closes after the answer.
	 */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "closetrace serves /metrics\n");

	/* the snapshot is copied under the lock; rendering holds nothing the session needs */
	if (ct_metrics_init(&m, h->nifs, h->ports, h->nports))
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	pthread_mutex_lock(&h->lock);
	ct_metrics_copy(&m, &h->shown);
	pthread_mutex_unlock(&h->lock);
	process_metrics(&m);
	text = ct_metrics_render(&m, &len);
	ct_metrics_free(&m);
	if (!text)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_HTTP_CONTENT_TYPE);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd's own complaints go nowhere: its failures come back as return values */
static void quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

/* A listening socket on @sa; -1 with one sentence in @err. */
static int listen_on(const struct sockaddr_storage *sa, const char *where, char *err,
		     size_t errlen)
{
	socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						    sizeof(struct sockaddr_in);
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
	int e;

	if (fd < 0) {
		snprintf(err, errlen, "--metrics %s: cannot make a socket: %s", where,
			 strerror(errno));
		return -1;
	}
	/* [::] takes IPv4 too, as the system's default (bindv6only) has it */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!bind(fd, (const struct sockaddr *)sa, len) && !listen(fd, 64))
		return fd;
	e = errno;
	close(fd);
	if (e == EADDRINUSE)
		snprintf(err, errlen, "--metrics %s: the address is in use (another closetrace or "
			 "exporter?); pick another port", where);
	else if (e == EADDRNOTAVAIL)
		snprintf(err, errlen, "--metrics %s: no such address on this host", where);
	else if (e == EACCES)
		snprintf(err, errlen, "--metrics %s: not allowed to listen there (a port below "
			 "1024 needs CAP_NET_BIND_SERVICE)", where);
	else
		snprintf(err, errlen, "--metrics %s: cannot listen: %s", where, strerror(e));
	return -1;
}

struct ct_http *ct_http_open(const struct sockaddr_storage *sa, const struct ct_metrics *model,
			     struct ct_web_config *web, char *err, size_t errlen)
{
	struct ct_http *h = calloc(1, sizeof(*h));
	char where[80];

	ct_http_addr_str(sa, where, sizeof(where));
	if (!h || ct_metrics_init(&h->shown, model->nifs, model->ports, model->nports)) {
		snprintf(err, errlen, "--metrics %s: out of memory", where);
		free(h);
		if (web)
			ct_web_config_free(web);
		free(web);
		return NULL;
	}
	h->web = web;
	if (web && web->cert_pem && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(err, errlen, "--metrics %s: this libmicrohttpd has no TLS; leave "
			 "tls_server_config out of --web-config", where);
		ct_http_stop(h);
		return NULL;
	}
	snprintf(h->where, sizeof(h->where), "%s", where);
	ct_metrics_copy(&h->shown, model);
	h->conns.prev = h->conns.next = &h->conns;
	pthread_mutex_init(&h->conns_lock, NULL);
	h->nifs = model->nifs;
	h->nports = model->nports;
	memcpy(h->ports, model->ports, sizeof(h->ports));
	pthread_mutex_init(&h->lock, NULL);
	h->fd = listen_on(sa, where, err, errlen);
	if (h->fd < 0) {
		ct_http_stop(h);
		return NULL;
	}
	return h;
}

int ct_http_serve(struct ct_http *h, char *err, size_t errlen)
{
	int tls = h->web && h->web->cert_pem;
	struct MHD_OptionItem more[] = {
		{ tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, tls ? h->web->key_pem : NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, tls ? h->web->cert_pem : NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	sigset_t all, old;

	/* the server's thread takes no signal: they are the session's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
				(tls ? MHD_USE_TLS : 0),
				0, make_room, h, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CT_HTTP_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CT_HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CT_HTTP_CONN_MEMORY,
				MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL,
				MHD_OPTION_ARRAY, more,
				MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d) {
		snprintf(err, errlen, "--metrics %s: cannot start serving (libmicrohttpd%s)",
			 h->where, tls ? "; is the key the certificate's, both in PEM?" : "");
		return -1;
	}
	h->fd = -1;	/* libmicrohttpd's now: it closes it */
	return 0;
}

void ct_http_publish(struct ct_http *h, const struct ct_metrics *m)
{
	pthread_mutex_lock(&h->lock);
	ct_metrics_copy(&h->shown, m);
	pthread_mutex_unlock(&h->lock);
	/* the deadline, even when no connection comes to apply it */
	pthread_mutex_lock(&h->conns_lock);
	past_deadline(h, NULL, mono_ms(), NULL);
	pthread_mutex_unlock(&h->conns_lock);
}

void ct_http_stop(struct ct_http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->fd >= 0)
		close(h->fd);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->conns_lock);
	ct_metrics_free(&h->shown);
	if (h->web)
		ct_web_config_free(h->web);
	free(h->web);
	free(h);
}
