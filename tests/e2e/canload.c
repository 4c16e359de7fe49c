// SPDX-License-Identifier: BSD-3-Clause
/*
 * canload.c - `canload OBJ`: whether this kernel loads the programs of BPF object file OBJ
 * (libbpf, nothing attached, nothing left). Prints "loaded", or "refused ERRNO-NAME" and
 * exits 1; 2 when OBJ cannot be read. The shell tests ask it what the kernel takes, apart
 * from closetrace's own probes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: canload OBJ\n");
		return 2;
	}
	libbpf_set_print(NULL);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "canload: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	err = bpf_object__load(obj);
	bpf_object__close(obj);
	if (err) {
		printf("refused %s\n", strerrorname_np(-err) ? strerrorname_np(-err) : "?");
		return 1;
	}
	printf("loaded\n");
	return 0;
}
