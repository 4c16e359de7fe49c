// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * floor.bpf.c - the baselines of the benchmarks: programs that do nothing but pass, and
 * one that only inserts an entry of closetrace's size into a kernel hash map (the cost of
 * the map itself, under a new flow).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "closetrace.h"

/* same key and value sizes as closetrace's flow table; user space sets max_entries */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct ct_flow_key);
	__type(value, struct ct_flow);
} bare SEC(".maps");

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

/*
 * Insert the frame's first 40 bytes after Ethernet (IPv4 addresses and ports among them)
 * as a key, with a zeroed value: a hash-map insert of a new flow and nothing else.
 */
SEC("xdp")
int insert_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ct_flow_key k;
	struct ct_flow v = {};

	if (data + 14 + sizeof(k) > end)
		return XDP_PASS;
	__builtin_memcpy(&k, data + 14, sizeof(k));
	bpf_map_update_elem(&bare, &k, &v, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
