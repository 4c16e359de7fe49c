// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * vlan_tag.bpf.c - end-to-end test helpers: "tag" tags every packet leaving the interface it is
 * attached to (tc egress) with VLAN 100, the way a trunk port would deliver it. No 802.1Q
 * module or tc vlan action is needed. "other_tool" stands for another XDP program.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tag(struct __sk_buff *skb)
{
	bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 100);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Another tool's XDP program, for the test that closetrace does not replace it. */
SEC("xdp")
int other_tool(struct xdp_md *ctx)
{
	return XDP_PASS;
}
