/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kfeatures.h - the kernel features closetrace can do without: each one probed on the running
 * kernel (never guessed from its version), named, with what users get where the kernel
 * refuses it. CLOSETRACE_DISABLE=NAME[,NAME...] forces that fallback on any kernel: a
 * troubleshooting aid, and how the tests check both paths on every machine. (Not
 * features.h: the C library has one.)
 */
#ifndef CT_KFEATURES_H
#define CT_KFEATURES_H

#include <stddef.h>

/*
 * The oldest kernel closetrace runs on: its packet programs call bpf_loop (5.17). README and
 * closetrace(8) say the same (tests/man/test_man.sh holds them to it).
 */
#define CT_MIN_KERNEL "5.17"

enum ct_feature {
	CT_FEAT_TCX,		/* tc programs as tcx links, first in line (6.6) */
	CT_FEAT_RESETS,		/* the reset tracepoints: why this host sent each RST */
	CT_FEAT_SCAN_ITER,	/* a map iterator: the expiry scans' first cut in the kernel */
	CT_FEAT_OWNERS,		/* the socket tracepoints: the process behind each close */
	CT_FEAT_MAX
};

/* The name CLOSETRACE_DISABLE and `closetrace check` use: "tcx", "resets", "scan-iter", "owners". */
const char *ct_feature_name(enum ct_feature f);
/* What users get where @f is refused, as the end of a sentence. */
const char *ct_feature_fallback(enum ct_feature f);

/* Whether CLOSETRACE_DISABLE turns @f off (read anew each time). */
int ct_feature_off(enum ct_feature f);

/*
 * The names in CLOSETRACE_DISABLE that are no feature's: 0, or -1 with one sentence in
 * @err (a misspelt name would otherwise leave the feature on without a word).
 */
int ct_features_check_env(char *err, size_t errlen);

/*
 * Whether this kernel loads an iterator over a map's elements: a program that only
 * returns, so that a refusal is the kernel's, not the verifier's verdict on ours.
 * 0, -ENOENT without kernel BTF or without the iterator, or the kernel's -errno.
 */
int ct_probe_map_iter(void);

/* Whether this kernel has tcx links (its BTF names BPF_TCX_INGRESS): 1, 0, -ENOENT (no BTF). */
int ct_probe_tcx(void);

/*
 * Whether XDP programs may call bpf_loop (5.17), which the packet programs need: 1 or 0;
 * < 0 when it cannot be told (no privilege to load a program).
 */
int ct_probe_bpf_loop(void);

/*
 * Whether the driver of interface @ifindex (in this network namespace) runs XDP programs
 * natively, as its XDP features say (the netdev netlink family, 6.3): 1, 0 (generic XDP
 * only), or -errno when the kernel cannot tell (-ENOENT: no netdev family).
 */
int ct_probe_xdp_native(int ifindex);

#endif /* CT_KFEATURES_H */
