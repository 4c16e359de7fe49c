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

/*
 * The local socket of a control packet this host sent, once its flow is accounted: its
 * cgroup v2 id and cookie, into the flow of canonical key @k where @ep sent it from port
 * @sport to @dport. Not when
 * the kernel answered with its per-namespace control socket (a refusal, a RST for no
 * connection: it has no port of its own), whose cgroup would be whichever process made the
 * namespace. Data packets never come here. The socket tracepoints (resets.bpf.c) tell the
 * rest, and before a close that such a packet decides (close, abort and refusal are
 * socket state changes first). At ingress, tc may not ask a socket's cgroup
 * (bpf_sk_cgroup_id). Not inlined: the verifier walks it once, not once per path of the
 * flow code.
 */
static __noinline void ct_own_tc(struct __sk_buff *skb, const struct ct_flow_key *k, __u32 sport,
				 __u32 dport, __u32 ep)
{
	struct bpf_sock *sk = skb->sk;
	struct ct_flow *f;

	/* a socket that closed has given its port back (an abort's RST), not its peer's */
	if (!sk || (sk->src_port != sport &&
		    (sk->src_port || sk->dst_port != bpf_htons((__u16)dport))))
		return;
	f = bpf_map_lookup_elem(&flows, k);
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

/* Bytes tc makes linear when headers straddle the skb's fragments: the deepest stack. */
#define CT_TC_PULL_LEN 512

SEC("xdp")
int ct_xdp(struct xdp_md *ctx)
{
	ct_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, ctx->ingress_ifindex);
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
	if (cfg.owners && res == CT_P_TCP && p.local &&
	    (p.flags & (CT_TH_SYN | CT_TH_FIN | CT_TH_RST)))
		ct_own_tc(skb, &p.key, p.sport, p.dport, p.ep);
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
