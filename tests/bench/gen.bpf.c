// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * gen.bpf.c - packet generator for the live-rate and event benchmarks, run with
 * BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES: each frame (Ethernet, IPv4, TCP, built
 * by user space) gets the next flow's source address and port, and is sent out of the
 * interface (XDP_TX) towards the namespace where the tracer runs.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 nflows = 1;	/* flows to cycle through; 0: a new flow every frame */
__u64 sent = 0;

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *th = (void *)(ip + 1);
	__u64 i = sent++;

	if ((void *)(th + 1) > end)
		return XDP_ABORTED;
	if (nflows)
		i %= nflows;
	/* 50000 ports per source address: up to 3.2 billion distinct flows */
	th->source = bpf_htons(10000 + (__u16)(i % 50000));
	ip->saddr = bpf_htonl(0x0a000000 | (__u32)(i / 50000 + 1));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
