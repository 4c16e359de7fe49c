// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * impostor.bpf.c - end-to-end test helper: programs of another tool that happen to carry
 * closetrace's names. Their instructions differ from closetrace's, so their tags do, and
 * closetrace must neither take them for its own nor remove them.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ct_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int ct_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
