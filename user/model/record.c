// SPDX-License-Identifier: BSD-3-Clause
/* record.c - builds output records from kernel events and flow-map entries. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "ct_logic.h"
#include "record.h"

int ct_addr_is_v4(const __u32 addr[4])
{
	return !addr[0] && !addr[1] && addr[2] == htonl(0xffff);
}

int ct_key_is_v4(const struct ct_flow_key *k)
{
	return ct_addr_is_v4(k->addr[0]) && ct_addr_is_v4(k->addr[1]);
}

void ct_addr_str(const __u32 addr[4], int v4, char *buf, size_t len)
{
	if (v4)
		inet_ntop(AF_INET, &addr[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
}

void ct_key_addr_str(const struct ct_flow_key *k, int ep, char *buf, size_t len)
{
	ct_addr_str(k->addr[ep], ct_key_is_v4(k), buf, len);
}

void ct_endpoint_str(const __u32 addr[4], __u16 port, int v4, char *buf, size_t len)
{
	char ip[64];

	ct_addr_str(addr, v4, ip, sizeof(ip));
	snprintf(buf, len, v4 ? "%s:%u" : "[%s]:%u", ip, port);
}

void ct_record_from_event(struct ct_record *r, const struct ct_event *e, __s64 to_wall,
			  const char *iface)
{
	memset(r, 0, sizeof(*r));
	r->type = e->type == CT_EV_REPLACED ? CT_REC_FLOW : CT_REC_CLOSE;
	r->key = e->key;
	r->flow = e->flow;
	r->close = e->close;
	r->rst_by = e->rst_by;
	r->client_ep = e->client_ep & 1;
	/* a replaced flow ended when its close was decided, not when the SYN came */
	r->ts_ns = (__u64)((__s64)(r->type == CT_REC_FLOW && e->flow.end_ns ? e->flow.end_ns :
								       e->ts_ns) + to_wall);
	r->start_ns = (__u64)((__s64)e->flow.first_ns + to_wall);
	if (r->type == CT_REC_FLOW)
		r->rst_by = (__u8)ct_first_rst_by(&e->flow, r->client_ep);
	r->iface = iface;
}

__u8 ct_first_rst_by(const struct ct_flow *f, int clt)
{
	int ep = ct_history_first(f->history, CT_L_RST);

	return ep < 0 ? CT_BY_NONE : ep == clt ? CT_BY_CLT : CT_BY_SRV;
}

void ct_record_from_flow(struct ct_record *r, enum ct_rec_type type,
			 const struct ct_flow_key *k, const struct ct_flow *f, __u8 close,
			 __u64 end_ns, __s64 to_wall, const char *iface)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
	r->key = *k;
	r->flow = *f;
	r->close = close;
	r->client_ep = ct_client_ep(f->state) & 1;
	r->rst_by = close == CT_CLOSE_GRACEFUL ? CT_BY_NONE : ct_first_rst_by(f, r->client_ep);
	r->ts_ns = (__u64)((__s64)end_ns + to_wall);
	r->start_ns = (__u64)((__s64)f->first_ns + to_wall);
	r->iface = iface;
}
