// SPDX-License-Identifier: BSD-3-Clause
/*
 * siphash.c - SipHash-2-4, written from the paper's description ("SipHash: a fast
 * short-input PRF", 2012): four 64-bit words of state, two rounds per 8-byte word, the
 * length in the last word's top byte, four finishing rounds. Checked against the
 * reference test vectors in tests/test_agg.c.
 */
#include <errno.h>
#include <sys/random.h>

#include "siphash.h"

static inline __u64 rotl(__u64 x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* Bytes to a word, least significant first, whatever the host's byte order. */
static inline __u64 le64(const __u8 *p, size_t n)
{
	__u64 w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (__u64)p[i] << (8 * i);
	return w;
}

struct sip {
	__u64 v0, v1, v2, v3;
};

static inline void sipround(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13) ^ s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17) ^ s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline void absorb(struct sip *s, __u64 m)
{
	s->v3 ^= m;
	sipround(s);
	sipround(s);
	s->v0 ^= m;
}

__u64 ct_siphash(const struct ct_sipkey *key, const void *p, size_t len)
{
	/* "somepseudorandomlygeneratedbytes", the paper's initial constants */
	struct sip s = {
		.v0 = key->k[0] ^ 0x736f6d6570736575ull,
		.v1 = key->k[1] ^ 0x646f72616e646f6dull,
		.v2 = key->k[0] ^ 0x6c7967656e657261ull,
		.v3 = key->k[1] ^ 0x7465646279746573ull,
	};
	const __u8 *b = p;
	size_t whole = len & ~(size_t)7;

	for (size_t i = 0; i < whole; i += 8)
		absorb(&s, le64(b + i, 8));
	/* the 0-7 bytes left, and the length modulo 256 in the top byte */
	absorb(&s, le64(b + whole, len - whole) | ((__u64)(len & 0xff) << 56));
	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void ct_sipkey_from_bytes(struct ct_sipkey *key, const __u8 bytes[16])
{
	key->k[0] = le64(bytes, 8);
	key->k[1] = le64(bytes + 8, 8);
}

int ct_sipkey_random(struct ct_sipkey *key)
{
	__u8 b[16];
	size_t got = 0;

	/* 16 bytes never come short from an initialised pool; EINTR is retried */
	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	ct_sipkey_from_bytes(key, b);
	return 0;
}
