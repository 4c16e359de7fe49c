// SPDX-License-Identifier: BSD-3-Clause
/*
 * http.c - /metrics over HTTP with libmicrohttpd: one internal thread polling every
 * connection (none blocks another), bounded connections, a timeout for clients that send
 * nothing, a small per-connection memory limit for oversized requests. The process's own
 * metrics (CPU, memory, start time, descriptors) are read when a scrape comes.
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
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "numbers.h"

#define CT_HTTP_CONNECTIONS 64		/* scrapes at once; more wait in the backlog */
#define CT_HTTP_TIMEOUT_S 10		/* a client that sends nothing is dropped after this */
#define CT_HTTP_CONN_MEMORY 16384	/* headers past this are refused, the body ignored */
#define CT_HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct ct_http {
	struct MHD_Daemon *d;
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct ct_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct ct_metrics m;
	char *text;
	size_t len;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
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
			     char *err, size_t errlen)
{
	struct ct_http *h = calloc(1, sizeof(*h));
	char where[80];

	ct_http_addr_str(sa, where, sizeof(where));
	if (!h || ct_metrics_init(&h->shown, model->nifs, model->ports, model->nports)) {
		snprintf(err, errlen, "--metrics %s: out of memory", where);
		free(h);
		return NULL;
	}
	snprintf(h->where, sizeof(h->where), "%s", where);
	ct_metrics_copy(&h->shown, model);
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
	sigset_t all, old;

	/* the server's thread takes no signal: they are the session's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
				0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CT_HTTP_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CT_HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CT_HTTP_CONN_MEMORY,
				MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL,
				MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d) {
		snprintf(err, errlen, "--metrics %s: cannot start serving (libmicrohttpd)",
			 h->where);
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
	ct_metrics_free(&h->shown);
	free(h);
}
