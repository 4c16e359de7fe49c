// SPDX-License-Identifier: BSD-3-Clause
/*
 * loader.c - the skeleton's life cycle: open, size the maps and set the rodata switches,
 * load; read the per-CPU counters. Attaching to interfaces lives with the commands that
 * attach.
 */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "closetrace.h"
#include "closetrace.skel.h"
#include "engine.h"
#include "tunnel.h"
#include "kfeatures.h"
#include "resets.skel.h"
#include "ct_expiry.h"
#include "scan.skel.h"
#include "loader.h"
#include "reasons.h"

static void load_error(int err, __u32 flows, char *buf, size_t len)
{
	err = err < 0 ? -err : err;
	if (err == ENOMEM)
		snprintf(buf, len, "the kernel could not allocate the BPF maps (a flow table of %u "
			 "entries takes %.0f MiB, preallocated): lower --table-size", flows,
			 ct_table_bytes((long)flows) / 1048576);
	else if (err == EPERM)
		snprintf(buf, len, "loading BPF needs root or CAP_BPF+CAP_NET_ADMIN+CAP_PERFMON");
	else if (err == EACCES || err == EINVAL)
		snprintf(buf, len, "the kernel refused the BPF program (%s); run with -v to see the "
			 "verifier's log", strerror(err));
	else if (err == ENOSYS || err == EOPNOTSUPP)
		snprintf(buf, len, "this kernel has no BPF support for closetrace (needs Linux "
			 CT_MIN_KERNEL " or later with CONFIG_BPF_SYSCALL)");
	else
		snprintf(buf, len, "loading the BPF object failed: %s", strerror(err));
}

/* --- the flow table's size --------------------------------------------------------------- */

double ct_table_bytes(long n)
{
	/*
	 * Every element is preallocated: the kernel's 48-byte hash element header, the
	 * 40-byte key and the 144-byte value (232 bytes, see include/closetrace.h), a
	 * 16-byte bucket for each slot of a power-of-two bucket array, and for each slot
	 * too a key in each of the two eviction rings. In double: any long.
	 */
	double buckets = 1;

	while (buckets < (double)n)
		buckets *= 2;
	return (double)n * (48 + sizeof(struct ct_flow_key) + sizeof(struct ct_flow)) +
	       buckets * (16 + 2 * sizeof(struct ct_flow_key));
}

static double gib(double b)
{
	return b / (1024.0 * 1024 * 1024);
}

int ct_table_fits(long n, __u64 avail, char *err, size_t errlen)
{
	double need = ct_table_bytes(n);

	if (n > CT_TABLE_MAX) {
		snprintf(err, errlen, "a table of %ld flows would take %.1f GiB of kernel memory; "
			 "closetrace takes at most %ld flows (%.1f GiB)", n, gib(need),
			 CT_TABLE_MAX, gib(ct_table_bytes(CT_TABLE_MAX)));
		return -1;
	}
	if (avail && need > (double)avail) {
		snprintf(err, errlen, "a table of %ld flows would take %.1f GiB of kernel memory, "
			 "more than the %.1f GiB this machine has available", n, gib(need),
			 gib((double)avail));
		return -1;
	}
	return 0;
}

__u32 ct_ring_size(__u32 flows)
{
	__u32 n = 1;

	while (n < flows && n < (1u << 31))
		n <<= 1;
	return n;
}

void ct_cfg_fill(const struct ct_load_opts *o, __u32 flows, struct ct_cfg *c)
{
	int n = o->nifs < CT_MAX_IFACES ? o->nifs : CT_MAX_IFACES;
	struct ct_tunnels t;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < n; i++)
		c->ifindex[i] = (__u32)o->ifindex[i];
	c->nifs = (__u32)n;
	c->emit_graceful = !!o->emit_graceful;
	c->user_clock = !!o->user_clock;
	c->wakeup_bytes = o->wakeup_bytes;
	c->ring_mask = ct_ring_size(flows) - 1;
	c->storm_rate = o->storm_rate;
	c->owners = !!o->owners;
	if (o->tunnels) {
		t = *o->tunnels;
	} else {
		ct_tunnels_default(&t);
	}
	c->decap = t.none ? 0 : t.decap;
	memcpy(c->tun_port, t.port, sizeof(c->tun_port));
}

struct closetrace *ct_load(const struct ct_load_opts *o, char *err, size_t errlen)
{
	__u32 flows = o->flows ? o->flows : CT_DEFAULT_FLOWS;
	struct closetrace *skel;
	int ret;

	skel = closetrace__open();
	if (!skel) {
		load_error(errno, flows, err, errlen);
		return NULL;
	}
	ret = bpf_map__set_max_entries(skel->maps.flows, flows);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.emb_ring, ct_ring_size(flows));
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.est_ring, ct_ring_size(flows));
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.events,
					       o->ringbuf ? o->ringbuf : CT_DEFAULT_RINGBUF);
	if (ret) {
		snprintf(err, errlen, "cannot size the BPF maps: %s", strerror(-ret));
		closetrace__destroy(skel);
		return NULL;
	}
	if (o->progs) {
		bpf_program__set_autoload(skel->progs.ct_xdp, !!(o->progs & CT_PROG_XDP));
		bpf_program__set_autoload(skel->progs.ct_tc, !!(o->progs & CT_PROG_TC));
	}
	/* tcx attach types (kernel >= 6.6); older kernels ignore it for tc programs */
	bpf_program__set_expected_attach_type(skel->progs.ct_tc, CT_BPF_TCX_INGRESS);
	ct_cfg_fill(o, flows, &skel->rodata->cfg);
	memcpy(skel->bss->if_index, skel->rodata->cfg.ifindex, sizeof(skel->bss->if_index));

	ret = closetrace__load(skel);
	if (ret) {
		load_error(ret, flows, err, errlen);
		closetrace__destroy(skel);
		return NULL;
	}
	return skel;
}

void ct_unload(struct closetrace *skel)
{
	closetrace__destroy(skel);
}

/* The inode of this process's network namespace, which the kernel calls its inum; 0. */
static __u32 netns_inum(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (__u32)st.st_ino;
}

struct resets *ct_load_resets(struct closetrace *skel, const struct ct_load_opts *o, char *err,
			      size_t errlen)
{
	struct resets *rs = resets__open();
	struct bpf_map *m;
	int ret = 0;

	if (!rs) {
		snprintf(err, errlen, "cannot open the reset programs: %s", strerror(errno));
		return NULL;
	}
	/* the packet programs' maps: one flow table, one set of counters, one ring buffer */
	bpf_object__for_each_map(m, rs->obj) {
		struct bpf_map *same;

		if (bpf_map__is_internal(m) || !strcmp(bpf_map__name(m), "socks") ||
		    !strcmp(bpf_map__name(m), "listeners"))
			continue;	/* the socket tracepoints' own */
		same = bpf_object__find_map_by_name(skel->obj, bpf_map__name(m));
		ret = same ? bpf_map__reuse_fd(m, bpf_map__fd(same)) : -ENOENT;
		if (ret) {
			snprintf(err, errlen, "cannot share map %s with the reset programs: %s",
				 bpf_map__name(m), strerror(-ret));
			resets__destroy(rs);
			return NULL;
		}
	}
	bpf_program__set_autoload(rs->progs.ct_receive_reset, o->reasons->receive_reset);
	bpf_program__set_autoload(rs->progs.ct_sock_state, !!o->owners);
	bpf_program__set_autoload(rs->progs.ct_retransmit, !!o->owners);
	rs->rodata->cfg_owners = !!o->owners;
	rs->rodata->cfg_reason_arg = !!o->reasons->reason_arg;
	rs->rodata->cfg_netns = netns_inum();
	/* what the flow code they share reads: as the packet programs have it */
	rs->rodata->cfg = skel->rodata->cfg;
	memcpy(rs->bss->if_index, skel->bss->if_index, sizeof(rs->bss->if_index));
	ret = resets__load(rs);
	if (ret) {
		ret = ret < 0 ? -ret : ret;
		snprintf(err, errlen, "the kernel refused the reset programs (%s; -v shows why)",
			 strerror(ret));
		resets__destroy(rs);
		return NULL;
	}
	return rs;
}

void ct_unload_resets(struct resets *rs)
{
	resets__destroy(rs);
}

struct bpf_link *ct_load_scan(int flows_fd, struct scan **out, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, ao);
	union bpf_iter_link_info li = { .map = { .map_fd = (__u32)flows_fd } };
	struct bpf_link *link;
	struct scan *sc;
	int ret;

	*out = NULL;
	if (ct_feature_off(CT_FEAT_SCAN_ITER)) {
		snprintf(err, errlen, "CLOSETRACE_DISABLE turns the scan iterator off");
		errno = ECANCELED;
		return NULL;
	}
	/* the kernel's verdict on iterators first: ours is then loaded only where it may be */
	ret = ct_probe_map_iter();
	if (ret) {
		snprintf(err, errlen, "%s", ret == -ENOENT ?
			 "this kernel has no map iterators (or no BTF)" :
			 "the kernel refuses map iterators");
		snprintf(err + strlen(err), errlen - strlen(err), " (%s)", strerror(-ret));
		errno = -ret;
		return NULL;
	}
	sc = scan__open_and_load();
	if (!sc) {
		ret = errno;
		snprintf(err, errlen, "the kernel refused closetrace's scan iterator (%s; -v shows "
			 "why)", strerror(ret));
		errno = ret;
		return NULL;
	}
	ao.link_info = &li;
	ao.link_info_len = sizeof(li);
	link = bpf_program__attach_iter(sc->progs.ct_scan_cut, &ao);
	if (!link) {
		ret = errno;
		snprintf(err, errlen, "cannot attach the scan iterator to the flow table (%s)",
			 strerror(ret));
		scan__destroy(sc);
		errno = ret;
		return NULL;
	}
	*out = sc;
	return link;
}

void ct_unload_scan(struct bpf_link *link, struct scan *sc)
{
	bpf_link__destroy(link);
	scan__destroy(sc);
}

void ct_set_ifindex(struct closetrace *skel, struct resets *rs, int slot, int ifindex)
{
	if (slot < 0 || slot >= CT_MAX_IFACES)
		return;
	if (skel && skel->bss)
		skel->bss->if_index[slot] = (__u32)ifindex;
	if (rs && rs->bss)
		rs->bss->if_index[slot] = (__u32)ifindex;
}
