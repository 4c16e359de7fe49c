// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * iterprobe.bpf.c - test helper: the barest iterator over a map's elements. Whether the
 * kernel loads it decides which path the tests expect closetrace's expiry scans to take,
 * apart from closetrace's own probe (which the tests hold to the same answer).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("iter/bpf_map_elem")
int iterprobe(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
