// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/* floor.bpf.c - the baselines of the benchmarks: programs that do nothing but pass. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int floor_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
