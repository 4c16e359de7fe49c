// SPDX-License-Identifier: BSD-3-Clause
/*
 * reasons_btf.c - the reset tracepoints and reason names of the running kernel, from its
 * BTF: a tracepoint's arguments are those of its btf_trace_<name> function type, and the
 * reasons are enum sk_rst_reason's enumerators.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "reasons_btf.h"

/* The prototype of tracepoint @name (its first parameter is the probe's data), or NULL. */
static const struct btf_type *tp_proto(const struct btf *btf, const char *name)
{
	char tn[64];
	const struct btf_type *t;
	__s32 id;

	snprintf(tn, sizeof(tn), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, tn, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return NULL;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

int ct_reasons_from_btf(const struct btf *btf, struct ct_reasons *r)
{
	const struct btf_type *proto, *e = NULL;
	const struct btf_param *p;

	memset(r, 0, sizeof(*r));
	r->receive_reset = tp_proto(btf, "tcp_receive_reset") != NULL;
	proto = tp_proto(btf, "tcp_send_reset");
	if (!proto)
		return -1;
	r->send_reset = 1;
	/* (data, sk, skb, reason): the reason is there when the fourth is the enum */
	p = btf_params(proto);
	if (btf_vlen(proto) >= 4) {
		int id = btf__resolve_type(btf, p[3].type);

		e = id > 0 ? btf__type_by_id(btf, id) : NULL;
		if (e && (!btf_is_enum(e) ||
			  strcmp(btf__name_by_offset(btf, e->name_off), "sk_rst_reason")))
			e = NULL;
	}
	if (!e)
		return 0;
	r->reason_arg = 1;
	for (int i = 0; i < btf_vlen(e); i++) {
		const struct btf_enum *v = btf_enum(e) + i;

		ct_reasons_name(r, v->val, btf__name_by_offset(btf, v->name_off));
	}
	return 0;
}

int ct_reasons_probe(struct ct_reasons *r, char *err, size_t errlen)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int ret;

	memset(r, 0, sizeof(*r));
	if (!btf) {
		snprintf(err, errlen, "this kernel has no BTF (/sys/kernel/btf/vmlinux, "
			 "CONFIG_DEBUG_INFO_BTF): reset reasons show as -");
		return -1;
	}
	ret = ct_reasons_from_btf(btf, r);
	btf__free(btf);
	if (ret)
		snprintf(err, errlen, "this kernel has no tcp_send_reset tracepoint (before 4.15): "
			 "reset reasons show as -");
	return ret;
}
