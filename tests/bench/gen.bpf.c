// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * gen.bpf.c - packet generator for the live-rate and event benchmarks, run with
 * BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES: each frame (Ethernet, IPv4, TCP, built
 * by user space; or all of that inside VXLAN) gets the next flow's source address and port
 * in its (inner) IPv4 and TCP headers, and is sent out of the interface (XDP_TX) towards
 * the namespace where the tracer runs.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/*
 * RFC 1624: checksum @hc after a 16-bit word changes from @old to @new. The checksums are
 * kept right so that a host that delivers the frames (and nf_conntrack, which checks them)
 * takes them as real segments; the words are read from the frame, whatever it held before.
 */
static __always_inline __u16 csum_repl(__u16 hc, __u16 old, __u16 new)
{
	__u32 s = (__u16)~hc + (__u32)(__u16)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

const volatile __u32 nflows = 1;	/* flows to cycle through; 0: a new flow every frame */
const volatile __u32 l3_off = sizeof(struct ethhdr);	/* where the (inner) IPv4 header is */
__u64 sent = 0;

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + l3_off;
	struct tcphdr *th = (void *)(ip + 1);
	__u64 i = sent++;
	__u16 sport, *o, *n;
	__u32 saddr;

	if ((void *)(th + 1) > end)
		return XDP_ABORTED;
	if (nflows)
		i %= nflows;
	/* 50000 ports per source address: up to 3.2 billion distinct flows */
	sport = bpf_htons(10000 + (__u16)(i % 50000));
	saddr = bpf_htonl(0x0a000000 | (__u32)(i / 50000 + 1));
	o = (__u16 *)&ip->saddr;
	n = (__u16 *)&saddr;
	ip->check = csum_repl(csum_repl(ip->check, o[0], n[0]), o[1], n[1]);
	th->check = csum_repl(csum_repl(csum_repl(th->check, o[0], n[0]), o[1], n[1]),
			      th->source, sport);
	th->source = sport;
	ip->saddr = saddr;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
