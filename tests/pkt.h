/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt.h - builds test frames: Ethernet, up to two VLAN tags, IPv4 or IPv6, TCP with the
 * given flags and payload length, optionally inside a tunnel (enum ct_tunnel: an outer
 * Ethernet, IPv4 and UDP or GRE, the tunnel's header with options or extensions, the inner
 * frame). Offsets of each header are returned so that tests can damage one field at a time.
 */
#ifndef CT_TEST_PKT_H
#define CT_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

struct pkt_spec {
	int family;		/* 4 or 6 */
	int vlans;		/* 0, 1 (802.1Q) or 2 (802.1ad outer + 802.1Q inner) */
	const char *src, *dst;	/* numeric addresses of the family */
	uint16_t sport, dport;
	uint8_t flags;		/* TCP flags byte */
	uint32_t payload;	/* payload bytes (zeros) */
	uint32_t seq, ack;
	int tunnel;		/* enum ct_tunnel, 0 none (the VLAN tags are the outer frame's) */
	uint32_t tun_id;	/* VNI, TEID, GRE key, ERSPAN session */
	int from_client;	/* the outer addresses: 10.9.0.1 (client side), 10.9.0.2 */
};

struct pkt_layout {
	size_t l3;		/* offset of the IP header */
	size_t l4;		/* offset of the TCP header */
	size_t len;		/* frame length */
	size_t tun;		/* in a tunnel: offset of the outer UDP or GRE header */
	size_t tun_hdr;		/* ... and of the tunnel's own header (UDP's payload) */
};

#define PKT_MAX 2048

/* Build the frame into @buf (PKT_MAX bytes); returns its length, 0 on a bad spec. */
size_t pkt_build(uint8_t *buf, const struct pkt_spec *s, struct pkt_layout *lay);

#endif /* CT_TEST_PKT_H */
