// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * resets.bpf.c - why this host sends a RST, and which RSTs its sockets take: the
 * tcp_send_reset and tcp_receive_reset tracepoints, attached as raw tracepoints (no tracefs
 * needed: they work under ip netns exec and in containers) that read the kernel's socket
 * and packet through CO-RE. Apart from the packet programs because CO-RE needs the
 * kernel's BTF: without it the packet programs still load, and only reasons are missing.
 * User space hands this object the packet programs' maps, so both work on one flow table.
 */
#include <linux/bpf.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"
#include "flow.h"

/* tcp_send_reset passes enum sk_rst_reason as its third argument (6.10+): set from BTF. */
const volatile __u8 cfg_reason_arg = 0;
/*
 * The watcher's network namespace (its inode number): the tracepoints fire for every
 * namespace, and another one may hold the same addresses and interface numbers. 0: any.
 */
const volatile __u32 cfg_netns = 0;

/*
 * The few kernel fields read here, by name: CO-RE finds them in the running kernel's
 * layout at load time. The ___ct suffix keeps these apart from the UAPI types; libbpf
 * ignores it when matching kernel types.
 */
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct ns_common___ct {
	unsigned int inum;
};

struct net___ct {
	struct ns_common___ct ns;
};

struct sock_common___ct {
	__u32 skc_daddr;		/* network order */
	__u32 skc_rcv_saddr;
	__u16 skc_dport;		/* network order */
	__u16 skc_num;			/* host order: the local port */
	unsigned short skc_family;
	unsigned char skc_state;
	struct {
		struct net___ct *net;
	} skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

/* full, request and timewait sockets all start with the common part */
struct sock___ct {
	struct sock_common___ct __sk_common;
};

/* a full socket's local port, kept when closing unbinds it (skc_num then reads 0) */
struct inet_sock___ct {
	__u16 inet_sport;		/* network order */
};

struct net_device___ct {
	struct {
		struct net___ct *net;
	} nd_net;
};

struct sk_buff___ct {
	struct net_device___ct *dev;
	unsigned char *head;
	__u16 network_header;
	__u16 transport_header;
};
#pragma clang attribute pop

/* sk_buff's header offsets when the header is not set */
#define CT_SKB_NO_HEADER 0xffff
/* the states of sockets that are not full ones (sk_fullsock()): timewait, request */
#define CT_TCP_TIME_WAIT 6
#define CT_TCP_NEW_SYN_RECV 12

/* The namespace of socket @sk, 0 when unknown (a kernel without namespaces). */
static __always_inline __u32 ct_sk_netns(const struct sock___ct *sk)
{
	if (!bpf_core_field_exists(struct sock_common___ct, skc_net))
		return 0;
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* The namespace of the device packet @skb arrived on, 0 when unknown. */
static __always_inline __u32 ct_skb_netns(const struct sk_buff___ct *skb)
{
	if (!bpf_core_field_exists(struct net_device___ct, nd_net))
		return 0;
	return BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
}

/* Someone else's namespace: not a flow of ours, whatever its addresses. */
static __always_inline int ct_foreign(__u32 ns)
{
	return cfg_netns && ns && ns != cfg_netns;
}

/*
 * The connection of socket @sk in state @state (local end first) into @k; 0, or -1 for
 * another family.
 */
static __always_inline int ct_key_from_sk(const struct sock___ct *sk, __u8 state,
					  struct ct_flow_key *k)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (state == CT_TCP_TIME_WAIT || state == CT_TCP_NEW_SYN_RECV)
		k->port[0] = BPF_CORE_READ(sk, __sk_common.skc_num);
	else
		k->port[0] = bpf_ntohs(BPF_CORE_READ((struct inet_sock___ct *)sk, inet_sport));
	k->port[1] = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == CT_AF_INET) {
		k->addr[0][2] = k->addr[1][2] = bpf_htonl(CT_V4MAPPED);
		k->addr[0][3] = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		k->addr[1][3] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		return 0;
	}
	/* IPv4 on an IPv6 socket is ::ffff:a.b.c.d here, as in flow keys */
	if (family == CT_AF_INET6 && bpf_core_field_exists(struct sock_common___ct, skc_v6_daddr)) {
		if (bpf_core_read(k->addr[0], sizeof(k->addr[0]),
				  &sk->__sk_common.skc_v6_rcv_saddr) ||
		    bpf_core_read(k->addr[1], sizeof(k->addr[1]), &sk->__sk_common.skc_v6_daddr))
			return -1;
		return 0;
	}
	return -1;
}

/*
 * The connection a RST answering packet @skb belongs to, local end first: the packet's
 * destination is this host. 0, or -1 when its headers cannot be read.
 */
static __always_inline int ct_key_from_skb(const struct sk_buff___ct *skb, struct ct_flow_key *k)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__u16 ports[2];
	__u8 version;

	if (!head || nh == CT_SKB_NO_HEADER || th == CT_SKB_NO_HEADER ||
	    bpf_probe_read_kernel(&version, 1, head + nh) ||
	    bpf_probe_read_kernel(ports, sizeof(ports), head + th))
		return -1;
	k->port[0] = bpf_ntohs(ports[1]);
	k->port[1] = bpf_ntohs(ports[0]);
	if (version >> 4 == 4) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return -1;
		k->addr[0][2] = k->addr[1][2] = bpf_htonl(CT_V4MAPPED);
		k->addr[0][3] = ip.daddr;
		k->addr[1][3] = ip.saddr;
		return 0;
	}
	if (version >> 4 == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return -1;
		__builtin_memcpy(k->addr[0], &ip6.daddr, 16);
		__builtin_memcpy(k->addr[1], &ip6.saddr, 16);
		return 0;
	}
	return -1;
}

/*
 * The flow of canonical key @k (ifvlan aside) on one of the watched interfaces, and that
 * interface's counters in *@c.
 */
static __always_inline struct ct_flow *ct_rr_flow(struct ct_flow_key *k, struct ct_counters **c)
{
	struct ct_flow *f = NULL;
	__u32 i;

	ct_key_canon(k);
	for (i = 0; i < CT_RR_IFACES && i < cfg.nifs; i++) {
		k->ifvlan = CT_IFVLAN(cfg.ifindex[i], 0);
		f = bpf_map_lookup_elem(&flows, k);
		if (f)
			break;
	}
	*c = f ? bpf_map_lookup_elem(&counters, &i) : NULL;
	return f;
}

/*
 * The flow's close event already left without what a tracepoint just told: send it
 * after, once (the caller changed the flow only the first time).
 */
static __always_inline void ct_amend(struct ct_flow *f, struct ct_flow_key *k,
				     struct ct_counters *c)
{
	if (!(f->state & CT_ST_ENDED) || f->close == CT_CLOSE_NONE || !c)
		return;
	ct_emit_event(f, k, CT_EV_AMEND, f->close, CT_BY_NONE, 0, 0, ct_now(), c->c);
}

/*
 * This host sends a RST: note why (and its socket's state) in the flow, before the RST
 * reaches tc egress, where the close is decided and its event leaves with the reason. The
 * first reason stays. Arguments: the socket (NULL when none: a port nobody listens on),
 * the packet answered (NULL for an active reset: abort, linger, keepalive...), and on
 * 6.10+ the reason.
 */
SEC("raw_tp/tcp_send_reset")
int ct_send_reset(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock___ct *sk = (const void *)ctx->args[0];
	const struct sk_buff___ct *skb = (const void *)ctx->args[1];
	struct ct_flow_key k = {};
	struct ct_counters *c;
	struct ct_flow *f;
	__u32 reason = 0;
	__u8 state = 0;
	int ret = -1;

	if (ct_foreign(sk ? ct_sk_netns(sk) : skb ? ct_skb_netns(skb) : 0))
		return 0;
	/*
	 * The packet answered gives the RST's own addresses; a socket may not (a listener's
	 * are wildcards). Its state is the socket's: a timewait or request socket has one too.
	 */
	if (sk)
		state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (skb)
		ret = ct_key_from_skb(skb, &k);
	if (ret && sk)
		ret = ct_key_from_sk(sk, state, &k);
	if (ret)
		return 0;
	/* read only where the argument exists: the kernel refuses to attach otherwise */
	if (cfg_reason_arg)
		reason = (__u32)ctx->args[2];
	f = ct_rr_flow(&k, &c);
	if (!f)
		return 0;
	/* every RST traced counts under its reason (tc counts them all); the flow keeps the
	 * first */
	if (c && cfg_reason_arg && reason < CT_RST_REASONS - 1)
		c->rst_sent[reason + 1]++;
	if (f->rst_reason)
		return 0;
	f->rst_state = state;
	f->rst_reason = cfg_reason_arg && reason < 255 ? (__u8)(reason + 1) : 0;
	/* an active reset (abort, linger, keepalive...) is traced after the RST left */
	ct_amend(f, &k, c);
	return 0;
}

/*
 * A local socket accepted a RST: traced after the RST passed tc ingress, where the close
 * was decided, so the close event waits for this (or for a short deadline) in user space.
 */
SEC("raw_tp/tcp_receive_reset")
int ct_receive_reset(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock___ct *sk = (const void *)ctx->args[0];
	struct ct_flow_key k = {};
	struct ct_counters *c;
	struct ct_flow *f;

	if (!sk || ct_foreign(ct_sk_netns(sk)) ||
	    ct_key_from_sk(sk, BPF_CORE_READ(sk, __sk_common.skc_state), &k))
		return 0;
	f = ct_rr_flow(&k, &c);
	if (!f || f->rst_accepted)
		return 0;
	f->rst_accepted = 1;
	ct_amend(f, &k, c);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
