/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * webconfig.h - `--web-config FILE`: TLS and basic authentication for --metrics, in the
 * shape of the Prometheus exporters' web configuration file (node_exporter's):
 *
 *   tls_server_config:
 *     cert_file: server.crt        # PEM; relative paths are from FILE's folder
 *     key_file: server.key
 *   basic_auth_users:
 *     prometheus: $2y$10$...       # bcrypt, as htpasswd -nB makes them
 *
 * Either part may be left out. What closetrace does not implement (client certificates,
 * TLS versions and ciphers, HTTP headers) is refused by name, not ignored.
 */
#ifndef CT_WEBCONFIG_H
#define CT_WEBCONFIG_H

#include <stddef.h>
#include <linux/types.h>

#include "siphash.h"

#define CT_WEB_USERS_MAX 64

struct ct_web_user {
	char *name;
	char *hash;		/* bcrypt: $2a$, $2b$ or $2y$ */
	__u64 good;		/* SipHash of the last password that matched, 0: none yet */
};

struct ct_web_config {
	char *cert_pem, *key_pem;	/* the files' contents; NULL: plain HTTP */
	struct ct_web_user users[CT_WEB_USERS_MAX];
	int nusers;			/* 0: no authentication */
	struct ct_sipkey key;		/* for the matched passwords' hashes */
};

/*
 * Read @path (and the certificate and key it names, now: they may be readable by root
 * only, and privileges go later). 0, or -1 with one sentence in @err naming the file and
 * the line.
 */
int ct_web_config_load(const char *path, struct ct_web_config *wc, char *err, size_t errlen);
void ct_web_config_free(struct ct_web_config *wc);

/*
 * Whether @user with @password may scrape: bcrypt against the stored hash (a password
 * that matched once is recognised by its keyed hash afterwards, so that a scraper does
 * not cost a bcrypt every time). Not thread-safe: the HTTP server's thread alone calls it.
 */
int ct_web_config_allows(struct ct_web_config *wc, const char *user, const char *password);

#endif /* CT_WEBCONFIG_H */
