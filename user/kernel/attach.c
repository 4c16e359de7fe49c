// SPDX-License-Identifier: BSD-3-Clause
/*
 * attach.c - tc (tcx links, else netlink clsact filters) and XDP (BPF links; netlink when
 * --force replaces another program) attachment, detection of another closetrace or
 * another XDP program, detach (putting a replaced program back) and cleanup.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "closetrace.h"
#include "kfeatures.h"
#include "identify.h"
#include "log.h"
#include "numbers.h"

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
	ifc->tcx[0] = ifc->tcx[1] = ifc->xdp_link = ifc->xdp_nl = ifc->xdp_old = -1;
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
	int was = ct_log_probe(1), ret;

	/* usually there is nothing (no clsact even): the kernel's "no" is the answer */
	ret = bpf_tc_query(&hook, &o) == 0;
	ct_log_probe(was);
	return ret;
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

	for (int t = CT_BPF_TCX_INGRESS; t <= CT_BPF_TCX_EGRESS && !ifc->beside; t++) {
		id = tcx_find(ifc->ifindex, t, "ct_tc");
		if (id) {
			snprintf(err, errlen, "%s: another closetrace is already watching it "
				 "(tc program id %u); stop that one first", ifc->name, id);
			return -1;
		}
	}
	if (netlink_filter_present(ifc->ifindex, BPF_TC_INGRESS) ||
	    netlink_filter_present(ifc->ifindex, BPF_TC_EGRESS)) {
		if (ifc->beside) {
			snprintf(err, errlen, "%s: another closetrace's tc filter is there, and "
				 "netlink tc runs one: view its session instead (without "
				 "--no-agent)", ifc->name);
			return -1;
		}
		snprintf(err, errlen, "%s: a closetrace tc filter is already there (a running "
			 "instance, or a killed one: closetrace cleanup -i %s removes it)",
			 ifc->name, ifc->name);
		return -1;
	}

	/* CLOSETRACE_DISABLE=tcx: the classic path even where tcx exists */
	if (ct_feature_off(CT_FEAT_TCX)) {
		pr_info("%s: CLOSETRACE_DISABLE turns tcx off; using netlink tc\n", ifc->name);
		return attach_tc_netlink(ifc, prog_fd, err, errlen);
	}
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

/* The XDP_FLAGS_*_MODE that addresses the slot a query found a program in; 0 if none does. */
static __u32 xdp_slot_flags(__u8 attach_mode)
{
	switch (attach_mode) {
	case XDP_ATTACHED_SKB:
		return XDP_FLAGS_SKB_MODE;
	case XDP_ATTACHED_DRV:
		return XDP_FLAGS_DRV_MODE;
	default:
		return 0;	/* offloaded to the NIC, or several programs at once */
	}
}

/* @fd moved above 0..2: libbpf reads an old_prog_fd of 0 as "none" */
static int fd_above_stdio(int fd)
{
	int moved;

	if (fd < 0 || fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}

/*
 * CLOSETRACE_FORCE_PAUSE_MS (tests): wait between reading which program to replace and
 * replacing it, so that a test can change it meanwhile and see the replace refused.
 */
static void force_pause(void)
{
	const char *v = getenv("CLOSETRACE_FORCE_PAUSE_MS");
	struct timespec ts;
	long ms;

	if (!v || ct_parse_long(v, 0, 10000, &ms))
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	nanosleep(&ts, NULL);
}

/*
 * --force: put closetrace's program in the place of program @id in one netlink request
 * that names @id as the one expected there, so that the interface is never without a
 * program and a program someone else put there meanwhile is not clobbered. A link cannot
 * take the place of a netlink-attached program, hence netlink here.
 */
static int xdp_replace(struct ct_iface *ifc, int prog_fd, enum ct_xdp_mode mode, __u32 id,
		       const char *name, __u8 attach_mode, char *err, size_t errlen)
{
	__u32 flags = xdp_slot_flags(attach_mode);
	const char *slot = flags == XDP_FLAGS_SKB_MODE ? "generic" : "native";
	int old, ours, ret;

	if (!flags) {
		snprintf(err, errlen, "%s: XDP program '%s' (id %u) is offloaded to the NIC; "
			 "closetrace cannot replace it", ifc->name, name, id);
		return -1;
	}
	if ((mode == CT_XDP_NATIVE && flags == XDP_FLAGS_SKB_MODE) ||
	    (mode == CT_XDP_GENERIC && flags == XDP_FLAGS_DRV_MODE)) {
		snprintf(err, errlen, "%s: XDP program '%s' (id %u) runs in %s mode, and --force "
			 "replaces it in that mode only: leave --xdp-mode out", ifc->name, name,
			 id, slot);
		return -1;
	}
	old = fd_above_stdio(bpf_prog_get_fd_by_id(id));
	if (old < 0) {
		snprintf(err, errlen, "%s: XDP program '%s' (id %u) went away while closetrace "
			 "was replacing it; nothing was changed, run again", ifc->name, name, id);
		return -1;
	}
	ours = fcntl(prog_fd, F_DUPFD_CLOEXEC, 3);
	if (ours < 0) {
		snprintf(err, errlen, "%s: cannot keep a descriptor of closetrace's program: %s",
			 ifc->name, strerror(errno));
		close(old);
		return -1;
	}
	pr_info("%s: replacing XDP program '%s' (id %u) in %s mode\n", ifc->name, name, id, slot);
	force_pause();
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = old);

		ret = bpf_xdp_attach(ifc->ifindex, prog_fd, flags, &o);
	}
	if (ret) {
		if (ret == -EEXIST)
			snprintf(err, errlen, "%s: the XDP program changed while --force was "
				 "replacing '%s' (id %u); nothing was replaced, run again to replace "
				 "the new one", ifc->name, name, id);
		else if (ret == -EBUSY)
			snprintf(err, errlen, "%s: XDP program '%s' (id %u) is attached through a "
				 "BPF link; only the tool that holds it can remove it", ifc->name, name,
				 id);
		else
			snprintf(err, errlen, "%s: cannot replace XDP program '%s' (id %u) in %s "
				 "mode: %s", ifc->name, name, id, slot, strerror(-ret));
		close(old);
		close(ours);
		return -1;
	}
	ifc->xdp_nl = ours;
	ifc->xdp_nl_flags = flags;
	ifc->xdp_old = old;
	ifc->xdp_old_id = id;
	snprintf(ifc->xdp_old_name, sizeof(ifc->xdp_old_name), "%s", name);
	ifc->xdp_generic = flags == XDP_FLAGS_SKB_MODE;
	pr_warn("%s: replaced XDP program '%s' (id %u) with closetrace's, as --force asked\n",
		ifc->name, name, id);
	return 0;
}

int ct_attach_xdp(struct ct_iface *ifc, int prog_fd, enum ct_xdp_mode mode, int force,
		  char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct ct_prog_id cur, own;
	int e;

	if (!bpf_xdp_query(ifc->ifindex, 0, &q) && q.attach_mode != XDP_ATTACHED_NONE &&
	    !q.prog_id) {
		snprintf(err, errlen, "%s: XDP programs are attached in several modes at once; "
			 "closetrace does not replace them", ifc->name);
		return -1;
	}
	if (q.prog_id) {
		ct_prog_ident(q.prog_id, &cur);
		if (!ct_prog_fd_ident(prog_fd, &own) && ct_prog_is(&cur, "ct_xdp", own.tag)) {
			if (ct_prog_held(q.prog_id))
				snprintf(err, errlen, "%s: another closetrace is already watching it "
					 "(XDP program id %u); stop that one first", ifc->name,
					 q.prog_id);
			else
				snprintf(err, errlen, "%s: a killed closetrace left its XDP program "
					 "(id %u); closetrace cleanup -i %s removes it", ifc->name,
					 q.prog_id, ifc->name);
			return -1;
		}
		if (!force) {
			snprintf(err, errlen, "%s: XDP program '%s' (id %u) is attached; closetrace "
				 "replaces it only with --force", ifc->name, cur.name, q.prog_id);
			return -1;
		}
		return xdp_replace(ifc, prog_fd, mode, q.prog_id, cur.name, q.attach_mode, err,
				   errlen);
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

void ct_attach_keep(struct ct_iface *ifc)
{
	if (ifc->xdp_old >= 0)
		close(ifc->xdp_old);
	ifc->xdp_old = -1;
}

/*
 * Take closetrace's netlink-attached XDP program off, putting back the program it
 * replaced if that one is still kept. Either only if closetrace's is still the one
 * there: whatever someone put in its place since stays.
 */
static void xdp_nl_remove(struct ct_iface *ifc)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = ifc->xdp_nl);
	int ret = bpf_xdp_attach(ifc->ifindex, ifc->xdp_old, ifc->xdp_nl_flags, &o);

	if (ret == -ENODEV)
		return;
	if (ifc->xdp_old < 0) {
		if (ret && ret != -EEXIST)
			pr_warn("%s: cannot remove closetrace's XDP program: %s; closetrace cleanup "
				"-i %s removes it\n", ifc->name, strerror(-ret), ifc->name);
		return;
	}
	if (!ret)
		pr_warn("%s: put XDP program '%s' (id %u) back\n", ifc->name, ifc->xdp_old_name,
			ifc->xdp_old_id);
	else if (ret == -EEXIST)
		pr_warn("%s: XDP program '%s' (id %u) not put back: the interface's XDP program "
			"was changed meanwhile\n", ifc->name, ifc->xdp_old_name, ifc->xdp_old_id);
	else
		pr_warn("%s: cannot put XDP program '%s' (id %u) back: %s\n", ifc->name,
			ifc->xdp_old_name, ifc->xdp_old_id, strerror(-ret));
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
	if (ifc->xdp_nl >= 0) {
		if (!ifc->gone)
			xdp_nl_remove(ifc);
		close(ifc->xdp_nl);
	}
	ifc->xdp_nl = -1;
	ct_attach_keep(ifc);
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

/*
 * The netlink tc filter at closetrace's handle and priority on @where, if its program is
 * this closetrace's and nobody holds it: 1 if removed.
 */
static int clean_tc(int ifindex, const char *name, enum bpf_tc_attach_point where,
		    const struct ct_own_tags *own, char *err, size_t errlen)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = CT_TC_HANDLE, .priority = CT_TC_PRIO);
	const char *dir = where == BPF_TC_INGRESS ? "ingress" : "egress";
	struct ct_prog_id cur;
	int was = ct_log_probe(1), none;

	none = bpf_tc_query(&hook, &o) != 0;	/* nothing there: the usual answer */
	ct_log_probe(was);
	if (none)
		return 0;
	ct_prog_ident(o.prog_id, &cur);
	if (!ct_prog_is(&cur, "ct_tc", own->tc)) {
		pr_warn("%s: the tc %s filter at closetrace's handle runs program '%s' (id %u), "
			"not this closetrace's: left alone\n", name, dir, cur.name, o.prog_id);
		return 0;
	}
	if (ct_prog_held(o.prog_id)) {
		snprintf(err, errlen, "%s: a running closetrace holds the tc %s filter (program "
			 "id %u); stop it instead", name, dir, o.prog_id);
		return 0;
	}
	return !netlink_detach(ifindex, where);
}

/* closetrace's netlink-attached XDP program, if nobody holds it: 1 if removed */
static int clean_xdp(int ifindex, const char *name, const struct ct_own_tags *own, char *err,
		     size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct ct_prog_id cur;
	int fd, ret;

	if (bpf_xdp_query(ifindex, 0, &q) || !q.prog_id)
		return 0;
	ct_prog_ident(q.prog_id, &cur);
	if (strcmp(cur.name, "ct_xdp"))
		return 0;	/* another tool's, and not even named like closetrace's */
	if (!ct_prog_is(&cur, "ct_xdp", own->xdp)) {
		pr_warn("%s: XDP program 'ct_xdp' (id %u) is not this closetrace's (another tag): "
			"left alone\n", name, q.prog_id);
		return 0;
	}
	if (ct_prog_held(q.prog_id)) {
		snprintf(err, errlen, "%s: a running closetrace holds XDP program id %u; stop it "
			 "instead", name, q.prog_id);
		return 0;
	}
	fd = fd_above_stdio(bpf_prog_get_fd_by_id(q.prog_id));
	if (fd < 0)
		return 0;	/* gone meanwhile */
	{
		/* that program only, should another have taken its place meanwhile */
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = fd);

		ret = bpf_xdp_detach(ifindex, xdp_slot_flags(q.attach_mode), &o);
	}
	close(fd);
	if (ret == -EBUSY)
		snprintf(err, errlen, "%s: XDP program id %u is held by a pinned BPF link; "
			 "closetrace leaves it", name, q.prog_id);
	else if (ret && ret != -EEXIST)
		snprintf(err, errlen, "%s: cannot remove XDP program id %u: %s", name, q.prog_id,
			 strerror(-ret));
	return !ret;
}

int ct_cleanup(int ifindex, const char *name, const struct ct_own_tags *own, char *err,
	       size_t errlen)
{
	struct ct_prog_id cur;
	int removed = 0;
	__u32 id;

	err[0] = '\0';
	removed += clean_tc(ifindex, name, BPF_TC_INGRESS, own, err, errlen);
	removed += clean_tc(ifindex, name, BPF_TC_EGRESS, own, err, errlen);
	removed += clean_xdp(ifindex, name, own, err, errlen);
	/* tcx attachments are links: a running instance's, never left over */
	for (int t = CT_BPF_TCX_INGRESS; t <= CT_BPF_TCX_EGRESS; t++) {
		id = tcx_find(ifindex, t, "ct_tc");
		if (id && !err[0] && !ct_prog_ident(id, &cur) && ct_prog_is(&cur, "ct_tc", own->tc))
			snprintf(err, errlen, "%s: a running closetrace holds tc program id %u; "
				 "stop it instead", name, id);
	}
	return removed;
}

int ct_iface_own_addr(const char *name, char *buf, size_t len)
{
	struct ifaddrs *all, *a;
	int found = 0;

	if (getifaddrs(&all))
		return 0;
	for (a = all; a && !found; a = a->ifa_next) {
		const struct sockaddr *sa = a->ifa_addr;

		if (!sa || strcmp(a->ifa_name, name))
			continue;
		if (sa->sa_family == AF_INET) {
			found = !!inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
					    (socklen_t)len);
		} else if (sa->sa_family == AF_INET6) {
			const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

			/* every interface has a link-local address: it says nothing */
			if (!IN6_IS_ADDR_LINKLOCAL(a6))
				found = !!inet_ntop(AF_INET6, a6, buf, (socklen_t)len);
		}
	}
	freeifaddrs(all);
	return found;
}
