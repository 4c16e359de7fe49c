/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reasons_btf.h - what the kernel's BTF says about resets: whether the reset tracepoints
 * are there, whether tcp_send_reset passes a reason, and the reasons' names (enum
 * sk_rst_reason). BTF lives in /sys/kernel/btf, so this needs no tracefs.
 */
#ifndef CT_REASONS_BTF_H
#define CT_REASONS_BTF_H

#include <stddef.h>

#include "reasons.h"

struct btf;

/*
 * Fill @r from kernel BTF @btf. Returns 0 when tcp_send_reset is there (the reason may
 * still be missing: kernels before 6.10), -1 otherwise.
 */
int ct_reasons_from_btf(const struct btf *btf, struct ct_reasons *r);

/*
 * The same from the running kernel's BTF. Returns 0, or -1 with one sentence in @err when
 * there is no BTF or no tracepoint.
 */
int ct_reasons_probe(struct ct_reasons *r, char *err, size_t errlen);

#endif /* CT_REASONS_BTF_H */
