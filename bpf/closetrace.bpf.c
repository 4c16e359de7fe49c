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

/* Bytes tc makes linear before parsing when the headers straddle the skb's fragments. */
#define CT_TC_PULL_LEN 128

SEC("xdp")
int ct_xdp(struct xdp_md *ctx)
{
	struct ct_pkt p = {};

	ct_handle((void *)(long)ctx->data, (void *)(long)ctx->data_end, ctx->ingress_ifindex,
		  &p);
	return XDP_PASS;
}

SEC("tc")
int ct_tc(struct __sk_buff *skb)
{
	struct ct_pkt p = {};
	__u32 lin = skb->data_end - skb->data;

	/* A tag the driver moved into metadata is the outermost one. */
	if (skb->vlan_present) {
		p.vlan = skb->vlan_tci & 0x0fff;
		p.vlan_tagged = 1;
	}
	/* Pulling makes headers readable; the packet's bytes stay as they are. */
	if (lin < CT_TC_PULL_LEN && skb->len > lin)
		bpf_skb_pull_data(skb, skb->len < CT_TC_PULL_LEN ? skb->len : CT_TC_PULL_LEN);

	ct_handle((void *)(long)skb->data, (void *)(long)skb->data_end, skb->ifindex, &p);
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
