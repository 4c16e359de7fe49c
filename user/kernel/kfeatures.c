// SPDX-License-Identifier: BSD-3-Clause
/*
 * kfeatures.c - which optional kernel features to use: CLOSETRACE_DISABLE, and probes that
 * ask the running kernel itself (a minimal program loaded, a name looked up in its BTF).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <linux/bpf.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kfeatures.h"

static const struct {
	const char *name;
	const char *fallback;
} feats[CT_FEAT_MAX] = {
	[CT_FEAT_TCX] = { "tcx", "tc programs are attached as netlink clsact filters, after "
				 "those already there, and a killed closetrace leaves them "
				 "(closetrace cleanup removes them)" },
	[CT_FEAT_RESETS] = { "resets", "reset reasons show as - (no reason for the RSTs this "
				       "host sends)" },
	[CT_FEAT_SCAN_ITER] = { "scan-iter", "expiry scans read the whole flow table with "
					     "batched lookups (more CPU per scan on big tables)" },
	[CT_FEAT_OWNERS] = { "owners", "closes name no process (pid, comm), only the cgroup "
				       "and socket cookie tc sees, and a refusal says nothing of "
				       "its port's last listener" },
};

const char *ct_feature_name(enum ct_feature f)
{
	return f < CT_FEAT_MAX ? feats[f].name : "?";
}

const char *ct_feature_fallback(enum ct_feature f)
{
	return f < CT_FEAT_MAX ? feats[f].fallback : "";
}

/* Calls @fn with each comma-separated name of CLOSETRACE_DISABLE until it returns non-zero. */
static int each_disabled(int (*fn)(const char *name, size_t len, void *ctx), void *ctx)
{
	const char *v = getenv("CLOSETRACE_DISABLE");

	while (v && *v) {
		size_t n = strcspn(v, ",");
		int r = n ? fn(v, n, ctx) : 0;

		if (r)
			return r;
		v += n + (v[n] == ',');
	}
	return 0;
}

static int names(const char *name, size_t len, void *ctx)
{
	const char *want = ctx;

	return strlen(want) == len && !strncmp(name, want, len);
}

int ct_feature_off(enum ct_feature f)
{
	return f < CT_FEAT_MAX && each_disabled(names, (void *)feats[f].name);
}

struct unknown {
	char *err;
	size_t errlen;
};

static int unknown_name(const char *name, size_t len, void *ctx)
{
	struct unknown *u = ctx;

	char known[128] = "";

	for (int f = 0; f < CT_FEAT_MAX; f++) {
		if (strlen(feats[f].name) == len && !strncmp(name, feats[f].name, len))
			return 0;
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
			 f ? ", " : "", feats[f].name);
	}
	snprintf(u->err, u->errlen, "CLOSETRACE_DISABLE: no feature is called '%.*s' (known: "
		 "%s)", (int)(len > 32 ? 32 : len), name, known);
	return -1;
}

int ct_features_check_env(char *err, size_t errlen)
{
	struct unknown u = { err, errlen };

	return each_disabled(unknown_name, &u);
}

int ct_probe_map_iter(void)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_ITER);
	struct btf *btf = btf__load_vmlinux_btf();
	int id, fd;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, "bpf_iter_bpf_map_elem", BTF_KIND_FUNC);
	btf__free(btf);
	if (id <= 0)
		return -ENOENT;
	o.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ct_probe_iter", "Dual BSD/GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &o);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int ct_probe_tcx(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t;
	int id, found = 0;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, "bpf_attach_type", BTF_KIND_ENUM);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (int i = 0; t && i < btf_vlen(t) && !found; i++)
		found = !strcmp(btf__name_by_offset(btf, btf_enum(t)[i].name_off),
				"BPF_TCX_INGRESS");
	btf__free(btf);
	return found;
}

int ct_probe_bpf_loop(void)
{
	int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_loop, NULL);

	return r < 0 ? r : r == 1;
}

/* --- native XDP: the driver's XDP features, from the kernel's netdev netlink family (6.3) -- */

#define CT_NETDEV_CMD_DEV_GET 1
#define CT_NETDEV_A_DEV_IFINDEX 1
#define CT_NETDEV_A_DEV_XDP_FEATURES 3
#define CT_NETDEV_XDP_ACT_BASIC 1ull

struct genl_req {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[64];
};

/* Append attribute @type with @len bytes of @data to @r. */
static void genl_put(struct genl_req *r, __u16 type, const void *data, __u16 len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = (__u16)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/*
 * Send @r on @fd and look for attribute @want (at least @len bytes) in the reply's
 * top-level attributes, copied to @out. 0, or -errno (the kernel's, or ENOENT).
 */
static int genl_ask(int fd, struct genl_req *r, __u16 want, void *out, size_t len)
{
	char buf[8192];
	ssize_t n;
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;

	if (send(fd, r, r->nh.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(nh, (size_t)n))
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		return e->error ? e->error : -ENOENT;
	}
	{
		const char *p = (const char *)NLMSG_DATA(nh) + GENL_HDRLEN;
		const char *end = (const char *)nh + nh->nlmsg_len;

		while (p + NLA_HDRLEN <= end) {
			const struct nlattr *a = (const struct nlattr *)p;

			if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
				break;
			if ((a->nla_type & NLA_TYPE_MASK) == want && a->nla_len >= NLA_HDRLEN + len) {
				memcpy(out, p + NLA_HDRLEN, len);
				return 0;
			}
			p += NLA_ALIGN(a->nla_len);
		}
	}
	return -ENOENT;
}

static void genl_start(struct genl_req *r, __u16 type, __u8 cmd)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST;
	r->gh.cmd = cmd;
	r->gh.version = 1;
}

int ct_probe_xdp_native(int ifindex)
{
	struct genl_req r;
	__u16 family;
	__u64 features;
	__u32 idx = (__u32)ifindex;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC), ret;

	if (fd < 0)
		return -errno;
	genl_start(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	genl_put(&r, CTRL_ATTR_FAMILY_NAME, "netdev", sizeof("netdev"));
	ret = genl_ask(fd, &r, CTRL_ATTR_FAMILY_ID, &family, sizeof(family));
	if (!ret) {
		genl_start(&r, family, CT_NETDEV_CMD_DEV_GET);
		genl_put(&r, CT_NETDEV_A_DEV_IFINDEX, &idx, sizeof(idx));
		ret = genl_ask(fd, &r, CT_NETDEV_A_DEV_XDP_FEATURES, &features, sizeof(features));
	}
	close(fd);
	if (ret)
		return ret;
	return !!(features & CT_NETDEV_XDP_ACT_BASIC);
}
