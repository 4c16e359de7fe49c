// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * reject.bpf.c - test helper: a program the verifier must refuse, so that test_bpf can
 * check at which verbosity the verifier's log reaches stderr.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int reject(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;

	/* no check against data_end: the verifier rejects the read */
	return data[0] ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
