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

size_t pkt_build(uint8_t *buf, const struct pkt_spec *s, struct pkt_layout *lay)
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
