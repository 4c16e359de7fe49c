// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcpdrive.c - makes TCP connections end in each of closetrace's ways, with real sockets,
 * for the end-to-end tests and the demo. Runs inside network namespaces the caller made.
 *
 *   tcpdrive server ADDR...            listen on ADDR (v4 or v6), ports 8001-8008, 8010:
 *       8001 echo until EOF, then close (graceful)     8002 read, then abort (RST)
 *       8003 wait, then send after the client closed   8004 read to EOF, then keep open
 *       8005 close with the request unread             8006 close in FIN_WAIT2, linger2 < 0
 *       8007 close at once (data then meets a closed socket, or its timewait one)
 *       8008 keepalive after 1 s idle, one probe, 1 s apart
 *       8010 as 8007, the closed socket kept whole (linger2 past the timewait length)
 *       (8009 stays closed: refused)
 *   tcpdrive client KIND SERVER CPORT [SILENT]
 *       KIND: graceful refused reset-client reset-server fin-reset unanswered
 *             half-closed orphan-rst syn-reset, and for the server's reset reasons:
 *             unread-close linger2 data-after-close timewait keepalive
 *       SERVER: the server's address; CPORT: the client port to bind;
 *       SILENT: an address whose frames reach the server but which it does not own
 *       (unanswered, syn-reset)
 *   tcpdrive hold N SERVER CPORT
 *       N connections to SERVER's echo port from CPORT on, each with one exchange;
 *       says "held N", waits for a line (or EOF) on stdin, closes them all gracefully
 *       and says "closed N"
 *   tcpdrive flood syn|rst IFACE DSTMAC DST DPORT COUNT SEED
 *       COUNT frames on IFACE (AF_PACKET) to DST:DPORT: bare SYNs or RST+ACKs, each
 *       from its own source in 198.18.0.0/15 (the benchmarking range, here only on
 *       the test's veth), in an order SEED scrambles
 *
 * Bounded: every client finishes in about a second; the server serves until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "tcpdrive: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Fill @ss from a numeric address and port; returns its length. */
static socklen_t sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof(*s6);
	}
	fprintf(stderr, "tcpdrive: '%s' is not a numeric address\n", addr);
	exit(2);
}

static void linger0(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)))
		die("SO_LINGER");
}

/* ---- server ------------------------------------------------------------------------- */

static void serve_one(int port, int c)
{
	char buf[4096];
	ssize_t n;

	switch (port) {
	case 8001:	/* echo until EOF, then close */
		while ((n = read(c, buf, sizeof(buf))) > 0)
			if (write(c, buf, (size_t)n) < 0)
				break;
		break;
	case 8002:	/* read the request, then abort */
		n = read(c, buf, sizeof(buf));
		(void)n;
		linger0(c);
		break;
	case 8003:	/* send after the client has closed: its stack answers with RST */
		msleep(200);
		for (int i = 0; i < 3; i++) {
			memset(buf, 'd', 1000);
			if (send(c, buf, 1000, MSG_NOSIGNAL) < 0)
				break;
			msleep(50);
		}
		break;
	case 8004:	/* read to EOF, then keep the connection half open */
		while (read(c, buf, sizeof(buf)) > 0)
			;
		pause();
		break;
	case 8005: {	/* wait for the request, close without reading it: abort-on-close */
		struct pollfd p = { .fd = c, .events = POLLIN };

		poll(&p, 1, 2000);
		break;
	}
	case 8006: {	/* our FIN, acknowledged (FIN_WAIT2), then close with linger2 < 0 */
		int neg = -1;

		shutdown(c, SHUT_WR);
		msleep(200);
		setsockopt(c, IPPROTO_TCP, TCP_LINGER2, &neg, sizeof(neg));
		break;
	}
	case 8007:	/* close at once: the client's data then aborts (abort-on-data), or, once
			 * its ACK of our FIN has come, meets the timewait socket the kernel
			 * made of ours (timewait-socket) */
		break;
	case 8010: {	/* close at once, our socket kept whole in FIN_WAIT2 whenever the
			 * client's ACK comes: its late data always aborts (abort-on-data) */
		int secs = 120;

		setsockopt(c, IPPROTO_TCP, TCP_LINGER2, &secs, sizeof(secs));
		break;
	}
	case 8008: {	/* keepalive: the client stops answering, the probe times out */
		int on = 1, one = 1;

		setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof(one));
		setsockopt(c, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof(one));
		setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &one, sizeof(one));
		while (read(c, buf, sizeof(buf)) > 0)
			;
		break;
	}
	}
	close(c);
}

static int cmd_server(int argc, char **argv)
{
	struct pollfd pfd[64];
	int ports[64], n = 0, one = 1;

	signal(SIGCHLD, SIG_IGN);	/* children reaped by the kernel */
	for (int a = 0; a < argc; a++) {
		for (int port = 8001; port <= 8010; port++) {
			struct sockaddr_storage ss;
			socklen_t len;
			int fd;

			if (port == 8009)	/* nobody listens there: refused */
				continue;
			len = sockaddr_of(argv[a], port, &ss);
			fd = socket(ss.ss_family, SOCK_STREAM, 0);
			if (fd < 0)
				die("socket");
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ss.ss_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
			if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64))
				die("bind/listen");
			pfd[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
			ports[n++] = port;
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (int i = 0; i < n; i++) {
			int c;

			if (!(pfd[i].revents & POLLIN))
				continue;
			c = accept(pfd[i].fd, NULL, NULL);
			if (c < 0)
				continue;
			if (fork() == 0) {
				/* never outlive the server (the half-open one would wait forever) */
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() == 1)
					_exit(0);
				for (int k = 0; k < n; k++)
					close(pfd[k].fd);
				serve_one(ports[i], c);
				_exit(0);
			}
			close(c);
		}
	}
}

/* ---- client ------------------------------------------------------------------------- */

/* A socket bound to @cport, connecting (blocking, unless @nonblock) to @srv:@port. */
static int connect_from(const char *srv, int port, int cport, int nonblock)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen = sockaddr_of(srv, port, &dst), slen;
	int fd = socket(dst.ss_family, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	slen = sockaddr_of(dst.ss_family == AF_INET ? "0.0.0.0" : "::", cport, &src);
	if (bind(fd, (struct sockaddr *)&src, slen))
		die("bind client port");
	if (connect(fd, (struct sockaddr *)&dst, dlen) && !(nonblock && errno == EINPROGRESS))
		return -errno;
	return fd;
}

static uint16_t csum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Send one bare TCP segment with @flags from the raw socket, checksummed. */
static void raw_segment(const char *srv, int port, int cport, uint8_t flags, uint32_t seq)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen = sockaddr_of(srv, 0, &dst);
	uint8_t th[20] = { 0 };
	int fd, v6 = dst.ss_family == AF_INET6;

	fd = socket(dst.ss_family, SOCK_RAW, IPPROTO_TCP);
	if (fd < 0)
		die("raw socket");
	th[0] = (uint8_t)(cport >> 8);
	th[1] = (uint8_t)cport;
	th[2] = (uint8_t)(port >> 8);
	th[3] = (uint8_t)port;
	th[4] = (uint8_t)(seq >> 24);
	th[5] = (uint8_t)(seq >> 16);
	th[6] = (uint8_t)(seq >> 8);
	th[7] = (uint8_t)seq;
	th[12] = 5 << 4;
	th[13] = flags;
	th[14] = 0xff;
	th[15] = 0xff;
	if (v6) {
		int off = 16;	/* the kernel fills in the checksum at this offset */

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)))
			die("IPV6_CHECKSUM");
	} else {
		/* pseudo-header: the source address is the one the route picks */
		struct sockaddr_in *d4 = (struct sockaddr_in *)&dst, *s4 = (struct sockaddr_in *)&src;
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		socklen_t sl = sizeof(*s4);
		uint8_t ph[12];

		d4->sin_port = htons(9);
		if (u < 0 || connect(u, (struct sockaddr *)d4, sizeof(*d4)) ||
		    getsockname(u, (struct sockaddr *)s4, &sl))
			die("source address");
		close(u);
		d4->sin_port = 0;
		memcpy(ph, &s4->sin_addr, 4);
		memcpy(ph + 4, &d4->sin_addr, 4);
		ph[8] = 0;
		ph[9] = IPPROTO_TCP;
		ph[10] = 0;
		ph[11] = 20;
		{
			uint32_t sum = 0;
			uint16_t c;

			for (int i = 0; i < 12; i += 2)
				sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
			c = csum16(th, 20, sum);
			th[16] = (uint8_t)(c >> 8);
			th[17] = (uint8_t)c;
		}
	}
	if (sendto(fd, th, sizeof(th), 0, (struct sockaddr *)&dst, dlen) != sizeof(th))
		die("sendto");
	close(fd);
}

static int cmd_client(int argc, char **argv)
{
	const char *kind, *srv, *silent;
	char buf[4096];
	int cport, fd;

	if (argc < 3) {
		fprintf(stderr, "usage: tcpdrive client KIND SERVER CPORT [SILENT]\n");
		return 2;
	}
	kind = argv[0];
	srv = argv[1];
	cport = atoi(argv[2]);
	silent = argc > 3 ? argv[3] : NULL;

	if (!strcmp(kind, "graceful")) {
		fd = connect_from(srv, 8001, cport, 0);
		if (fd < 0 || write(fd, "hello\n", 6) != 6)
			die("graceful");
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	} else if (!strcmp(kind, "refused")) {
		fd = connect_from(srv, 8009, cport, 0);
		if (fd != -ECONNREFUSED) {
			fprintf(stderr, "tcpdrive: refused: connect gave %d\n", fd);
			return 1;
		}
	} else if (!strcmp(kind, "reset-client")) {
		fd = connect_from(srv, 8001, cport, 0);
		if (fd < 0 || write(fd, "hello\n", 6) != 6)
			die("reset-client");
		msleep(50);
		linger0(fd);
		close(fd);
	} else if (!strcmp(kind, "reset-server")) {
		fd = connect_from(srv, 8002, cport, 0);
		if (fd < 0 || write(fd, "request\n", 8) != 8)
			die("reset-server");
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	} else if (!strcmp(kind, "midstream")) {
		/* connected, quiet for 1.5 s (a watch starts meanwhile), then a request the
		 * server aborts: a flow the watch joins midstream, reset by the server */
		fd = connect_from(srv, 8002, cport, 0);
		if (fd < 0)
			die("midstream");
		msleep(1500);
		if (write(fd, "request\n", 8) != 8)
			die("midstream");
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	} else if (!strcmp(kind, "fin-reset")) {
		fd = connect_from(srv, 8003, cport, 0);
		if (fd < 0)
			die("fin-reset");
		close(fd);	/* FIN now; the server's data then meets a closed socket */
		msleep(500);
	} else if (!strcmp(kind, "half-closed")) {
		fd = connect_from(srv, 8004, cport, 0);
		if (fd < 0 || write(fd, "bye\n", 4) != 4)
			die("half-closed");
		shutdown(fd, SHUT_WR);	/* our FIN; the server never sends its own */
		msleep(100);
		/* exit: the socket is closed with nothing left to send, so no further packet */
	} else if (!strcmp(kind, "unanswered")) {
		if (!silent)
			return 2;
		fd = connect_from(silent, 8001, cport, 1);
		if (fd < 0)
			die("unanswered");
		msleep(300);
		close(fd);	/* in SYN_SENT: closing sends nothing */
	} else if (!strcmp(kind, "orphan-rst")) {
		raw_segment(srv, 8001, cport, 0x04 | 0x10, 12345);
	} else if (!strcmp(kind, "unread-close")) {
		fd = connect_from(srv, 8005, cport, 0);
		if (fd < 0 || write(fd, "unread\n", 7) != 7)
			die("unread-close");
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	} else if (!strcmp(kind, "linger2")) {
		fd = connect_from(srv, 8006, cport, 0);
		if (fd < 0)
			die("linger2");
		while (read(fd, buf, sizeof(buf)) > 0)	/* the server's FIN, then its RST */
			;
		msleep(400);
		close(fd);
	} else if (!strcmp(kind, "data-after-close")) {
		/* 8010: with 8007 our ACK of the server's FIN, were it delayed past our send
		 * by a slow wake-up, would meet a timewait socket instead */
		fd = connect_from(srv, 8010, cport, 0);
		if (fd < 0)
			die("data-after-close");
		while (read(fd, buf, sizeof(buf)) > 0)	/* until the server's FIN */
			;
		if (send(fd, "late\n", 5, MSG_NOSIGNAL) != 5)
			die("data-after-close: send");
		msleep(200);
		close(fd);
	} else if (!strcmp(kind, "timewait")) {
		/* as data-after-close, but once the server's socket is a timewait one: our ACK of
		 * its FIN leaves first (delayed ACKs wait 200 ms at most) */
		fd = connect_from(srv, 8007, cport, 0);
		if (fd < 0)
			die("timewait");
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		msleep(400);
		if (send(fd, "late\n", 5, MSG_NOSIGNAL) != 5)
			die("timewait: send");
		msleep(200);
		close(fd);
	} else if (!strcmp(kind, "keepalive")) {
		/* the caller drops what the server sends after the handshake */
		fd = connect_from(srv, 8008, cport, 0);
		if (fd < 0)
			die("keepalive");
		msleep(3500);
		close(fd);
	} else if (!strcmp(kind, "syn-reset")) {
		if (!silent)
			return 2;
		raw_segment(silent, 8001, cport, 0x02, 1000);
		msleep(20);
		raw_segment(silent, 8001, cport, 0x04, 1001);
	} else {
		fprintf(stderr, "tcpdrive: unknown kind '%s'\n", kind);
		return 2;
	}
	return 0;
}

/* ---- held connections, floods ------------------------------------------------------- */

static int cmd_hold(int argc, char **argv)
{
	int n, cport, *fd;
	char buf[256];

	if (argc < 3)
		return 2;
	n = atoi(argv[0]);
	cport = atoi(argv[2]);
	fd = calloc((size_t)(n > 0 ? n : 1), sizeof(*fd));
	if (!fd)
		die("calloc");
	for (int i = 0; i < n; i++) {
		fd[i] = connect_from(argv[1], 8001, cport + i, 0);
		if (fd[i] < 0 || write(fd[i], "hi\n", 3) != 3 || read(fd[i], buf, sizeof(buf)) <= 0)
			die("hold");
	}
	printf("held %d\n", n);
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin) == NULL && !feof(stdin))
		;
	for (int i = 0; i < n; i++) {
		shutdown(fd[i], SHUT_WR);
		while (read(fd[i], buf, sizeof(buf)) > 0)
			;
		close(fd[i]);
	}
	printf("closed %d\n", n);
	free(fd);
	return 0;
}

static int hexbyte(const char *s)
{
	char h[3] = { s[0], s[0] ? s[1] : 0, 0 };

	return (int)strtol(h, NULL, 16);
}

static int cmd_flood(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	uint8_t f[54] = { 0 }, *ip = f + 14, *th = f + 34;
	uint32_t dst, count, seed;
	int fd, syn, dport;

	if (argc < 7)
		return 2;
	syn = !strcmp(argv[0], "syn");
	if (!syn && strcmp(argv[0], "rst"))
		return 2;
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex || inet_pton(AF_INET, argv[3], &dst) != 1)
		return 2;
	dport = atoi(argv[4]);
	count = (uint32_t)strtoul(argv[5], NULL, 10);
	seed = (uint32_t)strtoul(argv[6], NULL, 10);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die("packet socket");
	for (int i = 0; i < 6; i++)
		f[i] = (uint8_t)hexbyte(argv[2] + 3 * i);
	f[6] = 0x02;	/* a locally administered source MAC */
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 16, &dst, 4);
	th[2] = (uint8_t)(dport >> 8);
	th[3] = (uint8_t)dport;
	th[12] = 5 << 4;
	th[13] = syn ? 0x02 : 0x14;
	th[14] = 0xff;
	for (uint32_t i = 0; i < count; i++) {
		/* an odd multiplier permutes the 2^17 sources; past them, the port moves on */
		uint32_t k = (i & 0x1ffff) * 2654435761u + seed, src = htonl(0xc6120000u | (k & 0x1ffff));
		uint16_t sport = (uint16_t)(1024 + (i >> 17) * 7 + (seed & 7));
		uint32_t sum = 0;
		uint16_t c;

		memcpy(ip + 12, &src, 4);
		ip[4] = (uint8_t)(i >> 8);
		ip[5] = (uint8_t)i;
		ip[10] = ip[11] = 0;
		c = csum16(ip, 20, 0);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		th[0] = (uint8_t)(sport >> 8);
		th[1] = (uint8_t)sport;
		memcpy(th + 4, &k, 4);
		th[16] = th[17] = 0;
		for (int b = 12; b < 20; b += 2)
			sum += (uint32_t)(ip[b] << 8 | ip[b + 1]);
		sum += IPPROTO_TCP + 20;
		c = csum16(th, 20, sum);
		th[16] = (uint8_t)(c >> 8);
		th[17] = (uint8_t)c;
		while (sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN)
				die("sendto");
			msleep(1);
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "server"))
		return cmd_server(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return cmd_client(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "hold"))
		return cmd_hold(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "flood"))
		return cmd_flood(argc - 2, argv + 2);
	fprintf(stderr, "usage: tcpdrive server ADDR... | tcpdrive client KIND SERVER CPORT "
		"[SILENT] | tcpdrive hold N SERVER CPORT | tcpdrive flood syn|rst IFACE DSTMAC "
		"DST DPORT COUNT SEED\n");
	return 2;
}
