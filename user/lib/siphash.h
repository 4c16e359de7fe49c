/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash for tables whose
 * keys come off the wire. With a key the sender cannot know, it cannot pick addresses
 * and ports that all fall in one bucket.
 */
#ifndef CT_SIPHASH_H
#define CT_SIPHASH_H

#include <stddef.h>
#include <linux/types.h>

struct ct_sipkey {
	__u64 k[2];
};

/* SipHash-2-4 of @len bytes at @p under @key. */
__u64 ct_siphash(const struct ct_sipkey *key, const void *p, size_t len);

/* The key from 16 bytes as the reference implementation reads them (little-endian). */
void ct_sipkey_from_bytes(struct ct_sipkey *key, const __u8 bytes[16]);

/* A random key from getrandom(2); 0, or -1 when the kernel gave none (errno set). */
int ct_sipkey_random(struct ct_sipkey *key);

#endif /* CT_SIPHASH_H */
