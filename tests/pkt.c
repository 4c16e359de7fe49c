// SPDX-License-Identifier: BSD-3-Clause
/* pkt.c - test frame builder (see pkt.h). */
#include <arpa/inet.h>
#include <string.h>

#include "pkt.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t pkt_build_plain(uint8_t *buf, const struct pkt_spec *s, struct pkt_layout *lay);

/* The tunnel's header at @h for an inner frame of @inner bytes; returns its length. */
static size_t tun_header(uint8_t *h, const struct pkt_spec *s, size_t inner)
{
	switch (s->tunnel) {
	case 1:	/* VXLAN: I flag, VNI */
		h[0] = 0x08;
		put32(h + 4, s->tun_id << 8);
		return 8;
	case 2:	/* Geneve: one 8-byte option, Ethernet */
		h[0] = 2;
		put16(h + 2, 0x6558);
		put32(h + 4, s->tun_id << 8);
		put16(h + 8, 0x0102);
		h[10] = 0x80;
		h[11] = 1;
		return 16;
	case 3:	/* GTP-U: v1, PT, E; a G-PDU; one extension (PDU session container) */
		h[0] = 0x34;
		h[1] = 255;
		put16(h + 2, (uint16_t)(4 + 4 + inner));
		put32(h + 4, s->tun_id);
		h[11] = 0x85;
		h[12] = 1;
		h[13] = 0x10;
		h[14] = 9;
		h[15] = 0;
		return 16;
	case 4:	/* Teredo: an origin indication */
		put16(h + 2, 0x1234);
		put32(h + 4, 0xc0000201);
		return 8;
	case 5:	/* GRE with a key */
		put16(h, 0x2000);
		put16(h + 2, s->family == 6 ? 0x86dd : 0x0800);
		put32(h + 4, s->tun_id);
		return 8;
	case 6:	/* ERSPAN type II: GRE with a sequence, the 8-byte header, Ethernet */
		put16(h, 0x1000);
		put16(h + 2, 0x88be);
		put32(h + 4, 7);
		h[8] = 0x10;
		h[10] = (uint8_t)(s->tun_id >> 8 & 3);
		h[11] = (uint8_t)s->tun_id;
		return 16;
	default:
		return 0;
	}
}

size_t pkt_build(uint8_t *buf, const struct pkt_spec *s, struct pkt_layout *lay)
{
	static const uint16_t ports[] = { 0, 4789, 6081, 2152, 3544 };
	struct pkt_spec in = *s;
	struct pkt_layout il;
	uint8_t inner[PKT_MAX];
	size_t ilen, off, hl, l4, tot;
	int eth = s->tunnel == 1 || s->tunnel == 2 || s->tunnel == 6;
	uint8_t *ip;

	if (!s->tunnel)
		return pkt_build_plain(buf, s, lay);
	if (s->tunnel < 0 || s->tunnel > 6 || (s->tunnel == 4 && s->family != 6))
		return 0;
	in.tunnel = 0;
	in.vlans = 0;
	if (!pkt_build_plain(inner, &in, &il))
		return 0;
	/* the IP packet, or the whole frame without the NIC's padding */
	ilen = il.l4 + 20 + s->payload - (eth ? 0 : 14);
	/* the outer frame: Ethernet (the spec's tags), IPv4 */
	in = *s;
	in.tunnel = 0;
	in.family = 4;
	in.src = s->from_client ? "10.9.0.1" : "10.9.0.2";
	in.dst = s->from_client ? "10.9.0.2" : "10.9.0.1";
	in.payload = 0;
	if (!pkt_build_plain(buf, &in, lay))
		return 0;
	off = lay->l3;
	ip = buf + off;
	memset(ip, 0, PKT_MAX - off);
	ip[0] = 0x45;
	put16(ip + 4, 1);
	ip[8] = 64;
	memcpy(ip + 12, (uint8_t[]){ 10, 9, 0, s->from_client ? 1 : 2 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 9, 0, s->from_client ? 2 : 1 }, 4);
	l4 = off + 20;
	lay->tun = l4;
	if (s->tunnel <= 4) {
		uint16_t port = ports[s->tunnel];

		ip[9] = 17;
		/* to the tunnel's port both ways; Teredo's server answers from it */
		put16(buf + l4, s->tunnel == 4 && !s->from_client ? port : 50000);
		put16(buf + l4 + 2, s->tunnel == 4 && !s->from_client ? 50000 : port);
		lay->tun_hdr = l4 + 8;
	} else {
		ip[9] = 47;
		lay->tun_hdr = l4;
	}
	hl = tun_header(buf + lay->tun_hdr, s, ilen);
	if (lay->tun_hdr + hl + ilen > PKT_MAX)
		return 0;
	memcpy(buf + lay->tun_hdr + hl, inner + (eth ? 0 : 14), ilen);
	tot = lay->tun_hdr + hl + ilen;
	if (s->tunnel <= 4)
		put16(buf + l4 + 4, (uint16_t)(tot - l4));
	put16(ip + 2, (uint16_t)(tot - off));
	put16(ip + 10, csum(ip, 20));
	lay->l3 = lay->tun_hdr + hl + (eth ? 14 : 0);
	lay->l4 = lay->l3 + (s->family == 6 ? 40 : 20);
	lay->len = tot < 60 ? 60 : tot;
	return lay->len;
}

static size_t pkt_build_plain(uint8_t *buf, const struct pkt_spec *s, struct pkt_layout *lay)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	size_t off = 12, iplen, total;
	uint8_t *ip, *th;

	if (s->vlans < 0 || s->vlans > 2 || s->payload > 1400)
		return 0;
	memset(buf, 0, PKT_MAX);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	if (s->vlans == 2) {
		put16(buf + off, 0x88a8);
		put16(buf + off + 2, 100);
		off += 4;
	}
	if (s->vlans >= 1) {
		put16(buf + off, 0x8100);
		put16(buf + off + 2, s->vlans == 2 ? 200 : 100);
		off += 4;
	}
	put16(buf + off, s->family == 6 ? 0x86dd : 0x0800);
	off += 2;
	ip = buf + off;
	lay->l3 = off;

	if (s->family == 4) {
		iplen = 20 + 20 + s->payload;
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)iplen);
		put16(ip + 4, 1);
		ip[8] = 64;
		ip[9] = 6;
		if (inet_pton(AF_INET, s->src, ip + 12) != 1 ||
		    inet_pton(AF_INET, s->dst, ip + 16) != 1)
			return 0;
		put16(ip + 10, csum(ip, 20));
		th = ip + 20;
	} else if (s->family == 6) {
		iplen = 40 + 20 + s->payload;
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(20 + s->payload));
		ip[6] = 6;
		ip[7] = 64;
		if (inet_pton(AF_INET6, s->src, ip + 8) != 1 ||
		    inet_pton(AF_INET6, s->dst, ip + 24) != 1)
			return 0;
		th = ip + 40;
	} else {
		return 0;
	}
	lay->l4 = (size_t)(th - buf);
	put16(th, s->sport);
	put16(th + 2, s->dport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = 5 << 4;
	th[13] = s->flags;
	put16(th + 14, 65535);
	total = off + iplen;
	/* the minimum Ethernet frame is 60 bytes without FCS: pad as a NIC would */
	lay->len = total < 60 ? 60 : total;
	return lay->len;
}
