/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reasons.h - why this host sent a RST: the kernel's reset reason (enum sk_rst_reason,
 * 6.10+) and the socket state, as the tcp/tcp_send_reset tracepoint carries them. The
 * tracepoint's format file says where its fields are and what each reason number is
 * called on this kernel, so nothing here depends on one kernel's numbering. Pure, apart
 * from ct_reasons_probe(), which reads the format file.
 */
#ifndef CT_REASONS_H
#define CT_REASONS_H

#include <stddef.h>
#include <linux/types.h>

#include "closetrace.h"

#define CT_REASONS_MAX 64	/* reason numbers kept; the kernel has about 25 */

struct ct_reasons {
	/* field offsets in the tracepoint record, CT_FIELD_NONE when absent */
	__u16 off_state, off_reason, off_saddr, off_daddr;
	/* tcp_receive_reset's fields, CT_FIELD_NONE when absent (or no such tracepoint) */
	__u16 rx_family, rx_sport, rx_dport, rx_saddr, rx_daddr, rx_saddr6, rx_daddr6;
	int nnames;
	char names[CT_REASONS_MAX][28];	/* our spelling: "no-socket", "abort-on-close" */
};

/*
 * Parse the text of tcp_send_reset's format file into @r. Returns 0 when the addresses
 * can be found (the reason may still be missing, on kernels before 6.10), -1 otherwise.
 */
int ct_reasons_parse(const char *text, struct ct_reasons *r);

/* Parse tcp_receive_reset's format into @r's rx_* offsets; 0 if usable, -1 otherwise. */
int ct_reasons_parse_rx(const char *text, struct ct_reasons *r);

/*
 * Read the format files from tracefs (or debugfs). Returns 0, or -1 with one sentence in
 * @err when the tracepoint is not there.
 */
int ct_reasons_probe(struct ct_reasons *r, char *err, size_t errlen);

/* Our name for a kernel reason name: TCP_ABORT_ON_CLOSE -> abort-on-close. */
void ct_reason_spell(const char *kernel, char *buf, size_t len);

/* The table records are named from (set by a live session; replay has none). */
void ct_reasons_use(const struct ct_reasons *r);
/* The name of a flow's rst_reason byte (the kernel's number + 1; 0 unknown): "-" if none. */
const char *ct_rst_reason_name(__u8 raw);
/* The name of a flow's rst_state byte (TCP_ESTABLISHED = 1 ...; 0 unknown): "-" if none. */
const char *ct_rst_state_name(__u8 state);

#endif /* CT_REASONS_H */
