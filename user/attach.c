// SPDX-License-Identifier: BSD-3-Clause
/*
 * attach.c - tc (tcx links, else netlink clsact filters) and XDP (BPF links) attachment,
 * detection of another closetrace or another XDP program, detach and cleanup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "closetrace.h"
#include "log.h"

/* Programs read from one tcx hook: several are rare, and ours is looked for by name. */
#define CT_TCX_QUERY_MAX 64

static const char *prog_name(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return buf;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name);
	close(fd);
	return buf;
}

int ct_iface_open(struct ct_iface *ifc, const char *name, char *err, size_t errlen)
{
	struct ifreq ifr = {};
	int s;

	memset(ifc, 0, sizeof(*ifc));
	ifc->tcx[0] = ifc->tcx[1] = ifc->xdp_link = -1;
	if (!*name || strlen(name) >= IF_NAMESIZE) {
		snprintf(err, errlen, "'%s' is not an interface name", name);
		return -1;
	}
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->ifindex = (int)if_nametoindex(name);
	if (!ifc->ifindex) {
		snprintf(err, errlen, "%s: no such interface", name);
		return -1;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "%s: cannot query the interface: %s", name, strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr)) {
		snprintf(err, errlen, "%s: cannot query the interface: %s", name, strerror(errno));
		close(s);
		return -1;
	}
	close(s);
	if (!(ifr.ifr_flags & IFF_UP)) {
		snprintf(err, errlen, "%s: interface is down; bring it up with: ip link set %s up",
			 name, name);
		return -1;
	}
	return 0;
}

/* The id of a program named @want on tcx @type of @ifindex, or 0. */
static __u32 tcx_find(int ifindex, int type, const char *want)
{
	__u32 ids[CT_TCX_QUERY_MAX] = {};
	char name[BPF_OBJ_NAME_LEN];
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = CT_TCX_QUERY_MAX);

	if (bpf_prog_query_opts(ifindex, type, &q))
		return 0;
	for (__u32 i = 0; i < q.prog_cnt && i < CT_TCX_QUERY_MAX; i++)
		if (!strcmp(prog_name(ids[i], name, sizeof(name)), want))
			return ids[i];
	return 0;
}

static int netlink_filter_present(int ifindex, enum bpf_tc_attach_point where)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = CT_TC_HANDLE, .priority = CT_TC_PRIO);

	return bpf_tc_query(&hook, &o) == 0;
}

static int netlink_detach(int ifindex, enum bpf_tc_attach_point where)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = CT_TC_HANDLE, .priority = CT_TC_PRIO);

	return bpf_tc_detach(&hook, &o);
}

static int attach_tc_netlink(struct ct_iface *ifc, int prog_fd, char *err, size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	static const enum bpf_tc_attach_point points[2] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	int ret;

	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen, "%s: cannot add the clsact qdisc: %s", ifc->name,
			 strerror(-ret));
		return -1;
	}
	ifc->qdisc_created = ret == 0;
	for (int i = 0; i < 2; i++) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, h, .ifindex = ifc->ifindex,
				    .attach_point = points[i]);
		DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = CT_TC_HANDLE,
				    .priority = CT_TC_PRIO, .prog_fd = prog_fd);

		ret = bpf_tc_attach(&h, &o);
		if (ret) {
			snprintf(err, errlen, "%s: cannot attach the tc filter: %s", ifc->name,
				 strerror(-ret));
			ifc->tc_netlink = 1;
			ct_detach(ifc);
			return -1;
		}
	}
	ifc->tc_netlink = 1;
	pr_info("%s: attached through netlink tc (clsact %s)\n", ifc->name,
		ifc->qdisc_created ? "added" : "already there");
	return 0;
}

int ct_attach_tc(struct ct_iface *ifc, int prog_fd, char *err, size_t errlen)
{
	/*
	 * First in line: closetrace only watches and always hands the packet on, so
	 * programs that drop or redirect (Cilium, Calico) cannot hide traffic from it.
	 */
	LIBBPF_OPTS(bpf_link_create_opts, first, .flags = CT_BPF_F_BEFORE);
	__u32 id;

	for (int t = CT_BPF_TCX_INGRESS; t <= CT_BPF_TCX_EGRESS; t++) {
		id = tcx_find(ifc->ifindex, t, "ct_tc");
		if (id) {
			snprintf(err, errlen, "%s: another closetrace is already watching it "
				 "(tc program id %u); stop that one first", ifc->name, id);
			return -1;
		}
	}
	if (netlink_filter_present(ifc->ifindex, BPF_TC_INGRESS) ||
	    netlink_filter_present(ifc->ifindex, BPF_TC_EGRESS)) {
		snprintf(err, errlen, "%s: a closetrace tc filter is already there (a running "
			 "instance, or a killed one: closetrace cleanup -i %s removes it)",
			 ifc->name, ifc->name);
		return -1;
	}

	/* CLOSETRACE_TC_NETLINK=1: the classic path even where tcx exists (tests, debugging) */
	if (getenv("CLOSETRACE_TC_NETLINK") && !strcmp(getenv("CLOSETRACE_TC_NETLINK"), "1"))
		return attach_tc_netlink(ifc, prog_fd, err, errlen);
	ifc->tcx[0] = bpf_link_create(prog_fd, ifc->ifindex, CT_BPF_TCX_INGRESS, &first);
	if (ifc->tcx[0] < 0) {
		int e = errno;

		ifc->tcx[0] = -1;
		if (e == EPERM || e == EACCES) {
			snprintf(err, errlen, "%s: attaching needs root or CAP_NET_ADMIN+CAP_BPF",
				 ifc->name);
			return -1;
		}
		/* no tcx in this kernel (before 6.6): classic tc */
		pr_info("%s: no tcx links here (%s); using netlink tc\n", ifc->name, strerror(e));
		return attach_tc_netlink(ifc, prog_fd, err, errlen);
	}
	ifc->tcx[1] = bpf_link_create(prog_fd, ifc->ifindex, CT_BPF_TCX_EGRESS, &first);
	if (ifc->tcx[1] < 0) {
		snprintf(err, errlen, "%s: cannot attach to tc egress: %s", ifc->name,
			 strerror(errno));
		ifc->tcx[1] = -1;
		ct_detach(ifc);
		return -1;
	}
	pr_info("%s: attached to tc ingress and egress (tcx links)\n", ifc->name);
	return 0;
}

int ct_attach_xdp(struct ct_iface *ifc, int prog_fd, enum ct_xdp_mode mode, int force,
		  char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];
	int e;

	if (!bpf_xdp_query(ifc->ifindex, 0, &q) && q.prog_id) {
		prog_name(q.prog_id, name, sizeof(name));
		if (!strcmp(name, "ct_xdp")) {
			snprintf(err, errlen, "%s: another closetrace is already watching it (XDP "
				 "program id %u); stop that one first", ifc->name, q.prog_id);
			return -1;
		}
		if (!force) {
			snprintf(err, errlen, "%s: XDP program '%s' (id %u) is attached; closetrace "
				 "does not replace it (--force does, and does not put it back)",
				 ifc->name, name, q.prog_id);
			return -1;
		}
		if (bpf_xdp_detach(ifc->ifindex, q.attach_mode == XDP_ATTACHED_SKB ?
				   XDP_FLAGS_SKB_MODE : q.attach_mode == XDP_ATTACHED_HW ?
				   XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE, NULL)) {
			snprintf(err, errlen, "%s: cannot remove XDP program '%s' (id %u): %s",
				 ifc->name, name, q.prog_id, strerror(errno));
			return -1;
		}
		pr_warn("%s: removed XDP program '%s' (id %u), as --force asked\n", ifc->name,
			name, q.prog_id);
	}

	if (mode != CT_XDP_GENERIC) {
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);

		ifc->xdp_link = bpf_link_create(prog_fd, ifc->ifindex, BPF_XDP, &lo);
		if (ifc->xdp_link >= 0) {
			pr_info("%s: attached XDP in native mode\n", ifc->name);
			return 0;
		}
		e = errno;
		if (mode == CT_XDP_NATIVE || e == EPERM) {
			snprintf(err, errlen, "%s: cannot attach XDP in native mode: %s", ifc->name,
				 strerror(e));
			ifc->xdp_link = -1;
			return -1;
		}
		pr_warn("%s: native XDP not available (%s); using generic mode\n", ifc->name,
			strerror(e));
	}
	{
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_SKB_MODE);

		ifc->xdp_link = bpf_link_create(prog_fd, ifc->ifindex, BPF_XDP, &lo);
	}
	if (ifc->xdp_link < 0) {
		e = errno;
		ifc->xdp_link = -1;
		snprintf(err, errlen, "%s: cannot attach XDP in generic mode: %s", ifc->name,
			 strerror(e));
		return -1;
	}
	ifc->xdp_generic = 1;
	pr_info("%s: attached XDP in generic mode\n", ifc->name);
	return 0;
}

void ct_detach(struct ct_iface *ifc)
{
	for (int i = 0; i < 2; i++) {
		if (ifc->tcx[i] >= 0)
			close(ifc->tcx[i]);
		ifc->tcx[i] = -1;
	}
	if (ifc->xdp_link >= 0)
		close(ifc->xdp_link);
	ifc->xdp_link = -1;
	if (ifc->tc_netlink && !ifc->gone) {
		netlink_detach(ifc->ifindex, BPF_TC_INGRESS);
		netlink_detach(ifc->ifindex, BPF_TC_EGRESS);
		if (ifc->qdisc_created) {
			DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
					    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

			bpf_tc_hook_destroy(&hook);
		}
	}
	ifc->tc_netlink = 0;
	ifc->qdisc_created = 0;
}

int ct_cleanup(int ifindex, const char *name, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char pname[BPF_OBJ_NAME_LEN];
	int removed = 0;
	__u32 id;

	err[0] = '\0';
	if (netlink_filter_present(ifindex, BPF_TC_INGRESS) &&
	    !netlink_detach(ifindex, BPF_TC_INGRESS))
		removed++;
	if (netlink_filter_present(ifindex, BPF_TC_EGRESS) &&
	    !netlink_detach(ifindex, BPF_TC_EGRESS))
		removed++;
	if (!bpf_xdp_query(ifindex, 0, &q) && q.prog_id &&
	    !strcmp(prog_name(q.prog_id, pname, sizeof(pname)), "ct_xdp")) {
		/* a link (a running instance) cannot be removed this way, and is not left over */
		if (!bpf_xdp_detach(ifindex, q.attach_mode == XDP_ATTACHED_SKB ?
				    XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE, NULL))
			removed++;
		else
			snprintf(err, errlen, "%s: a running closetrace holds XDP program id %u; "
				 "stop it instead", name, q.prog_id);
	}
	for (int t = CT_BPF_TCX_INGRESS; t <= CT_BPF_TCX_EGRESS; t++) {
		id = tcx_find(ifindex, t, "ct_tc");
		if (id && !err[0])
			snprintf(err, errlen, "%s: a running closetrace holds tc program id %u; "
				 "stop it instead", name, id);
	}
	return removed;
}
