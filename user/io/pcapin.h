/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapin.h - reads pcap and pcapng captures with libpcap, one packet at a time (streamed:
 * memory does not grow with the file), and hands each packet over as an Ethernet frame:
 * Linux cooked (SLL, SLL2), BSD loopback (NULL, LOOP) and raw IP get an exact Ethernet
 * header in place of theirs.
 */
#ifndef CT_PCAPIN_H
#define CT_PCAPIN_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

struct ct_pcap {
	void *handle;		/* pcap_t */
	const char *path;
	int dlt;
	unsigned long long pktno;	/* 1-based number of the last packet read */
	unsigned char *buf;	/* synthesized frames */
	size_t buflen;
};

struct ct_frame {
	const unsigned char *data;
	__u32 len;		/* bytes captured, as a frame (after any header rewrite) */
	__u32 wire_len;		/* bytes on the wire, same accounting */
	__u64 ts_ns;		/* capture time, ns since the epoch */
};

/* Open a capture; on failure returns -1 with one sentence in @err. */
int ct_pcap_open(struct ct_pcap *c, const char *path, char *err, size_t errlen);
/*
 * The same over a stream already open (the fuzz harness reads from memory), named @name in
 * messages. @fp is the reader's from then on, closed by ct_pcap_close() or on failure.
 */
int ct_pcap_fopen(struct ct_pcap *c, FILE *fp, const char *name, char *err, size_t errlen);
void ct_pcap_close(struct ct_pcap *c);

/*
 * Next packet: 1 and @f filled; 0 at the end of the file; -1 when the file cannot be read
 * further (truncated, corrupt), -2 when this one packet is unusable (no bytes, cut inside
 * its link header); both with one sentence in @err, naming the packet.
 */
int ct_pcap_next(struct ct_pcap *c, struct ct_frame *f, char *err, size_t errlen);

#endif /* CT_PCAPIN_H */
