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

/*
 * Drop every capability (effective, permitted, inheritable, ambient, bounding), keeping
 * CAP_NET_ADMIN if @keep_net_admin, and CAP_BPF where this kernel still wants it to read
 * maps (before 6.5 with unprivileged BPF off); with @user, become @uid / @gid too. 0, or
 * -1 with one sentence in @err.
 */
int ct_privs_drop(int keep_net_admin, int user, uid_t uid, gid_t gid, char *err,
		  size_t errlen);

#endif /* CT_PRIVS_H */
