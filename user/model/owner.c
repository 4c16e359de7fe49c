// SPDX-License-Identifier: BSD-3-Clause
/*
 * owner.c - the application behind a close, in words: cgroup paths read as units,
 * containers and pods, and the APP column of text.
 */
#include <stdio.h>
#include <string.h>

#include "append.h"
#include "metrics.h"
#include "owner.h"
#include "text.h"

/* Whether [s, s + n) is @n lowercase hexadecimal digits. */
static int all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && !memcmp(s + n - k, suffix, k);
}

static int starts_with(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !memcmp(s, prefix, k);
}

/* A 64-hex container id at [s, s + n): copied into @n->container. */
static int take_id(const char *s, size_t n, const char *runtime, struct ct_app_names *out)
{
	if (n != 64 || !all_hex(s, 64))
		return 0;
	memcpy(out->container, s, 64);
	out->container[64] = '\0';
	out->runtime = runtime;
	return 1;
}

/* A scope systemd makes for a container: <prefix><64 hex>.scope */
static const struct {
	const char *prefix;
	const char *runtime;
} scopes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
};

/* A pod uid as the kubelet writes it in a path: 8-4-4-4-12 hex, '_' for '-' with systemd. */
static int take_pod(const char *s, size_t n, struct ct_app_names *out)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-' && c != '_')
				return 0;
			c = '-';
		} else if (!all_hex(&c, 1)) {
			return 0;
		}
		out->pod[i] = c;
	}
	out->pod[36] = '\0';
	return 1;
}

/* One component of a path, @parent the one before it ("" at the top). */
static void component(const char *c, size_t n, const char *parent, size_t pn, int kube,
		      struct ct_app_names *out)
{
	if ((ends_with(c, n, ".service") || ends_with(c, n, ".scope")) &&
	    n < sizeof(out->unit)) {
		memcpy(out->unit, c, n);
		out->unit[n] = '\0';
	}
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t k = strlen(scopes[i].prefix);

		if (starts_with(c, n, scopes[i].prefix) && ends_with(c, n, ".scope") &&
		    take_id(c + k, n - k - strlen(".scope"), scopes[i].runtime, out))
			return;
	}
	/* the cgroupfs drivers: /docker/<id>, /kubepods/burstable/pod<uid>/<id> */
	if (n == 64 && all_hex(c, 64)) {
		take_id(c, n, pn == 6 && !memcmp(parent, "docker", 6) ? "docker" :
			      pn == 11 && !memcmp(parent, "libpod_parent", 11) ? "podman" : NULL,
			out);
		return;
	}
	/* kubepods-burstable-pod<uid>.slice (systemd driver): the uid is the last 36 before
	 * ".slice", after "-pod" */
	if (starts_with(c, n, "kubepods") && ends_with(c, n, ".slice") && n >= 4 + 36 + 6 &&
	    !memcmp(c + n - 6 - 36 - 4, "-pod", 4)) {
		take_pod(c + n - 6 - 36, 36, out);
		return;
	}
	/* pod<uid> below kubepods/ (cgroupfs driver) */
	if (kube && n == 3 + 36 && starts_with(c, n, "pod"))
		take_pod(c + 3, 36, out);
}

int ct_app_names(const char *path, struct ct_app_names *out)
{
	const char *c = path, *parent = "";
	size_t pn = 0;
	int kube;

	memset(out, 0, sizeof(*out));
	if (!path)
		return 0;
	kube = strstr(path, "kubepods") != NULL;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n)
			component(c, n, parent, pn, kube, out);
		if (n) {
			parent = c;
			pn = n;
		}
		c += n + (c[n] == '/');
	}
	return !!out->unit[0] + !!out->container[0] + !!out->pod[0];
}

int ct_rec_nosock(const struct ct_record *r)
{
	return r->type != CT_REC_SUMMARY && r->type != CT_REC_LOSS &&
	       (r->flow.own_flags & CT_OWN_NOSOCK);
}

int ct_rec_has_app(const struct ct_record *r)
{
	const struct ct_flow *f = &r->flow;

	return r->type != CT_REC_SUMMARY && r->type != CT_REC_LOSS &&
	       !(f->own_flags & CT_OWN_NOSOCK) &&
	       (f->own.cgroup || f->own.cookie || (f->own_flags & CT_OWN_PID));
}

const char *ct_rec_pid_role(const struct ct_record *r)
{
	__u8 fl = r->flow.own_flags;

	if (!(fl & CT_OWN_PID))
		return NULL;
	return fl & CT_OWN_CLOSER ? "closer" : fl & CT_OWN_ACCEPTED ? "listener" : "socket";
}

const char *ct_rec_comm(const struct ct_record *r, char *buf, size_t len)
{
	char comm[sizeof(r->flow.own.comm) + 1];

	memcpy(comm, r->flow.own.comm, sizeof(r->flow.own.comm));
	comm[sizeof(r->flow.own.comm)] = '\0';
	ct_text_escape(comm, buf, len);
	return buf;
}

void ct_app_cgroup_label(const char *path, __u64 id, char *buf, size_t len)
{
	struct ct_app_names n;
	char esc[4 * 256 + 1];

	ct_app_names(path, &n);
	if (n.container[0] && (!n.unit[0] || strstr(n.unit, n.container))) {
		snprintf(buf, len, "%s:%.12s", n.runtime ? n.runtime : "container", n.container);
	} else if (n.unit[0]) {
		ct_text_escape(n.unit, esc, sizeof(esc));
		snprintf(buf, len, "%s", esc);
	} else if (n.pod[0]) {
		snprintf(buf, len, "pod:%.8s", n.pod);
	} else if (path) {
		ct_text_escape(path, esc, sizeof(esc));
		snprintf(buf, len, "%s", esc);
	} else if (id) {
		snprintf(buf, len, "cgroup %llu", (unsigned long long)id);
	} else if (len) {
		buf[0] = '\0';
	}
}

int ct_app_metric_name(const struct ct_record *r, const char *path, int by, char *buf,
		       size_t len)
{
	struct ct_app_names n;
	const char *v;

	if (!ct_rec_has_app(r) && !(ct_rec_nosock(r) && (r->flow.own_flags & CT_OWN_LISTENER)))
		return 0;
	if (by == CT_APP_BY_COMM) {
		if (!(r->flow.own_flags & CT_OWN_PID) || !len)
			return 0;
		n.unit[0] = '\0';
		memcpy(n.unit, r->flow.own.comm, sizeof(r->flow.own.comm));
		n.unit[sizeof(r->flow.own.comm)] = '\0';
		v = n.unit;
	} else {
		ct_app_names(path, &n);
		v = by == CT_APP_BY_UNIT ? n.unit : by == CT_APP_BY_CONTAINER ? n.container :
		    by == CT_APP_BY_POD ? n.pod : "";
	}
	if (!*v)
		return 0;
	snprintf(buf, len, "%s", v);
	return 1;
}

size_t ct_app_room(const struct ct_record *r)
{
	/*
	 * JSON, the longest: keys and numbers, comm escaped (6 bytes a byte), the path and
	 * the unit from it (6 a byte each); the text takes less
	 */
	return 700 + 6 * 16 + 12 * (r->cgroup ? strlen(r->cgroup) : 0);
}

/* "comm[pid]" and the best name the cgroup gives: unit, else container, else pod */
static char *app_who(char *p, const struct ct_record *r)
{
	const struct ct_flow *f = &r->flow;
	struct ct_app_names n;
	char comm[4 * 16 + 1], esc[4 * 256 + 1];
	int any = 0;

	if (f->own_flags & CT_OWN_PID) {
		p = ct_app_str(p, ct_rec_comm(r, comm, sizeof(comm)));
		*p++ = '[';
		p = ct_app_u64(p, f->own.pid);
		*p++ = ']';
		any = 1;
	}
	ct_app_names(r->cgroup, &n);
	if (n.unit[0] || n.container[0] || n.pod[0]) {
		if (any)
			*p++ = ' ';
		if (n.container[0] && (!n.unit[0] || strstr(n.unit, n.container))) {
			p = ct_app_str(p, n.runtime ? n.runtime : "container");
			*p++ = ':';
			p = ct_app_mem(p, n.container, 12);
		} else if (n.unit[0]) {
			ct_text_escape(n.unit, esc, sizeof(esc));
			p = ct_app_str(p, esc);
		} else {
			p = CT_APP_LIT(p, "pod:");
			p = ct_app_mem(p, n.pod, 8);
		}
		any = 1;
	} else if (!any && r->cgroup) {
		ct_text_escape(r->cgroup, esc, sizeof(esc));
		p = ct_app_str(p, esc);
		any = 1;
	}
	if (!any)
		*p++ = '-';
	return p;
}

char *ct_app_text(char *p, const struct ct_record *r)
{
	const struct ct_flow *f = &r->flow;

	if (ct_rec_nosock(r)) {
		__u16 port = r->key.port[ct_rec_srv(r)];

		if (!(f->own_flags & CT_OWN_LISTENER)) {
			p = CT_APP_LIT(p, "no listener on :");
			return ct_app_u64(p, port);
		}
		if (f->own_flags & CT_OWN_LISTENING) {
			p = CT_APP_LIT(p, "listening: ");
		} else {
			p = CT_APP_LIT(p, "listener of :");
			p = ct_app_u64(p, port);
			p = CT_APP_LIT(p, " gone ");
			p = ct_app_secs(p, (__u64)f->own.closed_ms * 1000000, 0);
			p = CT_APP_LIT(p, "s: ");
		}
		return app_who(p, r);
	}
	if (!ct_rec_has_app(r)) {
		*p++ = '-';
		return p;
	}
	return app_who(p, r);
}
