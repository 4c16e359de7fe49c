// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * vlan_meta.bpf.c - test helper: tags a packet the way a driver with VLAN offload hands it
 * to tc (the tag in skb metadata, not in the bytes), then tail-calls closetrace's tc
 * program, so that BPF_PROG_TEST_RUN can reach the metadata path.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} next SEC(".maps");

/* VLAN ids to push, outermost last; 0 ends the list. */
__u16 push_vid[2] = {};

SEC("tc")
int push_vlan(struct __sk_buff *skb)
{
	for (int i = 0; i < 2; i++) {
		if (!push_vid[i])
			break;
		if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), push_vid[i]))
			return 100;
	}
	bpf_tail_call(skb, &next, 0);
	return 101;	/* the tail call failed */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
