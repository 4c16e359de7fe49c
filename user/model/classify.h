/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * classify.h - pure mapping of a flow's kernel state to what people read: close-kind
 * names, the Zeek conn_state, Zeek history letters, which side is client. No I/O.
 */
#ifndef CT_CLASSIFY_H
#define CT_CLASSIFY_H

#include <stddef.h>
#include "closetrace.h"

/* "graceful", "refused", ...; "?" for a value outside the enum. */
const char *ct_close_name(unsigned int close);
/* Parse a close-kind name; returns the kind or -1. */
int ct_close_parse(const char *name);
/* Abnormal closes are reported by default: all but graceful, idle and midstream. */
int ct_close_abnormal(unsigned int close);

/*
 * One line of closes by kind (@n[CT_CLOSE_MAX], kinds in the taxonomy's order, those seen
 * only): "23 connections ended: 14 graceful, 6 refused, 3 reset-server (9 abnormal)", or
 * "no connection ended". Returns how many are abnormal.
 */
unsigned long long ct_closes_summary(const unsigned long long *n, char *buf, size_t len);
/* "clt", "srv" or "-". */
const char *ct_rst_by_name(unsigned int rst_by);

/*
 * Zeek's conn_state for a flow in its current state: Zeek's own decision function over
 * endpoint states derived from the letters. It is what Zeek would log had the flow been
 * removed now, so a close event carries the state at the decision and a final flow
 * record the state at the end.
 */
const char *ct_zeek_state(const struct ct_flow *f);

/* The endpoint that sent @letter first (enum ct_letter), or -1 if none did. */
int ct_history_first(__u64 history, int letter);

/*
 * Render the history in Zeek's letters, originator (client) upper case. Returns the
 * string length; @buf always holds a terminated string (at least CT_HIST_MAX + 1 bytes).
 */
size_t ct_history_str(__u64 history, int client_ep, char *buf, size_t len);

/* Whether no SYN and no SYN-ACK was seen: the flow began before we looked. */
int ct_flow_midstream(const struct ct_flow *f);

/* Name of a global counter index (enum ct_counter), as metrics and `check` print it. */
const char *ct_counter_name(unsigned int idx);

#endif /* CT_CLASSIFY_H */
