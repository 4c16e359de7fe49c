// SPDX-License-Identifier: BSD-3-Clause
/*
 * test_share.c - the agent's sockets for viewers (io/share.c), in a directory of the
 * test's own: a viewer gets the hello and every record as the agent had it; a viewer that
 * does not read loses its own records only, counted and told in its status, while one
 * that reads loses none; a stale socket is replaced, a live one refused; malformed
 * records are refused by the viewer.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cmocka.h>

#include "share.h"

static char dir[] = "/tmp/ct-share-test.XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	setenv("CLOSETRACE_RUN_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char p[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/t0@%lu.sock", dir, ct_share_netns());
	unlink(p);
	/* the last agent's close removed it already, when it was empty */
	return rmdir(dir) && errno != ENOENT ? -1 : 0;
}

static struct ct_record rec(int i)
{
	struct ct_record r;

	memset(&r, 0, sizeof(r));
	r.type = CT_REC_CLOSE;
	r.close = CT_CLOSE_REFUSED;
	r.key.port[0] = (__u16)(40000 + i);
	r.key.port[1] = 80;
	r.flow.rst[1] = 1;
	r.ts_ns = 1700000000000000000ull + (__u64)i;
	r.iface = "t0";
	r.cgroup = i % 2 ? "/system.slice/web.service" : NULL;
	return r;
}

/* Read what the agent sent to @fd until @n records came (serving the agent meanwhile) */
static int drain(struct ct_share *sh, int fd, struct ct_share_rx *rx, int n,
		 struct ct_share_status *st, int check)
{
	int got = 0;

	for (int spins = 0; got < n && spins < 2000; spins++) {
		const struct ct_share_hdr *h;
		const void *body;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		ct_share_service(sh);
		poll(&p, 1, 1);
		if (ct_share_read(fd, rx) < 0)
			return -1;
		while (ct_share_next(rx, &h, &body) > 0) {
			struct ct_record r, want;

			if (h->type == CT_SM_STATUS && st) {
				memcpy(st, body, sizeof(*st));
				continue;
			}
			if (h->type != CT_SM_RECORD)
				continue;
			assert_int_equal(ct_share_decode(body, h->len - sizeof(*h), &r), 0);
			if (check) {
				want = rec(got);
				assert_int_equal(r.key.port[0], want.key.port[0]);
				assert_int_equal(r.ts_ns, want.ts_ns);
				assert_int_equal(r.close, CT_CLOSE_REFUSED);
				assert_string_equal(r.iface, "t0");
				if (want.cgroup)
					assert_string_equal(r.cgroup, want.cgroup);
				else
					assert_null(r.cgroup);
			}
			got++;
		}
	}
	return got;
}

/* A viewer joins by hand: its hello read as the agent serves, its subscription sent */
static int join(struct ct_share *sh, const char *name, __u32 flags, struct ct_share_hello *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct {
		struct ct_share_hdr hdr;
		struct ct_share_hello hello;
	} m;
	size_t off = 0;
	int fd;

	ct_share_path("t0", sa.sun_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	while (off < sizeof(m)) {
		ssize_t n;

		ct_share_service(sh);
		n = recv(fd, (char *)&m + off, sizeof(m) - off, MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
	}
	assert_int_equal(m.hdr.type, CT_SM_HELLO);
	if (h)
		*h = m.hello;
	assert_int_equal(ct_share_subscribe(fd, flags, name), 0);
	ct_share_service(sh);
	return fd;
}

static void t_hello_and_records(void **state)
{
	char *ifs[] = { "t0" };
	char err[512];
	struct ct_share_hello h;
	struct ct_share_rx rx = { 0 };
	struct ct_share *sh;
	__u64 viewers, dropped;
	int fd;

	(void)state;
	assert_int_equal(ct_share_connect("t0", &h, err, sizeof(err)), -1);	/* none yet */
	sh = ct_share_open(ifs, 1, 0, err, sizeof(err));
	assert_non_null(sh);
	/* a second agent on the same interface is refused, the first one's socket kept */
	assert_null(ct_share_open(ifs, 1, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "another closetrace already shares it"));
	fd = join(sh, "test", CT_SUB_VISITS, &h);
	assert_string_equal(h.version, CT_VERSION);
	assert_int_equal(h.pid, getpid());
	assert_string_equal(h.iface, "t0");
	for (int i = 0; i < 1000; i++) {
		struct ct_record r = rec(i);

		ct_share_record(sh, &r, 0);
		if (i % 100 == 0)
			ct_share_service(sh);
	}
	assert_int_equal(drain(sh, fd, &rx, 1000, NULL, 1), 1000);
	ct_share_counts(sh, &viewers, &dropped);
	assert_int_equal(viewers, 1);
	assert_int_equal(dropped, 0);
	/* the viewer goes: the agent notices */
	close(fd);
	ct_share_service(sh);
	ct_share_counts(sh, &viewers, &dropped);
	assert_int_equal(viewers, 0);
	ct_share_rx_free(&rx);
	ct_share_close(sh);
	/* its socket is removed, and the directory, empty now */
	assert_int_equal(ct_share_connect("t0", &h, err, sizeof(err)), -1);
	assert_int_equal(access(dir, F_OK), -1);
}

/* One viewer reads, one does not: the second loses its own records only, and is told */
static void t_slow_viewer(void **state)
{
	char *ifs[] = { "t0" };
	char err[512];
	struct ct_share_rx fast = { 0 }, slow = { 0 };
	struct ct_share_status fst, sst;
	struct ct_share *sh;
	int ffd, sfd, n = 40000, fgot = 0, sgot;
	__u64 viewers, dropped;

	(void)state;
	sh = ct_share_open(ifs, 1, 0, err, sizeof(err));
	assert_non_null(sh);
	ffd = join(sh, "fast", 0, NULL);
	sfd = join(sh, "slow", 0, NULL);
	for (int i = 0; i < n; i++) {
		struct ct_record r = rec(i);

		ct_share_record(sh, &r, 0);
		if (i % 100 == 99)
			fgot += drain(sh, ffd, &fast, 100, NULL, 0);
	}
	ct_share_status(sh, NULL, 0, 0, 0);
	memset(&fst, 0xff, sizeof(fst));
	memset(&sst, 0xff, sizeof(sst));
	drain(sh, ffd, &fast, 1, &fst, 0);	/* its status */
	/* the fast one: every record, nothing dropped for it */
	assert_int_equal(fgot, n);
	assert_int_equal(fst.dropped, 0);
	/* the slow one, reading at last: what it gets and what it was told it lost are all */
	sgot = drain(sh, sfd, &slow, n, &sst, 0);
	assert_true(sst.dropped > 0);
	assert_int_equal((__u64)sgot + sst.dropped, (__u64)n);
	ct_share_counts(sh, &viewers, &dropped);
	assert_int_equal(viewers, 2);
	assert_int_equal(dropped, sst.dropped);
	ct_share_rx_free(&fast);
	ct_share_rx_free(&slow);
	close(ffd);
	close(sfd);
	ct_share_close(sh);
}

/* A socket left by an agent gone is replaced by the next agent */
static void t_stale(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *ifs[] = { "t0" };
	char err[512];
	struct ct_share_hello h;
	struct ct_share *sh;
	int fd;

	(void)state;
	mkdir(dir, 0700);	/* gone with the last agent's socket */
	ct_share_path("t0", sa.sun_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);	/* the file stays, nobody listens */
	assert_int_equal(ct_share_connect("t0", &h, err, sizeof(err)), -1);
	sh = ct_share_open(ifs, 1, 0, err, sizeof(err));
	assert_non_null(sh);
	ct_share_close(sh);
}

/* Malformed record bodies are refused */
static void t_decode(void **state)
{
	struct ct_record r;
	char body[sizeof(r) + 8];

	(void)state;
	memset(body, 'x', sizeof(body));
	assert_int_equal(ct_share_decode(body, 10, &r), -1);		/* short */
	assert_int_equal(ct_share_decode(body, sizeof(body), &r), -1);	/* no terminator */
	body[sizeof(r)] = '\0';
	body[sizeof(body) - 1] = '\0';
	assert_int_equal(ct_share_decode(body, sizeof(body), &r), 0);
	assert_string_equal(r.iface, "");
	assert_string_equal(r.cgroup, "xxxxxx");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_hello_and_records),
		cmocka_unit_test(t_slow_viewer),
		cmocka_unit_test(t_stale),
		cmocka_unit_test(t_decode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
