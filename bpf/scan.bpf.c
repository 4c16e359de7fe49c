// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * scan.bpf.c - the first cut of an expiry pass, in the kernel: an iterator over the flow
 * table that hands user space only the flows the pass may take out (ct_expiry_candidate():
 * ended, or timed out by the rule user space applies), and counts the others. Reading a
 * million flows then copies a few records instead of every entry. User space decides each
 * record again on what it read (user/kernel/flows.c), so this cut only has to let through every
 * flow that could go: it uses the same functions.
 *
 * Apart from the packet programs because iterators need the kernel's BTF; without it, or
 * on a kernel without map iterators, user space reads the table with batched lookups.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "closetrace.h"
#include "ct_expiry.h"

/* The iterator's context, by name: CO-RE finds the fields in the running kernel's layout. */
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct seq_file;

struct bpf_iter_meta___ct {
	struct seq_file *seq;
};

struct bpf_iter__bpf_map_elem___ct {
	struct bpf_iter_meta___ct *meta;
	void *key;
	void *value;
};
#pragma clang attribute pop

/* written by user space before each slice of a pass (ct_scan_params) */
struct ct_scan_params scan_params = {};
/* entries since the last record written */
__u32 since_out = 0;

SEC("iter/bpf_map_elem")
int ct_scan_cut(struct bpf_iter__bpf_map_elem___ct *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	const struct ct_flow_key *k = ctx->key;
	const struct ct_flow *f = ctx->value;
	struct ct_scan_rec r = {};

	if (!k || !f)
		return 0;	/* the end of the table */
	scan_params.seen++;
	/* most flows stay, told from the entry's second cache line alone */
	if (!ct_expiry_keeps(&scan_params.exp, &scan_params.clk, f->state, f->last_seen,
			     scan_params.now)) {
		/* a copy: packets change the entry meanwhile; user space decides on this one */
		__builtin_memcpy(&r.flow, f, sizeof(r.flow));
		if (ct_expiry_candidate(&scan_params.exp, &scan_params.clk, &r.flow,
					scan_params.now)) {
			r.type = CT_SCAN_REC_FLOW;
			__builtin_memcpy(&r.key, k, sizeof(r.key));
			goto out;
		}
		__builtin_memset(&r.flow, 0, sizeof(r.flow));
	}
	if (++since_out < scan_params.mark_every)
		return 0;
	r.type = CT_SCAN_REC_MARK;
out:
	since_out = 0;
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
