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

/* A socket's IPv6 address @f into @dst, each word loaded on its own (see below) */
#define CT_SK_IP6(dst, sk, f)						\
	do {								\
		(dst)[0] = (sk)->f[0];					\
		asm volatile("" ::: "memory");				\
		(dst)[1] = (sk)->f[1];					\
		asm volatile("" ::: "memory");				\
		(dst)[2] = (sk)->f[2];					\
		asm volatile("" ::: "memory");				\
		(dst)[3] = (sk)->f[3];					\
		asm volatile("" ::: "memory");				\
	} while (0)

/*
 * The local socket of a control packet this host sends, from port @sport to @dport with
 * outer VLAN @vlan: its cgroup v2 id and cookie, into the socket's flow. The key is the
 * socket's own addresses, so that the caller passes only numbers (a pointer to its stack
 * would keep the verifier from pruning the flow code's paths). Not when the kernel answered
 * with its per-namespace control socket (a refusal, a RST for no connection: it has no
 * port of its own), whose cgroup would be whichever process made the namespace. Data
 * packets never come here. The socket tracepoints (resets.bpf.c) tell the rest. At
 * ingress, tc may not ask a socket's cgroup (bpf_sk_cgroup_id).
 */
static __noinline void ct_own_tc(struct __sk_buff *skb, __u32 sport, __u32 dport, __u32 vlan)
{
	struct bpf_sock *sk = skb->sk;
	struct ct_flow_key k = {};
	struct ct_flow *f;
	int ep;

	/* a socket that closed has given its port back (an abort's RST), not its peer's */
	if (!sk || (sk->src_port != sport &&
		    (sk->src_port || sk->dst_port != bpf_htons((__u16)dport))))
		return;
	/*
	 * Field by field, each load on its own: the verifier takes a socket's fields only
	 * at a constant offset from it, never through a pointer moved along its arrays.
	 */
	if (sk->family == CT_AF_INET) {
		k.addr[0][2] = k.addr[1][2] = bpf_htonl(CT_V4MAPPED);
		k.addr[0][3] = sk->src_ip4;
		k.addr[1][3] = sk->dst_ip4;
	} else if (sk->family == CT_AF_INET6) {
		CT_SK_IP6(k.addr[0], sk, src_ip6);
		CT_SK_IP6(k.addr[1], sk, dst_ip6);
	} else {
		return;
	}
	k.port[0] = (__u16)sport;
	k.port[1] = (__u16)dport;
	k.ifvlan = CT_IFVLAN(skb->ifindex, vlan);
	ep = ct_key_canon(&k) & 1;
	f = bpf_map_lookup_elem(&flows, &k);
	if (!f || (f->own_flags & CT_OWN_NOSOCK))
		return;
	/* both ends this host's: the other's socket names the flow already */
	if ((f->own.cgroup || (f->own_flags & CT_OWN_PID)) &&
	    !!(f->own_flags & CT_OWN_EP_HI) != !!ep)
		return;
	if (!f->own.cgroup)
		f->own.cgroup = bpf_skb_cgroup_id(skb);
	/* a SYN-ACK's socket is the request, not yet the connection's */
	if (!f->own.cookie && bpf_sk_fullsock(sk))
		f->own.cookie = bpf_get_socket_cookie(skb);
	if (ep)
		f->own_flags |= CT_OWN_EP_HI;
}

/*
 * Bytes tc makes linear when headers straddle the skb's fragments: the deepest stack, a
 * tunnel's inner headers included (an inner IP header starts within 512 bytes).
 */
#define CT_TC_PULL_LEN 640

/*
 * The outer level of a frame is parsed inline, as before tunnels: a plain packet pays for
 * no call. The inner level of a tunnel, and a tc packet parsed again once its headers
 * were made linear, go through global functions, one for each program type: the verifier
 * checks a global function once, whatever calls it, and takes what it wrote into @p as
 * unknown. So the flow code is checked once for all of those ways, instead of once for
 * each tunnel and inner way through the headers.
 */
__noinline int ct_parse_xdp_inner(struct xdp_md *ctx, struct ct_pkt *p)
{
	if (!p)
		return CT_P_MALFORMED;
	return ct_parse_inner((void *)(long)ctx->data, (void *)(long)ctx->data_end, p);
}

__noinline int ct_parse_tc_inner(struct __sk_buff *skb, struct ct_pkt *p)
{
	if (!p)
		return CT_P_MALFORMED;
	return ct_parse_inner((void *)(long)skb->data, (void *)(long)skb->data_end, p);
}

/* Both levels of @skb, in one function: the parse again after a pull (rare). */
__noinline int ct_parse_tc_again(struct __sk_buff *skb, struct ct_pkt *p)
{
	if (!p)
		return CT_P_MALFORMED;
	return ct_parse((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, p);
}

SEC("xdp")
int ct_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ct_counters *c = ct_counters_get(ctx->ingress_ifindex);
	struct ct_pkt p = {};
	int res;

	if (!c)
		return XDP_PASS;
	res = ct_parse_outer(data, data_end, (__u32)(data_end - data), &p);
	if (res == CT_P_TUNNEL)
		res = ct_parse_xdp_inner(ctx, &p);
	ct_account(c, (enum ct_parse_res)res, &p, ctx->ingress_ifindex);
	return XDP_PASS;
}

SEC("tc")
int ct_tc(struct __sk_buff *skb)
{
	struct ct_counters *c = ct_counters_get(skb->ifindex);
	struct ct_pkt p = {};
	int res;

	if (!c)
		return TC_ACT_UNSPEC;
	res = ct_parse_outer((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, &p);
	if (res == CT_P_TUNNEL)
		res = ct_parse_tc_inner(skb, &p);
	/*
	 * Headers cut by the end of the linear area: make them linear and parse again. Rare
	 * (outgoing TCP keeps its headers linear), and it costs a copy of the head, so it is
	 * done only when parsing needs it; the packet's bytes stay as they are.
	 */
	if (res == CT_P_MALFORMED && skb->len > skb->data_end - skb->data &&
	    !bpf_skb_pull_data(skb, skb->len < CT_TC_PULL_LEN ? skb->len : CT_TC_PULL_LEN)) {
		__builtin_memset(&p, 0, sizeof(p));
		res = ct_parse_tc_again(skb, &p);
	}
	/* a tag the driver moved into metadata is the outermost one */
	if (skb->vlan_present) {
		p.vlan = skb->vlan_tci & CT_VLAN_MASK;
		p.vlan_tagged = 1;
	}
	/* locally made packets have no input interface; forwarded ones do */
	p.local = !skb->ingress_ifindex;
	/*
	 * The owner of a FIN or RST this host sends goes in first: the packet may decide the
	 * close, whose event leaves with the flow. A SYN's flow is made by the packet itself.
	 */
	if (cfg.owners && res == CT_P_TCP && p.local &&
	    (p.flags & (CT_TH_SYN | CT_TH_FIN | CT_TH_RST)))
		ct_own_tc(skb, p.sport, p.dport, p.vlan);
	ct_account(c, (enum ct_parse_res)res, &p, skb->ifindex);
	/* every RST this host sends (resets.bpf.c names the reasons of some) */
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
