// SPDX-License-Identifier: BSD-3-Clause
/*
 * zones.c - client and server zones: a prefix list read as text, looked up longest prefix
 * first (one hash probe per prefix length the list has), and default zones by prefix
 * length.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"
#include "numbers.h"
#include "zones.h"

/* The list's index: (prefix, length) -> its entry; the lengths it has, longest first. */
struct zone_key {
	__u32 addr[4];
	__u32 plen;
};

struct zones_index {
	struct ct_htab *h;
	__u8 plens[129];
	int nplens;
	int *first;		/* per entry: the first entry of its name */
};

static struct zones_index *index_of(const struct ct_zones *zs)
{
	return (struct zones_index *)zs->priv;
}

void ct_zones_init(struct ct_zones *zs)
{
	memset(zs, 0, sizeof(*zs));
	zs->v4_prefix = 24;
	zs->v6_prefix = 64;
}

void ct_zones_free(struct ct_zones *zs)
{
	struct zones_index *ix = index_of(zs);

	if (ix) {
		ct_htab_free(ix->h);
		free(ix->first);
		free(ix);
	}
	free(zs->z);
	zs->z = NULL;
	zs->priv = NULL;
	zs->n = 0;
}

/* @addr (key form) with only its first @plen bits */
static void mask(const __u32 addr[4], unsigned int plen, __u32 out[4])
{
	for (unsigned int w = 0; w < 4; w++) {
		unsigned int bits = plen > 32 * w ? plen - 32 * w : 0;
		__u32 m = bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0;

		out[w] = htonl(ntohl(addr[w]) & m);
	}
}

/* "192.0.2.0/24" or "2001:db8::/32" into key form: 0, or -1 */
static int parse_cidr(const char *s, __u32 addr[4], __u8 *plen)
{
	char buf[64], *slash;
	long n;
	int v4;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, &addr[3]) == 1) {
		addr[2] = htonl(0xffff);
		v4 = 1;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		v4 = 0;
	} else {
		return -1;
	}
	if (!slash)
		n = v4 ? 32 : 128;
	else if (ct_parse_long(slash + 1, 0, v4 ? 32 : 128, &n))
		return -1;
	*plen = (__u8)(n + (v4 ? 96 : 0));
	return 0;
}

static int by_plen(const void *a, const void *b)
{
	const struct ct_zone *x = a, *y = b;

	return x->plen != y->plen ? (int)y->plen - (int)x->plen :
	       memcmp(x->addr, y->addr, sizeof(x->addr));
}

static const struct ct_zone *sorted_zones;

static int by_name(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	int c = strcmp(sorted_zones[x].name, sorted_zones[y].name);

	return c ? c : x - y;
}

/* (Re)build the index after entries were added. */
static int build_index(struct ct_zones *zs, char *err, size_t errlen)
{
	struct zones_index *ix = calloc(1, sizeof(*ix));
	int *order = NULL;

	if (!ix)
		goto nomem;
	qsort(zs->z, (size_t)zs->n, sizeof(zs->z[0]), by_plen);
	ix->h = ct_htab_new(sizeof(struct zone_key), sizeof(int), (__u32)(zs->n ? zs->n : 1));
	ix->first = calloc((size_t)zs->n + 1, sizeof(int));
	order = calloc((size_t)zs->n + 1, sizeof(int));
	if (!ix->h || !ix->first || !order)
		goto nomem;
	for (int i = 0; i < zs->n; i++) {
		struct zone_key k = { .plen = zs->z[i].plen };

		memcpy(k.addr, zs->z[i].addr, sizeof(k.addr));
		if (ct_htab_update(ix->h, &k, &i, 0))
			goto nomem;
		if (!ix->nplens || ix->plens[ix->nplens - 1] != zs->z[i].plen)
			ix->plens[ix->nplens++] = zs->z[i].plen;
		order[i] = i;
	}
	/* one name, one key: each entry points to the first (longest) of its name */
	sorted_zones = zs->z;
	qsort(order, (size_t)zs->n, sizeof(int), by_name);
	for (int i = 0; i < zs->n; i++)
		ix->first[order[i]] = i && !strcmp(zs->z[order[i]].name, zs->z[order[i - 1]].name) ?
				      ix->first[order[i - 1]] : order[i];
	free(order);
	if (zs->priv) {
		struct zones_index *old = index_of(zs);

		ct_htab_free(old->h);
		free(old->first);
		free(old);
	}
	zs->priv = ix;
	return 0;
nomem:
	if (ix) {
		ct_htab_free(ix->h);
		free(ix->first);
		free(ix);
	}
	free(order);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int ct_zones_parse(struct ct_zones *zs, const char *text, const char *source, char *err,
		   size_t errlen)
{
	const char *line = text;
	int lineno = 0, first = zs->n;

	while (*line) {
		size_t len = strcspn(line, "\n");
		char buf[512], cidr[256], name[256], extra[8];
		struct ct_zone z = { 0 };
		int n;

		lineno++;
		if (len >= sizeof(buf)) {
			snprintf(err, errlen, "%s:%d: a line over %zu bytes", source, lineno,
				 sizeof(buf) - 1);
			return -1;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		line += len + (line[len] == '\n');
		if (strchr(buf, '#'))
			*strchr(buf, '#') = '\0';
		n = sscanf(buf, "%255s %255s %7s", cidr, name, extra);
		if (n <= 0)
			continue;
		if (n == 1 || n == 3) {
			snprintf(err, errlen, "%s:%d: expected 'CIDR NAME' (a name of one word)",
				 source, lineno);
			return -1;
		}
		if (parse_cidr(cidr, z.addr, &z.plen)) {
			snprintf(err, errlen, "%s:%d: '%.64s' is no IPv4 or IPv6 prefix "
				 "(192.0.2.0/24, 2001:db8::/32)", source, lineno, cidr);
			return -1;
		}
		if (strlen(name) >= sizeof(z.name)) {
			snprintf(err, errlen, "%s:%d: a zone name of %d bytes at most", source,
				 lineno, CT_ZONE_NAME_MAX - 1);
			return -1;
		}
		for (const char *c = name; *c; c++)
			if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\\') {
				snprintf(err, errlen, "%s:%d: a zone name is printable ASCII, without "
					 "quotes or backslashes", source, lineno);
				return -1;
			}
		strcpy(z.name, name);
		mask(z.addr, z.plen, z.addr);
		for (int i = 0; i < zs->n; i++)
			if (zs->z[i].plen == z.plen && !memcmp(zs->z[i].addr, z.addr, 16)) {
				snprintf(err, errlen, "%s:%d: %s is listed twice", source, lineno,
					 cidr);
				return -1;
			}
		if (zs->n == CT_ZONES_MAX) {
			snprintf(err, errlen, "%s:%d: more than %d prefixes", source, lineno,
				 CT_ZONES_MAX);
			return -1;
		}
		if (!(zs->n % 64)) {
			struct ct_zone *g = realloc(zs->z, ((size_t)zs->n + 64) * sizeof(*g));

			if (!g) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			zs->z = g;
		}
		zs->z[zs->n++] = z;
	}
	if (zs->n == first) {
		snprintf(err, errlen, "%s: no zone in it ('CIDR NAME' a line)", source);
		return -1;
	}
	return build_index(zs, err, errlen);
}

int ct_zones_parse_prefix(struct ct_zones *zs, const char *arg, char *err, size_t errlen)
{
	long v4, v6 = zs->v6_prefix;
	const char *comma = strchr(arg, ',');
	char a[16];

	if (comma && (size_t)(comma - arg) < sizeof(a)) {
		memcpy(a, arg, (size_t)(comma - arg));
		a[comma - arg] = '\0';
	}
	if ((comma && (comma - arg >= (long)sizeof(a) || ct_parse_long(a, 0, 32, &v4) ||
		       ct_parse_long(comma + 1, 0, 128, &v6))) ||
	    (!comma && ct_parse_long(arg, 0, 32, &v4))) {
		snprintf(err, errlen, "takes V4[,V6]: prefix lengths, 0 to 32 and 0 to 128 "
			 "(24,64), not '%s'", arg);
		return -1;
	}
	zs->v4_prefix = (int)v4;
	zs->v6_prefix = (int)v6;
	return 0;
}

static int is_v4(const __u32 a[4])
{
	return !a[0] && !a[1] && a[2] == htonl(0xffff);
}

int ct_zone_of(const struct ct_zones *zs, const __u32 addr[4], char *buf, size_t len,
	       __u32 net[4], __u8 *plen)
{
	const struct zones_index *ix = index_of(zs);
	int v4 = is_v4(addr);
	unsigned int p;
	char a[64];

	for (int i = 0; ix && i < ix->nplens; i++) {
		struct zone_key k = { .plen = ix->plens[i] };
		int *e;

		/* an IPv4 address is only in IPv4 prefixes (and ::/0 ... ::ffff:0:0/96) */
		mask(addr, k.plen, k.addr);
		e = ct_htab_lookup(ix->h, &k);
		if (e) {
			const struct ct_zone *z = &zs->z[ix->first[*e]];

			snprintf(buf, len, "%s", zs->z[*e].name);
			memcpy(net, z->addr, 16);
			*plen = z->plen;
			return 1;
		}
	}
	p = v4 ? 96 + (unsigned int)zs->v4_prefix : (unsigned int)zs->v6_prefix;
	mask(addr, p, net);
	*plen = (__u8)p;
	if (v4)
		inet_ntop(AF_INET, &net[3], a, sizeof(a));
	else
		inet_ntop(AF_INET6, net, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, v4 ? p - 96 : p);
	return 2;
}
