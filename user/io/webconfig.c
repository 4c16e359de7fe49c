// SPDX-License-Identifier: BSD-3-Clause
/*
 * webconfig.c - the web configuration file of --metrics (YAML, read with libyaml), and
 * basic authentication against its bcrypt hashes (libcrypt's crypt_r).
 */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "webconfig.h"

#define CT_WEB_FILE_MAX (1u << 20)	/* a certificate chain, with room */

/* What the exporters' file may hold that closetrace does not do: refused by name. */
static const char *const unsupported[] = {
	"client_auth_type", "client_ca_file", "client_allowed_sans", "min_version",
	"max_version", "cipher_suites", "curve_preferences", "prefer_server_cipher_suites",
	NULL,
};

struct ctx {
	const char *path;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *x, const yaml_node_t *n, const char *what)
{
	if (n)
		snprintf(x->err, x->errlen, "--web-config %s: line %zu: %s", x->path,
			 n->start_mark.line + 1, what);
	else
		snprintf(x->err, x->errlen, "--web-config %s: %s", x->path, what);
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A file named in the configuration, whole: relative to the configuration's folder. */
static char *read_named(struct ctx *x, const yaml_node_t *n)
{
	const char *name = scalar(n), *slash = strrchr(x->path, '/');
	char path[4096], msg[4200];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!name || !*name) {
		fail(x, n, "a file name is needed here");
		return NULL;
	}
	if (name[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - x->path), x->path, name);
	f = fopen(path, "re");
	if (f) {
		buf = malloc(CT_WEB_FILE_MAX + 1);
		len = buf ? fread(buf, 1, CT_WEB_FILE_MAX + 1, f) : 0;
		fclose(f);
	}
	if (!f || !buf || !len || len > CT_WEB_FILE_MAX) {
		snprintf(msg, sizeof(msg), "cannot read %s: %s", path,
			 !f ? strerror(errno) : !buf ? "out of memory" :
			 !len ? "it is empty" : "it is over 1 MiB");
		fail(x, n, msg);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int tls_section(struct ctx *x, const yaml_node_t *m, struct ct_web_config *wc)
{
	const yaml_node_t *cert = NULL, *key = NULL;
	char msg[160];

	if (m->type != YAML_MAPPING_NODE)
		return fail(x, m, "tls_server_config holds cert_file and key_file");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *name = scalar(k);

		if (name && !strcmp(name, "cert_file")) {
			cert = v;
			continue;
		}
		if (name && !strcmp(name, "key_file")) {
			key = v;
			continue;
		}
		for (int i = 0; name && unsupported[i]; i++)
			if (!strcmp(name, unsupported[i])) {
				snprintf(msg, sizeof(msg), "tls_server_config: %s is not supported "
					 "by closetrace (a certificate and its key only)", name);
				return fail(x, k, msg);
			}
		snprintf(msg, sizeof(msg), "tls_server_config: unknown key '%.40s'",
			 name ? name : "?");
		return fail(x, k, msg);
	}
	if (!cert || !key)
		return fail(x, m, "tls_server_config needs both cert_file and key_file");
	wc->cert_pem = read_named(x, cert);
	wc->key_pem = wc->cert_pem ? read_named(x, key) : NULL;
	return wc->key_pem ? 0 : -1;
}

static int is_bcrypt(const char *h)
{
	return strlen(h) == 60 && h[0] == '$' && h[1] == '2' && strchr("aby", h[2]) &&
	       h[3] == '$';
}

static int users_section(struct ctx *x, const yaml_node_t *m, struct ct_web_config *wc)
{
	char msg[160];

	if (m->type != YAML_MAPPING_NODE)
		return fail(x, m, "basic_auth_users maps each user to a bcrypt hash");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *name = scalar(k), *hash = scalar(v);
		struct ct_web_user *u;

		if (!name || !*name || strchr(name, ':'))
			return fail(x, k, "a user name, without ':', is needed here");
		if (!hash || !is_bcrypt(hash)) {
			snprintf(msg, sizeof(msg), "user %.40s: the password must be a bcrypt hash "
				 "($2y$..., as htpasswd -nB makes them)", name);
			return fail(x, v ? v : k, msg);
		}
		if (wc->nusers == CT_WEB_USERS_MAX)
			return fail(x, k, "more than 64 users");
		u = &wc->users[wc->nusers];
		u->name = strdup(name);
		u->hash = strdup(hash);
		if (!u->name || !u->hash) {
			free(u->name);
			free(u->hash);
			return fail(x, k, "out of memory");
		}
		wc->nusers++;
	}
	return 0;
}

static int top(struct ctx *x, const yaml_node_t *root, struct ct_web_config *wc)
{
	char msg[160];

	if (!root)
		return 0;	/* an empty file: plain HTTP, no authentication */
	if (root->type != YAML_MAPPING_NODE)
		return fail(x, root, "expected tls_server_config and basic_auth_users");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *name = scalar(k);
		int r;

		if (name && !strcmp(name, "tls_server_config"))
			r = tls_section(x, v, wc);
		else if (name && !strcmp(name, "basic_auth_users"))
			r = users_section(x, v, wc);
		else if (name && !strcmp(name, "http_server_config"))
			r = fail(x, k, "http_server_config is not supported by closetrace");
		else {
			snprintf(msg, sizeof(msg), "unknown key '%.40s' (tls_server_config and "
				 "basic_auth_users are known)", name ? name : "?");
			r = fail(x, k, msg);
		}
		if (r)
			return r;
	}
	return 0;
}

int ct_web_config_load(const char *path, struct ct_web_config *wc, char *err, size_t errlen)
{
	struct ctx x = { .path = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	FILE *f;
	int ret;

	memset(wc, 0, sizeof(*wc));
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "--web-config %s: %s", path, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, errlen, "--web-config %s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "--web-config %s: line %zu: %s", path,
			 parser.problem_mark.line + 1, parser.problem ? parser.problem : "bad YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	x.doc = &doc;
	ret = top(&x, yaml_document_get_root_node(&doc), wc);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (!ret && ct_sipkey_random(&wc->key)) {
		snprintf(err, errlen, "--web-config %s: no random key: %s", path, strerror(errno));
		ret = -1;
	}
	if (ret)
		ct_web_config_free(wc);
	return ret;
}

void ct_web_config_free(struct ct_web_config *wc)
{
	if (wc->key_pem)
		memset(wc->key_pem, 0, strlen(wc->key_pem));
	free(wc->cert_pem);
	free(wc->key_pem);
	for (int i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	memset(wc, 0, sizeof(*wc));
}

/* Equal, in a time that does not tell where they differ. */
static int same(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

int ct_web_config_allows(struct ct_web_config *wc, const char *user, const char *password)
{
	static struct crypt_data cd;
	struct ct_web_user *u = NULL;
	const char *got;
	__u64 h;

	if (!user || !password || !wc->nusers)
		return 0;
	for (int i = 0; i < wc->nusers && !u; i++)
		if (!strcmp(wc->users[i].name, user))
			u = &wc->users[i];
	h = ct_siphash(&wc->key, password, strlen(password)) | 1;
	if (u && u->good == h)
		return 1;
	/* an unknown user costs a bcrypt too: the time does not say which users exist */
	got = crypt_r(password, u ? u->hash : wc->users[0].hash, &cd);
	if (!u || !got || strlen(got) != 60 || !same(got, u->hash, 60))
		return 0;
	u->good = h;
	return 1;
}
