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

#include <linux/bpf.h>
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
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_loop, NULL) == 1;
}
