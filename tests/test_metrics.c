// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_metrics.c - the Prometheus exposition: every family once, HELP before TYPE before
 * its samples, in a stable order; counters end in _total; label values escaped; closes
 * add the kernel's and user space's; packets split into four results that do not
 * overlap; closes by port with "other"; reasons merged under their names; the address
 * parser of --metrics.
 */
#include <arpa/inet.h>
#include <crypt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "closetrace.h"
#include "http.h"
#include "metrics.h"
#include "webconfig.h"

static const char *const families[] = {
	"closetrace_closes_total", "closetrace_tcp_flags_total", "closetrace_resets_sent_total",
	"closetrace_handshakes_total", "closetrace_flows_created_total",
	"closetrace_packets_total", "closetrace_server_closes_total",
	"closetrace_flow_table_entries", "closetrace_flow_table_capacity",
	"closetrace_events_lost_total", "closetrace_flows_evicted_total",
	"closetrace_flows_untracked_total", "closetrace_closes_summarised_total",
	"closetrace_owners_untracked_total",
	"closetrace_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes",
	"process_start_time_seconds", "process_open_fds",
};

static void example(struct ct_metrics *m)
{
	static const __u16 ports[] = { 22, 443 };

	assert_int_equal(ct_metrics_init(m, 2, ports, 2), 0);
	snprintf(m->ifs[0].name, sizeof(m->ifs[0].name), "eth0");
	snprintf(m->ifs[1].name, sizeof(m->ifs[1].name), "we\"ird\\na\nme");
	m->ifs[0].k.c[CT_C_CLOSE_BASE + CT_CLOSE_REFUSED] = 7;
	m->ifs[0].user_closes[CT_CLOSE_UNANSWERED] = 3;
	m->ifs[0].k.c[CT_C_TCP] = 100;
	m->ifs[0].k.c[CT_C_OTHER] = 5;
	m->ifs[0].k.c[CT_C_FRAGMENT] = 4;
	m->ifs[0].k.c[CT_C_MALFORMED] = 1;
	m->ifs[0].k.c[CT_C_SYN_CLT] = 11;
	m->ifs[0].k.c[CT_C_RST_SRV] = 8;
	m->ifs[0].k.c[CT_C_HANDSHAKES] = 4;
	m->ifs[0].k.c[CT_C_FLOWS] = 12;
	m->ifs[0].k.rst_sent[0] = 2;
	m->ifs[0].k.rst_sent[5] = 6;	/* not named without a reasons table: "-" too */
	ct_metrics_port_close(m, 0, 443, CT_CLOSE_REFUSED);
	ct_metrics_port_close(m, 0, 8080, CT_CLOSE_REFUSED);
	ct_metrics_port_close(m, 0, 9999, CT_CLOSE_REFUSED);
	ct_metrics_port_close(m, 1, 22, CT_CLOSE_GRACEFUL);
	m->table_entries = 12;
	m->table_capacity = 131072;
	m->events_lost = 5;
	m->viewers = 3;
	m->viewer_dropped = 7;
	m->ifs[0].k.c[CT_C_EVICT_EMB] = 2;
	m->ifs[0].k.c[CT_C_EVICT_EST] = 1;
	m->ifs[0].k.c[CT_C_FLOW_FAIL] = 3;
	m->ifs[0].k.c[CT_C_SUMMARISED] = 40;
	m->version = "1.2.3";
	m->cpu_seconds = 0.25;
	m->rss_bytes = 1 << 20;
	m->start_time = 1796040883.5;
	m->open_fds = 9;
}

static char *render(const struct ct_metrics *m)
{
	size_t len = 0;
	char *t = ct_metrics_render(m, &len);

	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	return t;
}

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

/* Every family: one HELP, then its TYPE, then only its own samples; in this order. */
static void t_families(void **state)
{
	struct ct_metrics m;
	char *t, *p, help[128], type[128];
	const char *last = NULL;

	(void)state;
	example(&m);
	t = render(&m);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(help, sizeof(help), "# HELP %s ", families[i]);
		p = strstr(t, help);
		if (!p)
			fail_msg("no HELP for %s", families[i]);
		assert_null(strstr(p + 1, help));	/* once */
		assert_true(!last || p > last);		/* in order */
		last = p;
		snprintf(type, sizeof(type), "\n# TYPE %s %s\n%s", families[i],
			 strstr(families[i], "_total") ? "counter" :
			 !strcmp(families[i], "process_cpu_seconds_total") ? "counter" : "gauge",
			 families[i]);
		if (!strstr(p, type))
			fail_msg("TYPE of %s is not right after its HELP", families[i]);
	}
	/* every sample line belongs to the family declared last */
	for (p = t; *p; p = strchr(p, '\n') + 1) {
		static char fam[128];

		if (!strncmp(p, "# TYPE ", 7))
			sscanf(p + 7, "%127s", fam);
		else if (*p != '#')
			assert_true(!strncmp(p, fam, strlen(fam)));
	}
	free(t);
	ct_metrics_free(&m);
}

static void t_values(void **state)
{
	struct ct_metrics m;
	char *t;

	(void)state;
	example(&m);
	t = render(&m);
	assert_true(has_line(t, "closetrace_closes_total{iface=\"eth0\",close=\"refused\"} 7"));
	assert_true(has_line(t, "closetrace_closes_total{iface=\"eth0\",close=\"unanswered\"} 3"));
	assert_true(has_line(t, "closetrace_closes_total{iface=\"eth0\",close=\"midstream\"} 0"));
	assert_true(has_line(t, "closetrace_tcp_flags_total{iface=\"eth0\",flag=\"syn\","
			     "side=\"client\"} 11"));
	assert_true(has_line(t, "closetrace_tcp_flags_total{iface=\"eth0\",flag=\"rst\","
			     "side=\"server\"} 8"));
	assert_true(has_line(t, "closetrace_packets_total{iface=\"eth0\",result=\"other\"} 5"));
	assert_true(has_line(t, "closetrace_packets_total{iface=\"eth0\",result=\"fragment\"} 4"));
	assert_true(has_line(t, "closetrace_handshakes_total{iface=\"eth0\"} 4"));
	assert_true(has_line(t, "closetrace_flows_created_total{iface=\"eth0\"} 12"));
	/* reasons this kernel does not name merge into one "-" series */
	assert_true(has_line(t, "closetrace_resets_sent_total{iface=\"eth0\",reason=\"-\"} 8"));
	assert_int_equal(strstr(strstr(t, "reason=\"-\"") + 1, "iface=\"eth0\",reason="), NULL);
	/* ports: listed ones, the rest as other */
	assert_true(has_line(t, "closetrace_server_closes_total{iface=\"eth0\",port=\"443\","
			     "close=\"refused\"} 1"));
	assert_true(has_line(t, "closetrace_server_closes_total{iface=\"eth0\",port=\"other\","
			     "close=\"refused\"} 2"));
	assert_true(has_line(t, "closetrace_server_closes_total{iface=\"eth0\",port=\"22\","
			     "close=\"refused\"} 0"));
	assert_true(has_line(t, "closetrace_flow_table_capacity 131072"));
	assert_true(has_line(t, "closetrace_events_lost_total 5"));
	assert_true(has_line(t, "closetrace_viewers 3"));
	assert_true(has_line(t, "closetrace_viewer_records_dropped_total 7"));
	assert_true(has_line(t, "closetrace_flows_evicted_total{iface=\"eth0\",class=\"embryonic\"} 2"));
	assert_true(has_line(t, "closetrace_flows_evicted_total{iface=\"eth0\",class=\"established\"} 1"));
	assert_true(has_line(t, "closetrace_flows_untracked_total{iface=\"eth0\"} 3"));
	assert_true(has_line(t, "closetrace_closes_summarised_total{iface=\"eth0\"} 40"));
	assert_true(has_line(t, "closetrace_build_info{version=\"1.2.3\"} 1"));
	assert_true(has_line(t, "process_cpu_seconds_total 0.25"));
	assert_true(has_line(t, "process_start_time_seconds 1796040883.5"));
	free(t);
	ct_metrics_free(&m);
}

/* Label values: backslash, quote and newline escaped; nothing else changed. */
static void t_label_escaping(void **state)
{
	struct ct_metrics m;
	char buf[64], *t;

	(void)state;
	ct_metrics_label("a\"b\\c\nd é", buf, sizeof(buf));
	assert_string_equal(buf, "a\\\"b\\\\c\\nd é");
	ct_metrics_label("\"\"\"\"", buf, 7);	/* cut, never inside an escape */
	assert_string_equal(buf, "\\\"\\\"");
	example(&m);
	t = render(&m);
	assert_true(has_line(t, "closetrace_handshakes_total{iface=\"we\\\"ird\\\\na\\nme\"} 0"));
	free(t);
	ct_metrics_free(&m);
}

/* Series: what closetrace-watch(8) states, for 2 interfaces and 2 ports. */
static void t_series_count(void **state)
{
	struct ct_metrics m;
	int n = 0, byport = 0;
	char *t, *p;

	(void)state;
	example(&m);
	t = render(&m);
	for (p = t; *p; p = strchr(p, '\n') + 1) {
		n += *p != '#';
		byport += !strncmp(p, "closetrace_server_closes_total{", 31);
	}
	/* per interface: 13 closes, 8 flags, 1 reason "-" (+ those that happened),
	 * 1 + 1 counts, 4 packet results, 6 tunnel types' segments, 2 eviction classes,
	 * untracked, summarised;
	 * 2 x (2 ports + other) x 13; then the table 2 + events lost + owners untracked,
	 * viewers and their drops, build, the process 4 */
	assert_int_equal(byport, 2 * 3 * 13);
	assert_int_equal(n, 2 * (13 + 8 + 1 + 2 + 4 + 6 + 2 + 1 + 1) + 2 * 3 * 13 + 4 + 2 + 1 + 4);
	free(t);
	ct_metrics_free(&m);
	/* without --metrics-ports the family is not there at all */
	assert_int_equal(ct_metrics_init(&m, 1, NULL, 0), 0);
	t = render(&m);
	assert_null(strstr(t, "closetrace_server_closes_total"));
	free(t);
	ct_metrics_free(&m);
}

/*
 * Tunnels: segments by type for each, always; closes by kind only for the types that
 * carried a segment, so that a host without tunnels has 6 series of them, not 78.
 */
static void t_tunnels(void **state)
{
	struct ct_metrics m;
	char *t;
	int n = 0;

	(void)state;
	example(&m);
	m.ifs[0].k.c[CT_C_TUN_BASE + CT_TUN_VXLAN - 1] = 40;
	ct_metrics_tunnel_closes(&m, 0, CT_TUN_VXLAN, CT_CLOSE_REFUSED, 1);
	ct_metrics_tunnel_closes(&m, 0, CT_TUN_VXLAN, CT_CLOSE_REFUSED, 2);
	/* a type that carried no segment here: not shown; out of range: ignored */
	ct_metrics_tunnel_closes(&m, 0, CT_TUN_GRE, CT_CLOSE_REFUSED, 1);
	ct_metrics_tunnel_closes(&m, 0, CT_TUN_MAX, CT_CLOSE_REFUSED, 1);
	ct_metrics_tunnel_closes(&m, 5, CT_TUN_VXLAN, CT_CLOSE_REFUSED, 1);
	t = render(&m);
	assert_true(has_line(t, "closetrace_tunnel_segments_total{iface=\"eth0\",type=\"vxlan\"} 40"));
	assert_true(has_line(t, "closetrace_tunnel_segments_total{iface=\"eth0\",type=\"erspan\"} 0"));
	assert_true(has_line(t, "closetrace_tunnel_closes_total{iface=\"eth0\",type=\"vxlan\","
			     "close=\"refused\"} 3"));
	assert_true(has_line(t, "closetrace_tunnel_closes_total{iface=\"eth0\",type=\"vxlan\","
			     "close=\"graceful\"} 0"));
	for (char *p = t; (p = strstr(p, "\nclosetrace_tunnel_closes_total{")); p++)
		n++;
	assert_int_equal(n, 13);
	assert_null(strstr(t, "type=\"gre\",close="));
	free(t);
	ct_metrics_free(&m);
}

/* A copy is a snapshot: later counts in the source do not show in it. */
static void t_copy(void **state)
{
	struct ct_metrics a, b;

	(void)state;
	example(&a);
	assert_int_equal(ct_metrics_init(&b, a.nifs, a.ports, a.nports), 0);
	ct_metrics_copy(&b, &a);
	ct_metrics_port_close(&a, 0, 22, CT_CLOSE_IDLE);
	assert_int_equal(a.ifs[0].ports[0][CT_CLOSE_IDLE], 1);
	assert_int_equal(b.ifs[0].ports[0][CT_CLOSE_IDLE], 0);
	assert_int_equal(b.ifs[0].ports[2][CT_CLOSE_REFUSED], 2);
	assert_ptr_not_equal(a.ifs[0].ports, b.ifs[0].ports);
	ct_metrics_free(&a);
	ct_metrics_free(&b);
}

static void t_addr(void **state)
{
	struct sockaddr_storage sa;
	char err[256], s[80];

	(void)state;
	assert_int_equal(ct_http_parse_addr("9464", &sa, err, sizeof(err)), 0);
	ct_http_addr_str(&sa, s, sizeof(s));
	assert_string_equal(s, "127.0.0.1:9464");	/* a bare port: loopback only */
	assert_int_equal(ct_http_parse_addr(":9464", &sa, err, sizeof(err)), 0);
	ct_http_addr_str(&sa, s, sizeof(s));
	assert_string_equal(s, "127.0.0.1:9464");
	assert_int_equal(ct_http_parse_addr("0.0.0.0:80", &sa, err, sizeof(err)), 0);
	ct_http_addr_str(&sa, s, sizeof(s));
	assert_string_equal(s, "0.0.0.0:80");
	assert_int_equal(ct_http_parse_addr("[::1]:9464", &sa, err, sizeof(err)), 0);
	ct_http_addr_str(&sa, s, sizeof(s));
	assert_string_equal(s, "[::1]:9464");
	assert_int_equal(ct_http_parse_addr("9464x", &sa, err, sizeof(err)), -1);
	assert_string_equal(err, "takes [ADDR:]PORT, PORT from 1 to 65535, not '9464x'");
	assert_int_equal(ct_http_parse_addr("0", &sa, err, sizeof(err)), -1);
	assert_int_equal(ct_http_parse_addr("65536", &sa, err, sizeof(err)), -1);
	assert_int_equal(ct_http_parse_addr("localhost:9464", &sa, err, sizeof(err)), -1);
	assert_int_equal(ct_http_parse_addr("::1:9464", &sa, err, sizeof(err)), -1);
	assert_int_equal(ct_http_parse_addr("[1.2.3.4]:9464", &sa, err, sizeof(err)), -1);
	assert_int_equal(ct_http_parse_addr("1.2.3:9464", &sa, err, sizeof(err)), -1);
	assert_string_equal(err, "takes [ADDR:]PORT (192.0.2.1:9464, [::1]:9464, or a port alone "
				 "for 127.0.0.1), not '1.2.3:9464'");
}

/* ---- --web-config ------------------------------------------------------------------- */

static char wdir[64];

/* @name in the test's folder holds @text; its path in @path. */
static void put(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", wdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loading @text fails, saying @want (and nothing is left allocated). */
static void refused(const char *text, const char *want)
{
	struct ct_web_config wc;
	char path[128], err[512];

	put("web.yml", text, path, sizeof(path));
	assert_int_equal(ct_web_config_load(path, &wc, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("for:\n%swant '%s' in: %s", text, want, err);
	assert_null(wc.cert_pem);
	assert_int_equal(wc.nusers, 0);
}

static void t_web_config(void **state)
{
	struct ct_web_config wc;
	char path[128], err[512], hash[128], yml[512], salt[64];
	struct crypt_data cd;

	(void)state;
	snprintf(wdir, sizeof(wdir), "/tmp/ct-webconfig-XXXXXX");
	assert_non_null(mkdtemp(wdir));
	memset(&cd, 0, sizeof(cd));
	assert_non_null(crypt_gensalt_rn("$2b$", 5, NULL, 0, salt, sizeof(salt)));
	snprintf(hash, sizeof(hash), "%s", crypt_r("s3cret", salt, &cd));
	assert_int_equal(strlen(hash), 60);
	put("server.crt", "CERT\n", path, sizeof(path));
	put("server.key", "KEY\n", path, sizeof(path));

	/* the files named relative to the configuration's folder; two users */
	snprintf(yml, sizeof(yml), "tls_server_config:\n  cert_file: server.crt\n"
		 "  key_file: server.key\nbasic_auth_users:\n  prom: %s\n  ops: '%s'\n", hash,
		 hash);
	put("web.yml", yml, path, sizeof(path));
	assert_int_equal(ct_web_config_load(path, &wc, err, sizeof(err)), 0);
	assert_string_equal(wc.cert_pem, "CERT\n");
	assert_string_equal(wc.key_pem, "KEY\n");
	assert_int_equal(wc.nusers, 2);
	assert_true(ct_web_config_allows(&wc, "prom", "s3cret"));
	assert_true(ct_web_config_allows(&wc, "prom", "s3cret"));	/* known now */
	assert_false(ct_web_config_allows(&wc, "prom", "s3cre"));
	assert_false(ct_web_config_allows(&wc, "prom", "s3cret "));
	assert_false(ct_web_config_allows(&wc, "nobody", "s3cret"));
	assert_false(ct_web_config_allows(&wc, NULL, NULL));
	assert_true(ct_web_config_allows(&wc, "ops", "s3cret"));
	ct_web_config_free(&wc);

	/* users alone: plain HTTP with authentication; an empty file: neither */
	snprintf(yml, sizeof(yml), "basic_auth_users:\n  prom: %s\n", hash);
	put("web.yml", yml, path, sizeof(path));
	assert_int_equal(ct_web_config_load(path, &wc, err, sizeof(err)), 0);
	assert_null(wc.cert_pem);
	assert_int_equal(wc.nusers, 1);
	ct_web_config_free(&wc);
	put("web.yml", "", path, sizeof(path));
	assert_int_equal(ct_web_config_load(path, &wc, err, sizeof(err)), 0);
	assert_null(wc.cert_pem);
	assert_int_equal(wc.nusers, 0);

	/* what is wrong is named, with its line */
	refused("tls_server_config:\n  cert_file: server.crt\n",
		"needs both cert_file and key_file");
	refused("tls_server_config:\n  cert_file: server.crt\n  client_ca_file: ca.pem\n",
		"line 3: tls_server_config: client_ca_file is not supported by closetrace");
	refused("tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n",
		"line 2: cannot read");
	refused("basic_auth_users:\n  prom: s3cret\n",
		"line 2: user prom: the password must be a bcrypt hash");
	refused("http_server_config:\n  http2: false\n",
		"line 1: http_server_config is not supported");
	refused("tls_server_conifg:\n  cert_file: x\n", "line 1: unknown key 'tls_server_conifg'");
	refused("basic_auth_users: [\n", "line");
	refused("- a\n- b\n", "expected tls_server_config and basic_auth_users");
	assert_int_equal(ct_web_config_load("/nonexistent/web.yml", &wc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));

	snprintf(path, sizeof(path), "rm -r %s", wdir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_families),
		cmocka_unit_test(t_values),
		cmocka_unit_test(t_label_escaping),
		cmocka_unit_test(t_series_count),
		cmocka_unit_test(t_tunnels),
		cmocka_unit_test(t_copy),
		cmocka_unit_test(t_addr),
		cmocka_unit_test(t_web_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
