// SPDX-License-Identifier: BSD-3-Clause
/*
 * identify.c - which attached programs are closetrace's (name and tag of what this build
 * loads), and whether a process still holds one (by its program or link descriptors in
 * /proc).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "closetrace.h"
#include "closetrace.skel.h"
#include "identify.h"
#include "loader.h"

/* small: the tags depend on the instructions only, not on the maps' sizes */
#define CT_TAG_FLOWS   1024
#define CT_TAG_RINGBUF (64u << 10)

int ct_prog_fd_ident(int fd, struct ct_prog_id *out)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	memset(out, 0, sizeof(*out));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	memcpy(out->name, info.name, sizeof(out->name));
	out->name[sizeof(out->name) - 1] = '\0';
	memcpy(out->tag, info.tag, sizeof(out->tag));
	return 0;
}

int ct_prog_ident(__u32 id, struct ct_prog_id *out)
{
	int fd = bpf_prog_get_fd_by_id(id), ret, e;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "?");
	if (fd < 0)
		return -1;
	ret = ct_prog_fd_ident(fd, out);
	e = errno;
	close(fd);
	errno = e;
	return ret;
}

int ct_prog_is(const struct ct_prog_id *p, const char *name, const __u8 *tag)
{
	return !strcmp(p->name, name) && !memcmp(p->tag, tag, BPF_TAG_SIZE);
}

int ct_own_tags_load(struct ct_own_tags *own, char *err, size_t errlen)
{
	struct ct_load_opts lo = {
		.progs = CT_PROG_XDP | CT_PROG_TC, .flows = CT_TAG_FLOWS, .ringbuf = CT_TAG_RINGBUF,
	};
	struct ct_prog_id xdp, tc;
	struct closetrace *skel;
	char why[256];
	int ret;

	skel = ct_load(&lo, why, sizeof(why));
	if (!skel) {
		snprintf(err, errlen, "cannot tell closetrace's programs from others: %s", why);
		return -1;
	}
	ret = ct_prog_fd_ident(bpf_program__fd(skel->progs.ct_xdp), &xdp) ||
	      ct_prog_fd_ident(bpf_program__fd(skel->progs.ct_tc), &tc);
	if (ret)
		snprintf(err, errlen, "cannot tell closetrace's programs from others: reading "
			 "their tags failed: %s", strerror(errno));
	ct_unload(skel);
	if (ret)
		return -1;
	memcpy(own->xdp, xdp.tag, sizeof(own->xdp));
	memcpy(own->tc, tc.tag, sizeof(own->tc));
	return 0;
}

/* The program behind /proc/@pid/fdinfo/@fd, 0 if none. */
static __u32 fdinfo_prog_id(const char *pid, const char *fd)
{
	char path[300], line[128];
	unsigned int id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "prog_id: %u", &id) == 1)
			break;
	fclose(f);
	return id;
}

/* Whether process @pid has a program or link descriptor on program @id. */
static int pid_holds(const char *pid, __u32 id)
{
	char path[300], target[32];
	struct dirent *e;
	int held = 0;
	ssize_t n;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	fds = opendir(path);
	if (!fds)
		return 0;	/* gone, or a kernel thread */
	while (!held && (e = readdir(fds))) {
		n = readlinkat(dirfd(fds), e->d_name, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		/* the link names only the descriptor's kind; fdinfo names the program */
		if (strcmp(target, "anon_inode:bpf-prog") && strcmp(target, "anon_inode:bpf_link"))
			continue;
		held = fdinfo_prog_id(pid, e->d_name) == id;
	}
	closedir(fds);
	return held;
}

int ct_prog_held(__u32 id)
{
	char self[16];
	struct dirent *e;
	int held = 0;
	DIR *proc;

	proc = opendir("/proc");
	if (!proc)
		return 1;	/* cannot tell: as if held, so that nothing is removed */
	snprintf(self, sizeof(self), "%d", (int)getpid());
	while (!held && (e = readdir(proc)))
		if (isdigit((unsigned char)e->d_name[0]) && strcmp(e->d_name, self))
			held = pid_holds(e->d_name, id);
	closedir(proc);
	return held;
}
