// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_pcap.c - libFuzzer harness for the capture reader (user/io/pcapin.c): any input is
 * opened as a pcap or pcapng file from memory and read to its end, as replay reads a file.
 * Every frame handed over must be what replay is promised: at least an Ethernet header,
 * no longer than the reader's bounds, every byte readable, a synthesized link header
 * that is plain Ethernet, and a wire length not shorter than the frame. Every error
 * must be one non-empty sentence. Built with ASan and UBSan (see Makefile).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pcapin.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define ETH_HLEN 14
/* libpcap's own bound on a record's captured length (MAXIMUM_SNAPLEN) */
#define PCAP_MAX_CAPLEN 262144

static void check_err(const char *err, size_t len)
{
	if (!memchr(err, '\0', len) || !err[0])
		abort();
}

/* where the frame's bytes go, so that reading them is not optimized away */
volatile unsigned char fuzz_sink;

static void check_frame(const struct ct_pcap *c, const struct ct_frame *f)
{
	unsigned char x = 0;
	__u16 et;

	if (!f->data || f->len < ETH_HLEN || f->len > PCAP_MAX_CAPLEN)
		abort();
	if (f->wire_len < f->len)
		abort();
	/* ASan checks that all of it is there */
	for (__u32 i = 0; i < f->len; i++)
		x ^= f->data[i];
	fuzz_sink = x;
	if (c->dlt == DLT_EN10MB)
		return;
	/*
	 * A synthesized header: no addresses; cooked captures keep their protocol field,
	 * the others have an IP ethertype or "unknown".
	 */
	if (f->len > c->buflen || f->data != c->buf)
		abort();
	for (int i = 0; i < 12; i++)
		if (f->data[i])
			abort();
	et = (__u16)(f->data[12] << 8 | f->data[13]);
	if (c->dlt == DLT_LINUX_SLL || c->dlt == DLT_LINUX_SLL2) {
		if (!et)
			abort();
	} else if (et != 0x0800 && et != 0x86dd && et != 0xffff) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct ct_pcap c;
	struct ct_frame f;
	FILE *fp;
	int r;

	if (!size)
		return 0;	/* fmemopen() wants a buffer */
	fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	err[0] = '\0';
	if (ct_pcap_fopen(&c, fp, "fuzz", err, sizeof(err))) {
		check_err(err, sizeof(err));
		return 0;
	}
	for (;;) {
		err[0] = '\0';
		r = ct_pcap_next(&c, &f, err, sizeof(err));
		if (r == 0)
			break;
		if (r == 1) {
			check_frame(&c, &f);
			continue;
		}
		if (r != -1 && r != -2)
			abort();
		check_err(err, sizeof(err));
		if (r == -1)
			break;	/* as replay does: the rest cannot be read */
	}
	ct_pcap_close(&c);
	return 0;
}
