// SPDX-License-Identifier: BSD-3-Clause
/*
 * cgroups.c - cgroup v2 ids as paths, from a walk of the cgroup2 mount (see cgroups.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cgroups.h"
#include "hashtab.h"
#include "now.h"

/* cgroups remembered: a host has hundreds; more are dropped (named as unknown) */
#define CT_CGROUPS_MAX 16384
/* how deep a walk goes: systemd's and the kubelet's trees are about 6 deep */
#define CT_CGROUPS_DEPTH 32
/* the longest path kept (systemd's and the kubelet's are under 300 bytes); longer: unknown */
#define CT_CGROUPS_PATH_MAX 512
/* a walk at most this often when unknown ids come */
#define CT_CGROUPS_WALK_NS 1000000000ull

struct ct_cgroups {
	char mount[PATH_MAX];
	char root[PATH_MAX];		/* the mount's root in the hierarchy: "/" usually */
	struct ct_htab *ids;		/* id -> char * (the path, malloc'd) */
	__u64 walked_ns;		/* monotonic time of the last walk */
	unsigned int walks;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* The first cgroup2 mount: its mount point and root into @cg; 0, or -1. */
static int find_mount(struct ct_cgroups *cg)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], point[PATH_MAX], *dash = strstr(line, " - ");
		char fstype[32];

		if (!dash || sscanf(dash, " - %31s", fstype) != 1 || strcmp(fstype, "cgroup2") ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2)
			continue;
		unescape(root);
		unescape(point);
		snprintf(cg->mount, sizeof(cg->mount), "%s", point);
		snprintf(cg->root, sizeof(cg->root), "%s", root);
		found = 0;
	}
	fclose(f);
	return found;
}

/* Remember directory @rel (below the mount) as cgroup @ino, if it is new. */
static void remember(struct ct_cgroups *cg, __u64 ino, const char *rel)
{
	size_t n, nr, nl = strlen(rel);
	char *path;

	if (ct_htab_lookup(cg->ids, &ino) || ct_htab_count(cg->ids) >= CT_CGROUPS_MAX)
		return;
	/* the hierarchy's path: the mount's root, then the directory below the mount */
	nr = strcmp(cg->root, "/") ? strlen(cg->root) : 0;
	n = nr + nl + 2;
	if (n > CT_CGROUPS_PATH_MAX)
		return;
	path = malloc(n);
	if (!path)
		return;
	memcpy(path, cg->root, nr);
	memcpy(path + nr, rel, nl);
	if (!nr && !nl)
		path[nl++] = '/';	/* the root itself */
	path[nr + nl] = '\0';
	if (ct_htab_update(cg->ids, &ino, &path, 0))
		free(path);
}

/* Walk directory @dfd, which is @rel below the mount ("" the mount itself). */
static void walk(struct ct_cgroups *cg, int dfd, char *rel, size_t len, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fstat(dfd, &st) == 0)
		remember(cg, (__u64)st.st_ino, rel);
	if (depth >= CT_CGROUPS_DEPTH || !(d = fdopendir(dfd))) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		int fd;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    len + 1 + n >= PATH_MAX)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		rel[len] = '/';
		memcpy(rel + len + 1, de->d_name, n + 1);
		walk(cg, fd, rel, len + 1 + n, depth + 1);
		rel[len] = '\0';
	}
	closedir(d);
}

static void walk_all(struct ct_cgroups *cg)
{
	char rel[PATH_MAX] = "";
	int fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	cg->walked_ns = ct_mono_ns();
	cg->walks++;
	if (fd >= 0)
		walk(cg, fd, rel, 0, 0);
}

struct ct_cgroups *ct_cgroups_open(const char *mount)
{
	struct ct_cgroups *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return NULL;
	if (mount) {
		snprintf(cg->mount, sizeof(cg->mount), "%s", mount);
		snprintf(cg->root, sizeof(cg->root), "/");
	} else if (find_mount(cg)) {
		free(cg);
		errno = ENOENT;
		return NULL;
	}
	cg->ids = ct_htab_new(sizeof(__u64), sizeof(char *), CT_CGROUPS_MAX);
	if (!cg->ids) {
		free(cg);
		errno = ENOMEM;
		return NULL;
	}
	walk_all(cg);
	return cg;
}

void ct_cgroups_free(struct ct_cgroups *cg)
{
	__u32 pos = 0;
	void *k, *v;

	if (!cg)
		return;
	while (ct_htab_next(cg->ids, &pos, &k, &v) == 1)
		free(*(char **)v);
	ct_htab_free(cg->ids);
	free(cg);
}

const char *ct_cgroups_mount(const struct ct_cgroups *cg)
{
	return cg->mount;
}

const char *ct_cgroups_path(struct ct_cgroups *cg, __u64 id)
{
	char **p;

	if (!cg || !id)
		return NULL;
	p = ct_htab_lookup(cg->ids, &id);
	if (!p && ct_mono_ns() - cg->walked_ns >= CT_CGROUPS_WALK_NS) {
		walk_all(cg);
		p = ct_htab_lookup(cg->ids, &id);
	}
	return p ? *p : NULL;
}

const char *ct_cgroups_lookup(void *ctx, __u64 id)
{
	return ct_cgroups_path(ctx, id);
}

unsigned int ct_cgroups_count(const struct ct_cgroups *cg)
{
	return ct_htab_count(cg->ids);
}

unsigned int ct_cgroups_walks(const struct ct_cgroups *cg)
{
	return cg->walks;
}
