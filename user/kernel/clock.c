// SPDX-License-Identifier: BSD-3-Clause
/* clock.c - converts the kernel's per-flow jiffies into CLOCK_MONOTONIC nanoseconds. */
#include <errno.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "closetrace.h"
#include "closetrace.skel.h"

int ct_clock_sync(struct closetrace *skel, int user_clock, struct ct_clock *c)
{
	/* test_run wants a frame of at least an Ethernet header; its content is unused */
	unsigned char frame[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);
	struct timespec res;

	if (user_clock) {
		ct_clock_replay(skel->bss->user_clock_ns, skel->bss->user_clock_tick, c);
		return 0;
	}
	c->replay = 0;
	/* the coarse clock's resolution is the kernel's tick, TICK_NSEC */
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res))
		return -errno;
	c->tick_ns = (__u64)res.tv_sec * 1000000000ull + (__u64)res.tv_nsec;
	if (c->tick_ns == 0 || c->tick_ns > 100000000ull)
		return -EINVAL;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.ct_clock_probe), &o))
		return -errno;
	c->probe_tick = (__u32)skel->bss->clock_probe.jiffies;
	c->probe_ns = skel->bss->clock_probe.mono_ns;
	return 0;
}

void ct_clock_replay(__u64 clock_ns, __u32 clock_tick, struct ct_clock *c)
{
	c->replay = 1;
	c->tick_ns = CT_REPLAY_TICK_NS;
	c->probe_tick = clock_tick;
	c->probe_ns = clock_ns;
}

__u64 ct_clock_last_ns(const struct ct_clock *c, __u32 last_seen)
{
	return ct_clock_last_ns_of(c, last_seen);
}

__u64 ct_flow_last_ns(const struct ct_clock *c, const struct ct_flow *f)
{
	return ct_flow_last_of(c, f);
}
