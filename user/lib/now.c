// SPDX-License-Identifier: BSD-3-Clause
/*
 * now.c - the time now, on the wall clock and on the monotonic one, in ns.
 */
#include <time.h>

#include "now.h"

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

__u64 ct_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

__u64 ct_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}
