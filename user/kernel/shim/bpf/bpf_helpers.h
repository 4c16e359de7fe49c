/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf/bpf_helpers.h, user-space stand-in - what bpf/maps.h, bpf/parse.h and bpf/flow.h
 * take from libbpf's header of the same name, for the in-process engine (user/kernel/inproc.c),
 * the one file built with -Iuser/kernel/shim: there these BPF sources compile as they are, with
 * their maps in this process. Map definitions keep libbpf's encoding (the type, sizes and
 * max_entries are in the pointer types of their members, read at compile time); the
 * helpers are declared here and defined by inproc.c, which binds each map to its storage.
 */
#ifndef CT_SHIM_BPF_HELPERS_H
#define CT_SHIM_BPF_HELPERS_H

#include <linux/types.h>
#include <linux/bpf.h>

#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
/* sections mean nothing outside a BPF object */
#define SEC(name)

#undef __always_inline
#define __always_inline inline __attribute__((always_inline))
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif

/* keep the compiler from seeing through a value (parse.h's link-layer offset) */
#define barrier_var(var) asm volatile("" : "+r"(var))

/* the load-time switches are variables the engine sets before it runs (see maps.h) */
#define CT_RODATA

/* A map definition's __uint() value, and its key and value sizes. */
#define CT_SHIM_UINT(def, field) ((__u32)(sizeof(*(def).field) / sizeof(int)))
#define CT_SHIM_KEY_SIZE(def) ((__u32)sizeof(*(def).key))
#define CT_SHIM_VALUE_SIZE(def) ((__u32)sizeof(*(def).value))

/* The helpers bpf/ calls, with the kernel's meaning (one CPU). */
static inline void *bpf_map_lookup_elem(void *map, const void *key);
static inline long bpf_map_update_elem(void *map, const void *key, const void *value,
				       __u64 flags);
static inline long bpf_map_delete_elem(void *map, const void *key);
static inline void *bpf_ringbuf_reserve(void *ringbuf, __u64 size, __u64 flags);
static inline void bpf_ringbuf_submit(void *data, __u64 flags);
static inline __u64 bpf_ringbuf_query(void *ringbuf, __u64 flags);
static inline long bpf_loop(__u32 nr_loops, void *callback_fn, void *callback_ctx,
			    __u64 flags);
static inline __u64 bpf_ktime_get_ns(void);
static inline __u64 bpf_jiffies64(void);

#endif /* CT_SHIM_BPF_HELPERS_H */
