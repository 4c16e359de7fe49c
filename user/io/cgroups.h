/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cgroups.h - cgroup v2 ids as paths. The kernel gives a socket's cgroup as an id, which
 * is the inode number of the cgroup's directory in the cgroup2 file system: this walks
 * the first cgroup2 mount this process sees and remembers each directory's path by its
 * inode. The table is read again (at most once a second) when an id it does not hold
 * comes, so that a service started after closetrace is named; a cgroup removed before
 * its id came stays unknown, as does one whose path is over 512 bytes. Needs read access
 * to the mount only.
 */
#ifndef CT_CGROUPS_H
#define CT_CGROUPS_H

#include <linux/types.h>

struct ct_cgroups;

/*
 * The paths below the cgroup2 mount at @mount (NULL: the first one in
 * /proc/self/mountinfo). NULL when there is none (errno ENOENT) or no memory.
 */
struct ct_cgroups *ct_cgroups_open(const char *mount);
void ct_cgroups_free(struct ct_cgroups *cg);

/* Where the cgroup2 file system is mounted, as found. */
const char *ct_cgroups_mount(const struct ct_cgroups *cg);

/*
 * The path of cgroup @id below the mount ("/" for its root, "/system.slice/x.service"),
 * or NULL when it is not (or no longer) there. The string lives as long as @cg.
 */
const char *ct_cgroups_path(struct ct_cgroups *cg, __u64 id);

/* ct_cgroups_path() as a record callback: @ctx is the struct ct_cgroups. */
const char *ct_cgroups_lookup(void *ctx, __u64 id);

/* How many cgroups the table holds, and how many walks it took. */
unsigned int ct_cgroups_count(const struct ct_cgroups *cg);
unsigned int ct_cgroups_walks(const struct ct_cgroups *cg);

#endif /* CT_CGROUPS_H */
