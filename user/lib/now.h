/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * now.h - the time now, in ns. Nothing closetrace-specific.
 */
#ifndef CT_NOW_H
#define CT_NOW_H

#include <linux/types.h>

/* Wall-clock time, and the monotonic clock, in ns. */
__u64 ct_now_ns(void);
__u64 ct_mono_ns(void);

#endif /* CT_NOW_H */
