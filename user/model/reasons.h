/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reasons.h - why this host sent a RST: the kernel's reset reason (enum sk_rst_reason,
 * 6.10+) and the socket state, as the tcp_send_reset tracepoint hands them over. The
 * kernel's BTF says what each reason number is called on this kernel (reasons_btf.c reads
 * it), so nothing here depends on one kernel's numbering. Pure.
 */
#ifndef CT_REASONS_H
#define CT_REASONS_H

#include <stddef.h>
#include <linux/types.h>

#include "closetrace.h"

#define CT_REASONS_MAX 64	/* reason numbers kept; the kernel has about 25 */

struct ct_reasons {
	int send_reset;		/* the kernel has the tcp_send_reset tracepoint (4.15+) */
	int receive_reset;	/* ... and tcp_receive_reset */
	int reason_arg;		/* tcp_send_reset passes enum sk_rst_reason (6.10+) */
	int nnames;
	char names[CT_REASONS_MAX][28];	/* ours: "no-socket", "closed-unread" */
	char kernel[CT_REASONS_MAX][48];	/* the kernel's: "SK_RST_REASON_TCP_ABORT_ON_CLOSE" */
};

/* A reason the kernel knows, our name for it (what happened) and what it means. */
struct ct_reason_word {
	const char *kernel;	/* the enumerator without SK_RST_REASON_: "TCP_ABORT_ON_CLOSE" */
	const char *name;	/* "closed-unread" */
	const char *what;
};

/* Every reason closetrace names (the legend; the filter's values); @n set to their count. */
const struct ct_reason_word *ct_reason_words(size_t *n);

/*
 * Name reason number @value after the kernel's enumerator @kernel
 * (SK_RST_REASON_TCP_ABORT_ON_CLOSE). Returns 0, or -1 for what is not a reason (the
 * enum's _MAX) or a number past CT_REASONS_MAX.
 */
int ct_reasons_name(struct ct_reasons *r, long long value, const char *kernel);

/*
 * Our name for a kernel reason name: SK_RST_REASON_TCP_ABORT_ON_CLOSE, or
 * TCP_ABORT_ON_CLOSE as the tracepoint prints it -> closed-unread; one we do not list is
 * spelled from its enumerator (TCP_NEW_THING -> new-thing).
 */
void ct_reason_spell(const char *kernel, char *buf, size_t len);

/*
 * Our name for the kernel's name of a reason, however written: SK_RST_REASON_TCP_STATE,
 * TCP_STATE, tcp-state, state -> app-abort; NULL if it names none.
 */
const char *ct_reason_alias(const char *v);

/* The table records are named from (set by a live session; replay has none). */
void ct_reasons_use(const struct ct_reasons *r);
/* The name of a flow's rst_reason byte (the kernel's number + 1; 0 unknown): "-" if none. */
const char *ct_rst_reason_name(__u8 raw);
/* The kernel's name for it: "SK_RST_REASON_NO_SOCKET", or "-" if none. */
const char *ct_rst_reason_kernel(__u8 raw);
/* The name of a flow's rst_state byte (TCP_ESTABLISHED = 1 ...; 0 unknown): "-" if none. */
const char *ct_rst_state_name(__u8 state);

#endif /* CT_REASONS_H */
