/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.h - the `--metrics` endpoint: GET and HEAD of /metrics over HTTP (libmicrohttpd,
 * in a thread of its own), rendering the latest snapshot the session published. The
 * session only copies a snapshot in; a scrape never touches BPF maps, and a slow, silent
 * or oversized client never holds the session up.
 */
#ifndef CT_HTTP_H
#define CT_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "metrics.h"

struct ct_http;
struct ct_web_config;

/* Parse --metrics [ADDR]:PORT (a bare port, or ":PORT", is 127.0.0.1); 0, or -1 with @err. */
int ct_http_parse_addr(const char *s, struct sockaddr_storage *sa, char *err, size_t errlen);

/*
 * Listen on @sa, for @model's layout (its interfaces and ports), copied, with the TLS and
 * users of @web (--web-config; NULL: plain HTTP, anyone), which the server takes over and
 * frees, whatever happens; NULL with one
 * sentence in @err (the address is in use, not on this host, ...). Nothing is served
 * before ct_http_serve(), which starts the server's thread: call it once privileges are
 * dropped, since a thread keeps the capabilities it was born with.
 */
struct ct_http *ct_http_open(const struct sockaddr_storage *sa, const struct ct_metrics *model,
			     struct ct_web_config *web, char *err, size_t errlen);
int ct_http_serve(struct ct_http *h, char *err, size_t errlen);

/* Make @m what the next scrape shows. */
void ct_http_publish(struct ct_http *h, const struct ct_metrics *m);

/* Stop serving (connections in progress are closed) and free everything; NULL is fine. */
void ct_http_stop(struct ct_http *h);

/* The address as text, for messages: 127.0.0.1:9464, [::1]:9464. */
void ct_http_addr_str(const struct sockaddr_storage *sa, char *buf, size_t len);

#endif /* CT_HTTP_H */
