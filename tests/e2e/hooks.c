// SPDX-License-Identifier: BSD-3-Clause
/*
 * hooks.c - the tests' own view of what runs on an interface: `hooks DEV` prints one line
 * per BPF program attached to DEV in this network namespace, "HOOK ID NAME", for tcx links
 * (ingress, egress: Debian's bpftool 7.1 does not list them), XDP (native, generic) and
 * netlink tc filters (via tc(8): what `tc filter show` sees, whoever put it there). Apart from
 * closetrace's code, so that "nothing attached" cannot be vacuous where closetrace's own
 * bookkeeping is wrong. Exit 0, or 1 when DEV does not exist.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define TCX_INGRESS 46	/* enum bpf_attach_type, newer than the 6.1 UAPI headers */
#define TCX_EGRESS 47
#define MAX_IDS 64

static const char *name_of(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 n = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return buf;
	if (!bpf_obj_get_info_by_fd(fd, &info, &n))
		snprintf(buf, len, "%s", info.name);
	close(fd);
	return buf;
}

static void tcx(int ifindex, int type, const char *hook)
{
	__u32 ids[MAX_IDS] = {};
	char name[BPF_OBJ_NAME_LEN];
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = MAX_IDS);

	if (bpf_prog_query_opts(ifindex, type, &q))
		return;	/* no tcx in this kernel: nothing there */
	for (__u32 i = 0; i < q.prog_cnt && i < MAX_IDS; i++)
		printf("%s %u %s\n", hook, ids[i], name_of(ids[i], name, sizeof(name)));
}

static void xdp(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];

	if (bpf_xdp_query(ifindex, 0, &q))
		return;
	if (q.drv_prog_id)
		printf("xdp %u %s\n", q.drv_prog_id, name_of(q.drv_prog_id, name, sizeof(name)));
	if (q.skb_prog_id)
		printf("xdpgeneric %u %s\n", q.skb_prog_id,
		       name_of(q.skb_prog_id, name, sizeof(name)));
}

/* tc(8)'s filter list: "... bpf ... id N ..." lines, BPF filters only */
static void netlink_tc(const char *dev, const char *dir)
{
	char cmd[128], line[512], name[BPF_OBJ_NAME_LEN];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s 2>/dev/null", dev, dir);
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(line, sizeof(line), p)) {
		const char *at = strstr(line, " id ");
		unsigned int id;

		if (strstr(line, " bpf ") && at && sscanf(at, " id %u", &id) == 1)
			printf("tc-%s %u %s\n", dir, id, name_of(id, name, sizeof(name)));
	}
	pclose(p);
}

int main(int argc, char **argv)
{
	int ifindex;

	if (argc != 2) {
		fprintf(stderr, "usage: hooks DEV\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "hooks: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	libbpf_set_print(NULL);
	tcx(ifindex, TCX_INGRESS, "tcx-ingress");
	tcx(ifindex, TCX_EGRESS, "tcx-egress");
	xdp(ifindex);
	netlink_tc(argv[1], "ingress");
	netlink_tc(argv[1], "egress");
	return 0;
}
