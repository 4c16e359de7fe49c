/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * inproc.h - the in-process engine: bpf/parse.h and bpf/flow.h compiled into closetrace
 * with their maps in this process (see inproc.c). engine.c is its only user.
 */
#ifndef CT_INPROC_H
#define CT_INPROC_H

#include <stddef.h>
#include <linux/types.h>

struct ct_engine;
struct ct_load_opts;

/*
 * Size the maps and set the switches as ct_load() does for the kernel; bind @e's maps
 * and words to this engine. One at a time: 0, or -1 with one sentence in @err.
 */
int ct_inproc_open(struct ct_engine *e, const struct ct_load_opts *o, char *err,
		   size_t errlen);
void ct_inproc_close(void);

/*
 * One frame of @len bytes through the XDP program's path: its parse result, or -EINVAL
 * for a length BPF_PROG_TEST_RUN refuses too.
 */
int ct_inproc_run(const void *frame, __u32 len);

/* The records waiting in the ring buffer, to @e's callback: how many, or < 0 if it stopped. */
int ct_inproc_consume(struct ct_engine *e);

#endif /* CT_INPROC_H */
