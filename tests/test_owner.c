// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_owner.c - the application behind a close, in words: cgroup paths as systemd,
 * docker, containerd, cri-o, podman and the kubelet (both drivers) write them, read as a
 * unit, a container and its runtime, a pod; nothing guessed from other paths; the APP
 * column and the JSON objects of an owner and of a refusal's listener; the app. filter
 * fields; names for --metrics-by, and its rows: bounded, the busiest first, monotonic.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "closetrace.h"
#include "filter.h"
#include "format.h"
#include "metrics.h"
#include "owner.h"
#include "record.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "5abd978f-6d38-51d7-6788-afdae268c730"
#define UID_ "5abd978f_6d38_51d7_6788_afdae268c730"

static void names_of(const char *path, const char *unit, const char *container,
		     const char *runtime, const char *pod)
{
	struct ct_app_names n;

	ct_app_names(path, &n);
	if (strcmp(n.unit, unit) || strcmp(n.container, container) ||
	    strcmp(n.runtime ? n.runtime : "", runtime) || strcmp(n.pod, pod))
		fail_msg("%s: unit '%s' container '%s' runtime '%s' pod '%s'", path, n.unit,
			 n.container, n.runtime ? n.runtime : "", n.pod);
}

static void t_paths(void **state)
{
	(void)state;
	names_of("/system.slice/nginx.service", "nginx.service", "", "", "");
	names_of("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
		 "foo.service", "", "", "");
	names_of("/user.slice/user-1000.slice/session-3.scope", "session-3.scope", "", "", "");
	names_of("/system.slice/docker-" ID64 ".scope", "docker-" ID64 ".scope", ID64, "docker",
		 "");
	names_of("/docker/" ID64, "", ID64, "docker", "");
	names_of("/machine.slice/libpod-" ID64 ".scope", "libpod-" ID64 ".scope", ID64,
		 "podman", "");
	names_of("/system.slice/crio-" ID64 ".scope", "crio-" ID64 ".scope", ID64, "cri-o", "");
	/* the kubelet, systemd driver */
	names_of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		 ".slice/cri-containerd-" ID64 ".scope", "cri-containerd-" ID64 ".scope", ID64,
		 "containerd", UID);
	names_of("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID64 ".scope",
		 "crio-" ID64 ".scope", ID64, "cri-o", UID);
	/* ... cgroupfs driver: the runtime is not in the path */
	names_of("/kubepods/besteffort/pod" UID "/" ID64, "", ID64, "", UID);
	names_of("/kubepods/pod" UID "/" ID64, "", ID64, "", UID);
	/* nothing known, nothing said */
	names_of("/", "", "", "", "");
	names_of("/my.slice", "", "", "", "");
	names_of("/docker/notanid", "", "", "", "");
	names_of("/system.slice/docker-0123.scope", "docker-0123.scope", "", "", "");
	names_of("/pod" UID "/x", "", "", "", "");	/* no kubepods above */
	names_of("/x/" ID64, "", ID64, "", "");	/* a bare id: a container, runtime unknown */
	names_of(NULL, "", "", "", "");
}

static void record(struct ct_record *r, const char *cgroup, __u8 flags, __u32 pid,
		   const char *comm)
{
	memset(r, 0, sizeof(*r));
	r->type = CT_REC_CLOSE;
	r->close = CT_CLOSE_GRACEFUL;
	for (int i = 0; i < 2; i++) {
		r->key.addr[i][2] = htonl(CT_V4MAPPED);
		r->key.addr[i][3] = htonl(0xc0000201 + (unsigned int)i);
	}
	r->key.port[0] = 40000;
	r->key.port[1] = 8080;
	r->client_ep = CT_EP_LO;
	r->cgroup = cgroup;
	r->flow.own_flags = flags;
	r->flow.own.pid = pid;
	r->flow.own.cgroup = cgroup ? 77 : 0;
	r->flow.own.cookie = 4242;
	if (comm)
		memcpy(r->flow.own.comm, comm, strnlen(comm, sizeof(r->flow.own.comm)));
}

static const char *app_text(const struct ct_record *r, char *buf)
{
	*ct_app_text(buf, r) = '\0';
	return buf;
}

static void t_text(void **state)
{
	struct ct_record r;
	char b[1024];

	(void)state;
	record(&r, "/system.slice/nginx.service", CT_OWN_PID, 4242, "nginx");
	assert_string_equal(app_text(&r, b), "nginx[4242] nginx.service");
	record(&r, "/system.slice/docker-" ID64 ".scope", CT_OWN_PID, 7, "redis-server");
	assert_string_equal(app_text(&r, b), "redis-server[7] docker:0123456789ab");
	record(&r, "/kubepods/pod" UID "/" ID64, 0, 0, NULL);
	assert_string_equal(app_text(&r, b), "container:0123456789ab");
	record(&r, "/my.slice", 0, 0, NULL);
	assert_string_equal(app_text(&r, b), "/my.slice");
	/* a name needing escapes is escaped: ESC, a newline */
	record(&r, "/system.slice/x.service", CT_OWN_PID, 9, "a\033b\nc");
	assert_string_equal(app_text(&r, b), "a\\x1bb\\nc[9] x.service");
	/* nothing known */
	record(&r, NULL, 0, 0, NULL);
	r.flow.own.cookie = 0;
	assert_string_equal(app_text(&r, b), "-");
	/* refusals: no listener seen; one gone 12.5 s before; one still listening */
	record(&r, NULL, CT_OWN_NOSOCK, 0, NULL);
	assert_string_equal(app_text(&r, b), "no listener on :8080");
	record(&r, "/system.slice/nginx.service", CT_OWN_NOSOCK | CT_OWN_LISTENER | CT_OWN_PID,
	       4242, "nginx");
	r.flow.own.closed_ms = 12500;
	assert_string_equal(app_text(&r, b),
			    "listener of :8080 gone 12s: nginx[4242] nginx.service");
	r.flow.own_flags |= CT_OWN_LISTENING;
	assert_string_equal(app_text(&r, b), "listening: nginx[4242] nginx.service");
}

static void t_json(void **state)
{
	struct ct_record r;
	char b[8192];

	(void)state;
	record(&r, "/system.slice/docker-" ID64 ".scope", CT_OWN_PID | CT_OWN_CLOSER, 42,
	       "redis\"x");
	ct_format_json(&r, b, sizeof(b));
	assert_non_null(strstr(b, ",\"app\":{\"cgroup\":\"/system.slice/docker-" ID64 ".scope\","
				  "\"unit\":\"docker-" ID64 ".scope\",\"container\":\"" ID64 "\","
				  "\"runtime\":\"docker\",\"pid\":42,\"comm\":\"redis\\\"x\","
				  "\"pid_role\":\"closer\",\"cgroup_id\":77,\"cookie\":4242}}\n"));
	assert_null(strstr(b, "\"pod\""));	/* absent, never empty */
	assert_null(strstr(b, "\"listener\""));
	/* only what is known: a cgroup id whose path is not */
	record(&r, NULL, 0, 0, NULL);
	r.flow.own.cgroup = 5;
	r.flow.own.cookie = 0;
	ct_format_json(&r, b, sizeof(b));
	assert_non_null(strstr(b, ",\"app\":{\"cgroup_id\":5}}\n"));
	/* nothing at all: no app object */
	record(&r, NULL, 0, 0, NULL);
	r.flow.own.cookie = 0;
	ct_format_json(&r, b, sizeof(b));
	assert_null(strstr(b, "\"app\""));
	/* a refusal: the listener, not an app */
	record(&r, "/system.slice/nginx.service", CT_OWN_NOSOCK | CT_OWN_LISTENER | CT_OWN_PID,
	       4242, "nginx");
	r.close = CT_CLOSE_REFUSED;
	r.flow.own.cookie = 0;
	r.flow.own.closed_ms = 12345;
	ct_format_json(&r, b, sizeof(b));
	assert_non_null(strstr(b, ",\"listener\":{\"port\":8080,\"seen\":true,\"listening\":false,"
				  "\"closed_ago\":12.345,\"cgroup\":\"/system.slice/nginx.service\","
				  "\"unit\":\"nginx.service\",\"pid\":4242,\"comm\":\"nginx\","
				  "\"cgroup_id\":77}}\n"));
	assert_null(strstr(b, "\"app\""));
	record(&r, NULL, CT_OWN_NOSOCK, 0, NULL);
	ct_format_json(&r, b, sizeof(b));
	assert_non_null(strstr(b, ",\"listener\":{\"port\":8080,\"seen\":false}}\n"));
}

/* The journal's fields: an object's are named after it */
static int field(void *ctx, const char *key, const char *value)
{
	char *out = ctx;

	if (!strncmp(key, "app_", 4) || !strncmp(key, "listener_", 9))
		sprintf(out + strlen(out), "%s=%s;", key, value);
	return 0;
}

static void t_fields(void **state)
{
	struct ct_record r;
	char out[2048] = "";

	(void)state;
	record(&r, "/system.slice/nginx.service", CT_OWN_PID | CT_OWN_ACCEPTED, 4242, "nginx");
	ct_format_fields(&r, field, out);
	assert_string_equal(out, "app_cgroup=/system.slice/nginx.service;app_unit=nginx.service;"
				 "app_pid=4242;app_comm=nginx;app_pid_role=listener;"
				 "app_cgroup_id=77;app_cookie=4242;");
}

static int matches(const char *expr, const struct ct_record *r)
{
	struct ct_filter_error err;
	struct ct_filter *f = ct_filter_parse(expr, &err);
	int m;

	if (!f)
		fail_msg("%s: %s", expr, err.msg);
	m = ct_filter_match(f, r);
	assert_int_equal(ct_filter_uses_app(f), !!strstr(expr, "app."));
	ct_filter_free(f);
	return m;
}

static void t_filter(void **state)
{
	struct ct_record r;

	(void)state;
	record(&r, "/kubepods/pod" UID "/" ID64, CT_OWN_PID, 31, "envoy");
	assert_true(matches("app.pod = \"" UID "\"", &r));
	assert_true(matches("app.container = " ID64, &r));
	assert_true(matches("app.comm = envoy and app.pid = 31", &r));
	assert_true(matches("app.pid > 30", &r));
	assert_true(matches("app.unit = \"\"", &r));	/* none in that path */
	assert_true(matches("app.cgroup = \"/kubepods/pod" UID "/" ID64 "\"", &r));
	assert_false(matches("app.comm != envoy", &r));
	assert_false(matches("rst.count > 0", &r));
	/* unknown: empty, 0 */
	record(&r, NULL, 0, 0, NULL);
	r.flow.own.cookie = 0;
	assert_true(matches("app.comm = \"\" and app.pid = 0 and app.unit != nginx.service", &r));
	/* a refusal's fields are its port's last listener's */
	record(&r, "/system.slice/nginx.service", CT_OWN_NOSOCK | CT_OWN_LISTENER | CT_OWN_PID,
	       4242, "nginx");
	assert_true(matches("app.unit = nginx.service and app.pid = 4242", &r));
}

static void t_metric_names(void **state)
{
	struct ct_record r;
	char b[256];

	(void)state;
	record(&r, "/kubepods/pod" UID "/" ID64, CT_OWN_PID, 31, "envoy");
	assert_true(ct_app_metric_name(&r, r.cgroup, CT_APP_BY_POD, b, sizeof(b)));
	assert_string_equal(b, UID);
	assert_true(ct_app_metric_name(&r, r.cgroup, CT_APP_BY_CONTAINER, b, sizeof(b)));
	assert_string_equal(b, ID64);
	assert_true(ct_app_metric_name(&r, r.cgroup, CT_APP_BY_COMM, b, sizeof(b)));
	assert_string_equal(b, "envoy");
	assert_false(ct_app_metric_name(&r, r.cgroup, CT_APP_BY_UNIT, b, sizeof(b)));
	/* a refusal with no listener seen has no application */
	record(&r, NULL, CT_OWN_NOSOCK, 0, NULL);
	assert_false(ct_app_metric_name(&r, NULL, CT_APP_BY_COMM, b, sizeof(b)));
}

static char *render(const struct ct_metrics *m)
{
	size_t len;
	char *t = ct_metrics_render(m, &len);

	assert_non_null(t);
	return t;
}

static void t_metric_rows(void **state)
{
	struct ct_metrics m, shown;
	char *t;

	(void)state;
	assert_int_equal(ct_metrics_init(&m, 1, NULL, 0), 0);
	assert_int_equal(ct_metrics_init(&shown, 1, NULL, 0), 0);
	assert_int_equal(ct_metrics_apps_init(&m, CT_APP_BY_UNIT, 2), 0);
	snprintf(m.ifs[0].name, sizeof(m.ifs[0].name), "eth0");
	/* before a publish: all in other */
	for (int i = 0; i < 5; i++)
		ct_metrics_app_close(&m, "busy.service", CT_CLOSE_REFUSED);
	ct_metrics_app_close(&m, "quiet.service", CT_CLOSE_GRACEFUL);
	for (int i = 0; i < 3; i++)
		ct_metrics_app_close(&m, "mid.service", CT_CLOSE_GRACEFUL);
	ct_metrics_apps_promote(&m);
	/* the two busiest got rows, counting from now; the rest stays other */
	ct_metrics_app_close(&m, "busy.service", CT_CLOSE_REFUSED);
	ct_metrics_app_close(&m, "quiet.service", CT_CLOSE_GRACEFUL);
	ct_metrics_app_close(&m, "new\"one\n", CT_CLOSE_GRACEFUL);
	ct_metrics_apps_promote(&m);	/* no free row: nothing moves */
	ct_metrics_copy(&shown, &m);
	t = render(&shown);
	assert_non_null(strstr(t, "# TYPE closetrace_app_closes_total counter\n"));
	assert_non_null(strstr(t, "closetrace_app_closes_total{unit=\"busy.service\","
				  "close=\"refused\"} 1\n"));
	assert_non_null(strstr(t, "closetrace_app_closes_total{unit=\"mid.service\","
				  "close=\"graceful\"} 0\n"));
	assert_non_null(strstr(t, "closetrace_app_closes_total{unit=\"other\","
				  "close=\"refused\"} 5\n"));
	assert_non_null(strstr(t, "closetrace_app_closes_total{unit=\"other\","
				  "close=\"graceful\"} 6\n"));
	assert_null(strstr(t, "quiet.service"));
	assert_null(strstr(t, "new"));
	free(t);
	ct_metrics_free(&m);
	ct_metrics_free(&shown);
	/* none asked: no family */
	assert_int_equal(ct_metrics_init(&m, 1, NULL, 0), 0);
	t = render(&m);
	assert_null(strstr(t, "closetrace_app_closes_total"));
	free(t);
	ct_metrics_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_paths),
		cmocka_unit_test(t_text),
		cmocka_unit_test(t_json),
		cmocka_unit_test(t_fields),
		cmocka_unit_test(t_filter),
		cmocka_unit_test(t_metric_names),
		cmocka_unit_test(t_metric_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
