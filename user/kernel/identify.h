/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * identify.h - telling closetrace's programs from others on an interface. A name can be
 * taken by anyone; a program is closetrace's when it has closetrace's name *and* the tag
 * (the kernel's hash of the instructions) of the program this build loads. Whether a
 * process still holds it tells a running instance from one that was killed.
 */
#ifndef CT_IDENTIFY_H
#define CT_IDENTIFY_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>

struct ct_prog_id {
	char name[BPF_OBJ_NAME_LEN];
	__u8 tag[BPF_TAG_SIZE];
};

/* The tags of the programs this build attaches, as the kernel computes them. */
struct ct_own_tags {
	__u8 xdp[BPF_TAG_SIZE];
	__u8 tc[BPF_TAG_SIZE];
};

/* Name and tag of the loaded program @fd, or of program @id: 0, or -1 (errno). */
int ct_prog_fd_ident(int fd, struct ct_prog_id *out);
int ct_prog_ident(__u32 id, struct ct_prog_id *out);

/* Whether @p is named @name and has tag @tag. */
int ct_prog_is(const struct ct_prog_id *p, const char *name, const __u8 *tag);

/*
 * Learn @own by loading this build's XDP and tc programs (with a small table, attached
 * nowhere) and unloading them. 0, or -1 with one sentence in @err.
 */
int ct_own_tags_load(struct ct_own_tags *own, char *err, size_t errlen);

/*
 * Whether a process of this PID namespace holds program @id through a program or link
 * file descriptor: a running loader, as opposed to an attachment nobody owns any more.
 */
int ct_prog_held(__u32 id);

#endif /* CT_IDENTIFY_H */
