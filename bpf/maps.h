/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maps.h - the maps and the load-time switches of the closetrace programs. User space
 * sizes the flow table and the ring buffer, and sets the rodata switches, between open
 * and load; the verifier then removes the branches a switch turns off.
 */
#ifndef CT_MAPS_H
#define CT_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "closetrace.h"

/*
 * The load-time switches are rodata here, which the verifier folds. The in-process engine
 * (user/kernel/inproc.c), which compiles this file for replay, sets them before its first packet
 * as the loader sets these between open and load: it defines CT_RODATA as nothing.
 */
#ifndef CT_RODATA
#define CT_RODATA const volatile
#endif

/* The switches (struct ct_cfg, include/closetrace.h): set by user space before load. */
CT_RODATA struct ct_cfg cfg = { .ring_mask = CT_DEFAULT_FLOWS - 1 };

/*
 * The watched interfaces' indexes, by counter slot (cfg.ifindex at load): not rodata, so
 * that an interface deleted and created again (--wait-interface) gets its new index
 * without a reload.
 */
__u32 if_index[CT_MAX_IFACES] = {};

/* Capture time of the packet under test, written by replay before each run: in ns, and
 * in CT_REPLAY_TICK_NS ticks for last_seen. */
__u64 user_clock_ns = 0;
__u32 user_clock_tick = 0;
/* Replay only: the parse result (enum ct_parse_res) of the last packet. */
__u32 last_result = 0;
/* Filled by ct_clock_probe. */
struct ct_clock_probe clock_probe = {};
/*
 * The eviction rings' positions: entries [tail, head) of the embryonic ring are the
 * candidates, oldest first; the established ring is swept by a clock hand.
 */
struct ct_ring_pos emb_pos = {}, est_pos = {};
/* The storm limit's one-second window: when it began and how many closes it let through. */
__u64 storm_win_start = 0, storm_win_count = 0;
/* The summary period user space is in: summaries are keyed by it, modulo 3 */
__u32 storm_epoch = 0;
/* The ring buffer's consumer position, plus one, when the reader was last woken. */
__u64 wake_cons = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_DEFAULT_FLOWS);
	__type(key, struct ct_flow_key);
	__type(value, struct ct_flow);
} flows SEC(".maps");

/*
 * The table is a plain hash: when it is full, the programs choose what goes (embryonic
 * flows first, in the order they came; an established one, the idlest of a sample, only
 * when no embryonic one is left) and count each removal. The rings hold the keys.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_DEFAULT_FLOWS);
	__type(key, __u32);
	__type(value, struct ct_flow_key);
} emb_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_DEFAULT_FLOWS);
	__type(key, __u32);
	__type(value, struct ct_flow_key);
} est_ring SEC(".maps");

/*
 * A new flow's value is made here and copied into the table: as a local it took 184 of the
 * 512 bytes of stack the programs and the parser's functions share.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_flow);
} new_flow SEC(".maps");

/* Storm summaries: closes not sent as events, by server, port, kind and period. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CT_STORM_KEYS);
	__type(key, struct ct_storm_key);
	__type(value, struct ct_storm_val);
} storm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct ct_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CT_DEFAULT_RINGBUF);
} events SEC(".maps");

#endif /* CT_MAPS_H */
