// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * closetrace.bpf.c - the entry points: an XDP program for ingress (mirror ports,
 * gateways, replay) and a tc program for clsact ingress and egress. Both only read the
 * packet and hand it to the shared flow code; neither drops nor changes anything.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"
#include "flow.h"

/* Bytes tc makes linear when headers straddle the skb's fragments: the deepest stack. */
#define CT_TC_PULL_LEN 512

SEC("xdp")
int ct_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ct_counters *c = ct_counters_get(ctx->ingress_ifindex);
	struct ct_pkt p = {};
	enum ct_parse_res res;

	if (!c)
		return XDP_PASS;
	res = ct_parse(data, data_end, (__u32)(data_end - data), &p);
	ct_account(c, res, &p, ctx->ingress_ifindex);
	return XDP_PASS;
}

SEC("tc")
int ct_tc(struct __sk_buff *skb)
{
	struct ct_counters *c = ct_counters_get(skb->ifindex);
	struct ct_pkt p = {};
	enum ct_parse_res res;
	__u16 vlan = 0;
	__u8 tagged = 0;

	if (!c)
		return TC_ACT_UNSPEC;
	/* A tag the driver moved into metadata is the outermost one. */
	if (skb->vlan_present) {
		vlan = skb->vlan_tci & CT_VLAN_MASK;
		tagged = 1;
	}
	p.vlan = vlan;
	p.vlan_tagged = tagged;
	res = ct_parse((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, &p);
	/*
	 * Headers cut by the end of the linear area: make them linear and parse again. Rare
	 * (outgoing TCP keeps its headers linear), and it costs a copy of the head, so it is
	 * done only when parsing needs it; the packet's bytes stay as they are.
	 */
	if (res == CT_P_MALFORMED && skb->len > skb->data_end - skb->data &&
	    !bpf_skb_pull_data(skb, skb->len < CT_TC_PULL_LEN ? skb->len : CT_TC_PULL_LEN)) {
		__builtin_memset(&p, 0, sizeof(p));
		p.vlan = vlan;
		p.vlan_tagged = tagged;
		res = ct_parse((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, &p);
	}
	/* locally made packets have no input interface; forwarded ones do */
	p.local = !skb->ingress_ifindex;
	ct_account(c, res, &p, skb->ifindex);
	/* every RST this host sends (the reset tracepoint names the reasons of some) */
	if (res == CT_P_TCP && p.local && (p.flags & CT_TH_RST))
		c->rst_sent[0]++;
	return TC_ACT_UNSPEC;
}

/* Run once by user space with BPF_PROG_TEST_RUN; never attached. */
SEC("xdp")
int ct_clock_probe(struct xdp_md *ctx)
{
	clock_probe.jiffies = bpf_jiffies64();
	clock_probe.mono_ns = bpf_ktime_get_ns();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The tracepoints carry the kernel's sockaddrs as bytes: their fields at the UAPI offsets. */
#define CT_SIN_OFF(f) __builtin_offsetof(struct sockaddr_in, f)
#define CT_SIN6_OFF(f) __builtin_offsetof(struct sockaddr_in6, f)
_Static_assert(CT_SIN_OFF(sin_family) == CT_SIN6_OFF(sin6_family), "sockaddr family");
_Static_assert(CT_SIN_OFF(sin_port) == CT_SIN6_OFF(sin6_port), "sockaddr port");

/*
 * A sockaddr_in / sockaddr_in6 of the tracepoint record at @off: the address, IPv4
 * mapped as in flow keys, and the port in host order. 0, or -1 for another family.
 */
static __always_inline int ct_rr_addr(void *ctx, __u16 off, __u32 *addr, __u16 *port)
{
	__u8 sa[sizeof(struct sockaddr_in6)];	/* the larger of the two */
	__u16 fam, nport;

	if (bpf_probe_read_kernel(sa, sizeof(sa), ctx + off))
		return -1;
	/* family and port sit at the same offsets in both */
	__builtin_memcpy(&fam, sa + CT_SIN_OFF(sin_family), 2);
	__builtin_memcpy(&nport, sa + CT_SIN_OFF(sin_port), 2);
	*port = bpf_ntohs(nport);
	if (fam == CT_AF_INET) {
		addr[0] = 0;
		addr[1] = 0;
		addr[2] = bpf_htonl(CT_V4MAPPED);
		__builtin_memcpy(&addr[3], sa + CT_SIN_OFF(sin_addr), 4);
		return 0;
	}
	if (fam == CT_AF_INET6) {
		__builtin_memcpy(addr, sa + CT_SIN6_OFF(sin6_addr), 16);
		return 0;
	}
	return -1;
}

/*
 * This host sends a RST: note why (and its socket's state) in the flow, before the RST
 * reaches tc egress, where the close is decided and its event leaves with the reason. The
 * first reason stays. Runs only when live in tc mode and the tracepoint exists.
 */
/*
 * The flow of canonical key @k (ifvlan aside) on one of the watched interfaces, and that
 * interface's counters in *@c.
 */
static __always_inline struct ct_flow *ct_rr_flow(struct ct_flow_key *k, struct ct_counters **c)
{
	struct ct_flow *f = NULL;
	__u32 i;

	ct_key_canon(k);
	for (i = 0; i < CT_RR_IFACES && i < cfg_nifs; i++) {
		k->ifvlan = CT_IFVLAN(cfg_ifindex[i], 0);
		f = bpf_map_lookup_elem(&flows, k);
		if (f)
			break;
	}
	*c = f ? bpf_map_lookup_elem(&counters, &i) : NULL;
	return f;
}

/*
 * The flow's close event already left without what a tracepoint just told: send it
 * after, once (the caller changed the flow only the first time).
 */
static __always_inline void ct_amend(struct ct_flow *f, struct ct_flow_key *k,
				     struct ct_counters *c)
{
	if (!(f->state & CT_ST_ENDED) || f->close == CT_CLOSE_NONE || !c)
		return;
	ct_emit_event(f, k, CT_EV_AMEND, f->close, CT_BY_NONE, 0, 0, ct_now(), c->c);
}

SEC("tracepoint/tcp/tcp_send_reset")
int ct_send_reset(void *ctx)
{
	struct ct_flow_key k = {};
	struct ct_counters *c;
	struct ct_flow *f;
	__u32 reason = 0;
	int state = 0;

	if (cfg_rr_saddr == CT_FIELD_NONE || cfg_rr_daddr == CT_FIELD_NONE)
		return 0;
	if (ct_rr_addr(ctx, cfg_rr_saddr, k.addr[0], &k.port[0]) ||
	    ct_rr_addr(ctx, cfg_rr_daddr, k.addr[1], &k.port[1]))
		return 0;
	if (cfg_rr_state != CT_FIELD_NONE)
		bpf_probe_read_kernel(&state, sizeof(state), ctx + cfg_rr_state);
	if (cfg_rr_reason != CT_FIELD_NONE)
		bpf_probe_read_kernel(&reason, sizeof(reason), ctx + cfg_rr_reason);
	f = ct_rr_flow(&k, &c);
	if (!f)
		return 0;
	/* every RST traced counts under its reason (tc counts them all); the flow keeps the
	 * first */
	if (c && cfg_rr_reason != CT_FIELD_NONE && reason < CT_RST_REASONS - 1)
		c->rst_sent[reason + 1]++;
	if (f->rst_reason)
		return 0;
	f->rst_state = state > 0 && state < 256 ? (__u8)state : 0;
	f->rst_reason = reason < 255 ? (__u8)(reason + 1) : 0;
	/* an active reset (abort, linger, keepalive...) is traced after the RST left */
	ct_amend(f, &k, c);
	return 0;
}

/*
 * A local socket accepted a RST: traced after the RST passed tc ingress, where the close
 * was decided, so the close event waits for this (or for a short deadline) in user space.
 */
SEC("tracepoint/tcp/tcp_receive_reset")
int ct_receive_reset(void *ctx)
{
	struct ct_flow_key k = {};
	struct ct_counters *c;
	struct ct_flow *f;
	__u16 family = 0;

	if (cfg_rx_family == CT_FIELD_NONE || cfg_rx_sport == CT_FIELD_NONE ||
	    cfg_rx_dport == CT_FIELD_NONE)
		return 0;
	bpf_probe_read_kernel(&family, sizeof(family), ctx + cfg_rx_family);
	bpf_probe_read_kernel(&k.port[0], 2, ctx + cfg_rx_sport);
	bpf_probe_read_kernel(&k.port[1], 2, ctx + cfg_rx_dport);
	if (family == CT_AF_INET && cfg_rx_saddr != CT_FIELD_NONE &&
	    cfg_rx_daddr != CT_FIELD_NONE) {
		k.addr[0][2] = k.addr[1][2] = bpf_htonl(CT_V4MAPPED);
		bpf_probe_read_kernel(&k.addr[0][3], 4, ctx + cfg_rx_saddr);
		bpf_probe_read_kernel(&k.addr[1][3], 4, ctx + cfg_rx_daddr);
	} else if (family == CT_AF_INET6 && cfg_rx_saddr6 != CT_FIELD_NONE &&
		   cfg_rx_daddr6 != CT_FIELD_NONE) {
		bpf_probe_read_kernel(k.addr[0], 16, ctx + cfg_rx_saddr6);
		bpf_probe_read_kernel(k.addr[1], 16, ctx + cfg_rx_daddr6);
	} else {
		return 0;
	}
	f = ct_rr_flow(&k, &c);
	if (!f || f->rst_accepted)
		return 0;
	f->rst_accepted = 1;
	ct_amend(f, &k, c);
	return 0;
}
