/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * attach.h - putting the programs on interfaces and taking them off again, leaving the
 * system as it was: tc through tcx links where the kernel has them (they vanish with the
 * process), else netlink tc filters with closetrace's own handle and priority, removed on
 * exit, with the clsact qdisc removed only if closetrace created it; XDP through a BPF
 * link (native, else generic), never over a program closetrace did not load unless
 * forced. Forced, it replaces the other program in one step (netlink, XDP_FLAGS_REPLACE
 * naming the program it expects) and puts it back the same way if the session does not
 * start. `closetrace cleanup` removes what a killed instance left, and nothing else.
 */
#ifndef CT_ATTACH_H
#define CT_ATTACH_H

#include <net/if.h>
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>

struct ct_own_tags;

/* netlink tc filters of closetrace: recognizable, and out of the way of common ones */
#define CT_TC_HANDLE 0xc10e
#define CT_TC_PRIO 0xc10e

enum ct_xdp_mode { CT_XDP_AUTO = 0, CT_XDP_NATIVE, CT_XDP_GENERIC };

struct ct_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int tcx[2];		/* tcx link fds (ingress, egress), -1 if none */
	int tc_netlink;		/* filters attached through netlink */
	int qdisc_created;	/* the clsact qdisc is ours to remove */
	int xdp_link;		/* XDP link fd, -1 if none */
	int xdp_generic;	/* the XDP program runs in generic (skb) mode */
	/* --force: closetrace's program replaced another through netlink (no link) */
	int xdp_nl;		/* a descriptor of closetrace's program so attached, -1 if none */
	__u32 xdp_nl_flags;	/* the mode it was attached in (XDP_FLAGS_SKB/DRV_MODE) */
	int xdp_old;		/* the program it replaced, until ct_attach_keep(); -1 if none */
	__u32 xdp_old_id;
	char xdp_old_name[BPF_OBJ_NAME_LEN];
	int gone;		/* the interface disappeared */
	int beside;		/* --no-agent: tcx may run it beside another closetrace's */
};

/*
 * Resolve @name and check it is usable (exists, is up). 0, or -1 with one sentence in
 * @err.
 */
int ct_iface_open(struct ct_iface *ifc, const char *name, char *err, size_t errlen);

/*
 * Whether interface @name carries this host's own traffic: it has an address (IPv4, or
 * IPv6 other than link-local), written to @buf. A mirror or TAP port has none.
 */
int ct_iface_own_addr(const char *name, char *buf, size_t len);

/* Attach the tc program to ingress and egress; 0 or -1 with @err. */
int ct_attach_tc(struct ct_iface *ifc, int prog_fd, char *err, size_t errlen);

/*
 * Attach the XDP program. CT_XDP_AUTO tries native then generic (with a notice).
 * Another program on the interface is an error unless @force; with @force it is replaced
 * atomically, in the mode it runs in, provided it is still the one that was read (else
 * nothing changes and the error says so). 0 or -1 with @err.
 */
int ct_attach_xdp(struct ct_iface *ifc, int prog_fd, enum ct_xdp_mode mode, int force,
		  char *err, size_t errlen);

/*
 * The session started: let go of a program --force replaced on @ifc (it is not put back
 * on exit). Until then, ct_detach() puts it back.
 */
void ct_attach_keep(struct ct_iface *ifc);

/*
 * Remove whatever ct_attach_*() put on @ifc, putting back a program --force replaced if
 * ct_attach_keep() was not called (said either way). Safe to call twice, and on a gone
 * interface.
 */
void ct_detach(struct ct_iface *ifc);

/*
 * Remove closetrace's netlink tc filters and netlink-attached XDP program from @ifindex,
 * left by an instance that was killed: those whose program has closetrace's name and
 * the tag in @own, and that no process holds. Returns the number of objects removed;
 * a running instance's attachments are reported in @err and left alone, programs that
 * only share closetrace's name are named with pr_info and left alone.
 */
int ct_cleanup(int ifindex, const char *name, const struct ct_own_tags *own, char *err,
	       size_t errlen);

#endif /* CT_ATTACH_H */
