/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * privs.h - least privilege: the capabilities closetrace needs are checked before it
 * loads anything (a missing one is named), and dropped once the privileged work is done
 * (after attaching; in replay, after loading): every capability goes, CAP_NET_ADMIN stays
 * only where detaching needs it, and --user switches to that user as tcpdump -Z does.
 */
#ifndef CT_PRIVS_H
#define CT_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/* --user: resolve @name (a user name or a numeric uid); 0, or -1 with one sentence. */
int ct_privs_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen);

/*
 * Whether this process may load and attach closetrace's programs: 0, or -1 with one
 * sentence in @err naming the capabilities it lacks (root has them all).
 */
int ct_privs_check(char *err, size_t errlen);

/* What ct_privs_drop() keeps. */
#define CT_KEEP_NET_ADMIN 1u	/* CAP_NET_ADMIN: netlink filters to detach */
#define CT_KEEP_MAP_READS 2u	/* CAP_BPF where this kernel wants it to read BPF maps
				 * (before 6.5 with unprivileged BPF off) */
#define CT_KEEP_ATTACH 4u	/* CAP_BPF and CAP_NET_ADMIN: attach again (an interface
				 * that comes back, --wait-interface) */

/*
 * Drop every capability (effective, permitted, inheritable, ambient, bounding) but those
 * @keep names (CT_KEEP_*); with @user, become @uid / @gid too. 0, or -1 with one sentence
 * in @err.
 */
int ct_privs_drop(unsigned int keep, int user, uid_t uid, gid_t gid, char *err, size_t errlen);

#endif /* CT_PRIVS_H */
