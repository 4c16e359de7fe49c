// SPDX-License-Identifier: BSD-3-Clause
/* pcapin.c - capture reading and link-type normalization to Ethernet (see pcapin.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "pcapin.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define ETH_HLEN 14

static int dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 1;
	default:
		return 0;
	}
}

/* libpcap refused to open @name: say so in one sentence. */
static void open_error(const char *name, const char *ebuf, int empty, char *err, size_t errlen)
{
	if (empty)
		snprintf(err, errlen, "%s: empty file, not a pcap or pcapng capture", name);
	else if (strstr(ebuf, "unknown file format") || strstr(ebuf, "bad dump file"))
		snprintf(err, errlen, "%s: not a pcap or pcapng capture", name);
	else
		snprintf(err, errlen, "%s: %s", name, ebuf);
}

/* What follows a successful open, whatever the source: the link type, the frame buffer. */
static int setup(struct ct_pcap *c, pcap_t *p, char *err, size_t errlen)
{
	const char *name;

	c->dlt = pcap_datalink(p);
	if (!dlt_supported(c->dlt)) {
		name = pcap_datalink_val_to_name(c->dlt);
		snprintf(err, errlen,
			 "%s: link type %s (%d) is not supported; closetrace reads Ethernet, "
			 "Linux cooked, BSD loopback and raw IP captures",
			 c->path, name ? name : "unknown", c->dlt);
		return -1;
	}
	c->buflen = 65536 + ETH_HLEN;
	c->buf = malloc(c->buflen);
	if (!c->buf) {
		snprintf(err, errlen, "%s: out of memory", c->path);
		return -1;
	}
	c->handle = p;
	return 0;
}

int ct_pcap_open(struct ct_pcap *c, const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	pcap_t *p;

	memset(c, 0, sizeof(*c));
	c->path = path;
	if (strcmp(path, "-") && stat(path, &st)) {	/* "-": standard input */
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (strcmp(path, "-") && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory, not a capture file", path);
		return -1;
	}
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		open_error(path, ebuf, strcmp(path, "-") && st.st_size == 0, err, errlen);
		return -1;
	}
	if (setup(c, p, err, errlen)) {
		pcap_close(p);
		return -1;
	}
	return 0;
}

int ct_pcap_fopen(struct ct_pcap *c, FILE *fp, const char *name, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;

	memset(c, 0, sizeof(*c));
	c->path = name;
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		open_error(name, ebuf, 0, err, errlen);
		fclose(fp);
		return -1;
	}
	if (setup(c, p, err, errlen)) {
		pcap_close(p);	/* closes @fp */
		return -1;
	}
	return 0;
}

void ct_pcap_close(struct ct_pcap *c)
{
	if (c->handle)
		pcap_close(c->handle);
	free(c->buf);
	c->handle = NULL;
	c->buf = NULL;
}

/* Replace a link header of @hlen bytes by an Ethernet header with @ethertype. */
static void synth(struct ct_pcap *c, struct ct_frame *f, const unsigned char *pkt, __u32 caplen,
		  __u32 wirelen, __u32 hlen, __u16 ethertype)
{
	__u32 n = caplen - hlen;

	if (n > c->buflen - ETH_HLEN)
		n = (__u32)(c->buflen - ETH_HLEN);
	memset(c->buf, 0, 12);
	c->buf[12] = ethertype >> 8;
	c->buf[13] = ethertype & 0xff;
	memcpy(c->buf + ETH_HLEN, pkt + hlen, n);
	f->data = c->buf;
	f->len = n + ETH_HLEN;
	/* a corrupt record's wire length can be near 4 GiB: saturate, do not wrap */
	wirelen -= hlen;
	f->wire_len = wirelen > UINT32_MAX - ETH_HLEN ? UINT32_MAX : wirelen + ETH_HLEN;
}

static __u16 ip_ethertype(const unsigned char *ip, __u32 len)
{
	if (len < 1)
		return 0;
	if (ip[0] >> 4 == 4)
		return 0x0800;
	if (ip[0] >> 4 == 6)
		return 0x86dd;
	return 0;
}

/* BSD loopback family values: AF_INET is 2 everywhere; AF_INET6 differs by system. */
static __u16 null_ethertype(__u32 fam)
{
	if (fam == 2)
		return 0x0800;
	if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
		return 0x86dd;
	return 0;
}

int ct_pcap_next(struct ct_pcap *c, struct ct_frame *f, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const unsigned char *pkt;
	__u32 hlen = 0, fam, wirelen;
	__u16 et = 0;
	int r;

	r = pcap_next_ex(c->handle, &h, &pkt);
	if (r == PCAP_ERROR_BREAK)
		return 0;
	c->pktno++;
	if (r != 1) {
		snprintf(err, errlen, "%s: packet %llu: %s", c->path, c->pktno,
			 pcap_geterr(c->handle));
		return -1;
	}
	f->ts_ns = (__u64)h->ts.tv_sec * 1000000000ull + (__u64)h->ts.tv_usec;
	if (h->caplen == 0) {
		snprintf(err, errlen, "%s: packet %llu: zero-length packet, skipped", c->path,
			 c->pktno);
		return -2;
	}
	/*
	 * A record may claim fewer bytes on the wire than it holds (libpcap passes that on):
	 * what was captured was on the wire, and a wire length under the link header's
	 * would wrap when the header is replaced.
	 */
	wirelen = h->len < h->caplen ? h->caplen : h->len;

	switch (c->dlt) {
	case DLT_EN10MB:
		if (h->caplen < ETH_HLEN)
			goto cut;
		f->data = pkt;
		f->len = h->caplen;
		f->wire_len = wirelen;
		return 1;
	case DLT_LINUX_SLL:
		hlen = 16;
		if (h->caplen < hlen)
			goto cut;
		et = (__u16)(pkt[14] << 8 | pkt[15]);
		break;
	case DLT_LINUX_SLL2:
		hlen = 20;
		if (h->caplen < hlen)
			goto cut;
		et = (__u16)(pkt[0] << 8 | pkt[1]);
		break;
	case DLT_NULL:
	case DLT_LOOP:
		hlen = 4;
		if (h->caplen < hlen)
			goto cut;
		/* NULL is in the capturing host's order, LOOP in network order */
		fam = (__u32)pkt[0] << 24 | (__u32)pkt[1] << 16 | (__u32)pkt[2] << 8 | pkt[3];
		et = null_ethertype(fam);
		if (!et && c->dlt == DLT_NULL)
			et = null_ethertype(__builtin_bswap32(fam));
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		et = ip_ethertype(pkt, h->caplen);
		break;
	}
	/* an unknown network protocol: pass it as such, the program counts it as other */
	synth(c, f, pkt, h->caplen, wirelen, hlen, et ? et : 0xffff);
	return 1;
cut:
	snprintf(err, errlen, "%s: packet %llu: %u bytes captured, cut inside the link-layer "
		 "header; skipped", c->path, c->pktno, h->caplen);
	return -2;
}
