/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zones.h - client and server zones: an address's zone is the name of the longest prefix
 * of a zone list (--zones FILE: "CIDR NAME" lines, IPv4 and IPv6) that holds it, else its
 * network at a default prefix length (--zone-prefix V4,V6; 24 and 64 unless told), written
 * as a prefix ("192.0.2.0/24"). Pure: the file is read by the caller.
 */
#ifndef CT_ZONES_H
#define CT_ZONES_H

#include <stddef.h>
#include <linux/types.h>

#define CT_ZONE_NAME_MAX 64		/* a zone's name, with its NUL */
#define CT_ZONE_TEXT_MAX 64		/* a zone as text: a name, or a prefix */
#define CT_ZONES_MAX 65536		/* prefixes in a list */

struct ct_zone {
	__u32 addr[4];		/* the prefix, in key form (IPv4 mapped), host bits zero */
	__u8 plen;		/* in the 128-bit key form: an IPv4 /n is 96 + n */
	char name[CT_ZONE_NAME_MAX];
};

struct ct_zones {
	struct ct_zone *z;	/* longest prefix first */
	int n;
	int v4_prefix;		/* the default zone of an IPv4 address: its /v4_prefix */
	int v6_prefix;
	void *priv;		/* the lookup index */
};

/* No list, the default prefixes (24, 64). */
void ct_zones_init(struct ct_zones *zs);
void ct_zones_free(struct ct_zones *zs);

/*
 * Add the zones of the text @text (a file's contents: "CIDR NAME" a line, # comments and
 * blank lines ignored), named @source in errors. 0, or -1 with one sentence in @err
 * ("zones.txt:3: ..."): a bad prefix, a name missing or too long or with spaces, the
 * same prefix twice, too many.
 */
int ct_zones_parse(struct ct_zones *zs, const char *text, const char *source, char *err,
		   size_t errlen);

/* --zone-prefix V4,V6 (or V4 alone): 0, or -1 with one sentence in @err. */
int ct_zones_parse_prefix(struct ct_zones *zs, const char *arg, char *err, size_t errlen);

/*
 * The zone of address @addr (key form) as text into @buf ("office", "192.0.2.0/24"), and
 * as a key into @net and *@plen (the prefix that holds it; for a named zone, its first
 * prefix in the list, so that one name is one key). Returns 1 for a named zone, 2 for a
 * default one.
 */
int ct_zone_of(const struct ct_zones *zs, const __u32 addr[4], char *buf, size_t len,
	       __u32 net[4], __u8 *plen);

#endif /* CT_ZONES_H */
