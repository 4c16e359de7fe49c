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
/* the owners of sockets: learnt (ct_sock_state, ct_retransmit) and put into flows */
const volatile __u8 cfg_owners = 0;

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
	struct {
		__s64 counter;
	} skc_cookie;			/* 0 until something asked for the socket's cookie */
};

/* full, request and timewait sockets all start with the common part */
struct sock___ct {
	struct sock_common___ct __sk_common;
};

struct kernfs_node___ct {
	__u64 id;			/* a cgroup's id: its directory's inode */
};

struct cgroup___ct {
	struct kernfs_node___ct *kn;
};

/* what only a full socket has */
struct sock___own {
	struct sock_common___ct __sk_common;
	struct {
		int owned;		/* a process holds the socket (lock_sock) */
	} sk_lock;
	__u16 sk_protocol;
	struct {
		struct cgroup___ct *cgroup;	/* cgroup v2, set when the socket is made */
	} sk_cgrp_data;
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
/* the other TCP states the owner code tells apart (include/net/tcp_states.h) */
#define CT_TCP_SYN_SENT 2
#define CT_TCP_SYN_RECV 3
#define CT_TCP_FIN_WAIT1 4
#define CT_TCP_CLOSE 7
#define CT_TCP_LAST_ACK 9
#define CT_TCP_LISTEN 10
#define CT_IPPROTO_TCP 6

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
 * The flow of key @k (local end first; made canonical, ifvlan aside) on one of the watched
 * interfaces, that interface's counters in *@c, and the local end's endpoint in *@lep.
 */
static __always_inline struct ct_flow *ct_rr_flow(struct ct_flow_key *k, struct ct_counters **c,
					      int *lep)
{
	struct ct_flow *f = NULL;
	__u32 i;

	/* the local end was first: where it went */
	*lep = ct_key_canon(k) & 1;
	for (i = 0; i < CT_RR_IFACES && i < cfg.nifs; i++) {
		k->ifvlan = CT_IFVLAN(if_index[i], 0);
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
 * The owners of sockets. A process is named only where the kernel runs in one that holds
 * the socket (lock_sock: connect, listen, close, shutdown, or the socket's backlog worked
 * off as its holder lets it go), never in softirq, where the task at hand is whichever
 * one was interrupted. What was learnt is kept per socket, by its address, from connect
 * or from the handshake's end until the socket closes, and copied into the socket's flow
 * on each of its state changes, its resets and a SYN it sends again.
 */
#define CT_SOCKS_MAX 65536
/* ports whose listeners are remembered, the least recently used forgotten first */
#define CT_LISTENERS_MAX 4096

struct ct_sock_owner {
	struct ct_owner own;
	__u8 flags;			/* CT_OWN_PID, CT_OWN_ACCEPTED, CT_OWN_CLOSER */
	__u8 pad[7];
};

struct ct_listener {
	struct ct_owner own;		/* of the port's newest listening socket */
	__u64 closed_ns;		/* when its last listening socket closed (ct_now()), 0 */
	__s32 open;			/* listening sockets on the port now */
	__u8 flags;			/* CT_OWN_PID */
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_SOCKS_MAX);
	__type(key, __u64);		/* the socket's address */
	__type(value, struct ct_sock_owner);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_LISTENERS_MAX);
	__type(key, __u32);		/* the port */
	__type(value, struct ct_listener);
} listeners SEC(".maps");

/* The cgroup v2 id of full socket @sk: the cgroup of the process that made it. */
static __always_inline __u64 ct_sk_cgroup(const struct sock___own *sk)
{
	if (!bpf_core_field_exists(struct sock___own, sk_cgrp_data))
		return 0;
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

/* The process the kernel runs in, into @o, if it holds full socket @sk: 1; else 0. */
static __always_inline int ct_sk_holder(const struct sock___own *sk, struct ct_owner *o)
{
	if (!BPF_CORE_READ(sk, sk_lock.owned))
		return 0;
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	return 1;
}

static __always_inline void ct_own_count_full(void)
{
	__u32 slot = 0;
	struct ct_counters *c = bpf_map_lookup_elem(&counters, &slot);

	if (c)
		c->c[CT_C_OWNER_FULL]++;
}

/*
 * What is known of the owner of the socket at endpoint @lep into flow @f (the tc
 * programs may have set its cgroup and cookie already). When both ends are this host's,
 * the server's socket names the flow.
 */
static __always_inline void ct_own_merge(struct ct_flow *f, const struct ct_sock_owner *so,
					 int lep)
{
	int cur = !!(f->own_flags & CT_OWN_EP_HI);

	if (f->own_flags & CT_OWN_NOSOCK)
		return;
	if ((f->own.cgroup || f->own_flags) && cur != lep) {
		if (!(f->state & CT_ST_ROLE) || ct_client_ep(f->state) == lep)
			return;
		__builtin_memset(&f->own, 0, sizeof(f->own));
		f->own_flags = 0;
	}
	f->own_flags |= lep ? CT_OWN_EP_HI : 0;
	if (so->own.cgroup)
		f->own.cgroup = so->own.cgroup;
	if (so->own.cookie && !f->own.cookie)
		f->own.cookie = so->own.cookie;
	if (so->flags & CT_OWN_PID) {
		f->own.pid = so->own.pid;
		__builtin_memcpy(f->own.comm, so->own.comm, sizeof(f->own.comm));
		f->own_flags = so->flags | (lep ? CT_OWN_EP_HI : 0);
	}
}

/*
 * The owner of full socket @sk, as far as it is known, into @so: the socket table's (what
 * @so held is then replaced), else what @so held and what the socket itself tells (its
 * cgroup, its cookie, the process holding it). Returns whether the table knew it.
 */
static __always_inline int ct_sk_owner(const struct sock___own *sk, struct ct_sock_owner *so)
{
	__u64 key = (__u64)(unsigned long)sk;
	struct ct_sock_owner *cur = bpf_map_lookup_elem(&socks, &key);

	if (cur)
		*so = *cur;
	if (!so->own.cgroup)
		so->own.cgroup = ct_sk_cgroup(sk);
	if (!so->own.cookie)
		so->own.cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!(so->flags & CT_OWN_PID) && ct_sk_holder(sk, &so->own))
		so->flags = CT_OWN_PID;
	return cur != NULL;
}

/* A listening socket opens (@up) or closes on its port. */
static __always_inline void ct_listen(const struct sock___own *sk, int up)
{
	struct ct_listener nl = {}, *l;
	struct ct_owner h = {};
	int held = ct_sk_holder(sk, &h);
	__u32 port;

	/* listen() traces its state before it sets inet_sport; closing unbinds skc_num first */
	if (up)
		port = BPF_CORE_READ(&sk->__sk_common, skc_num);
	else
		port = bpf_ntohs(BPF_CORE_READ((struct inet_sock___ct *)sk, inet_sport));
	if (!port)
		return;
	l = bpf_map_lookup_elem(&listeners, &port);
	if (!l) {
		/* a listener older than this session closes: its closer tells who it was */
		nl.own = h;
		nl.own.cgroup = ct_sk_cgroup(sk);
		nl.flags = held ? CT_OWN_PID : 0;
		nl.open = up;
		nl.closed_ns = up ? 0 : ct_now();
		bpf_map_update_elem(&listeners, &port, &nl, BPF_ANY);
		return;
	}
	if (up) {
		__sync_fetch_and_add(&l->open, 1);
		l->closed_ns = 0;
		l->own.cgroup = ct_sk_cgroup(sk);
		if (held) {
			l->own.pid = h.pid;
			__builtin_memcpy(l->own.comm, h.comm, sizeof(h.comm));
			l->flags = CT_OWN_PID;
		}
		return;
	}
	if (l->open > 0)
		__sync_fetch_and_add(&l->open, -1);
	l->closed_ns = ct_now();
}

/*
 * A TCP socket changes state: learn its owner, keep it, and copy it into its flow. A
 * connecting socket has no local port yet, an accepted one no addresses: their flows are
 * found from the next state on.
 */
SEC("raw_tp/inet_sock_set_state")
int ct_sock_state(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock___own *sk = (const void *)ctx->args[0];
	int old = (int)ctx->args[1], new = (int)ctx->args[2];
	__u64 key = (__u64)(unsigned long)sk;
	struct ct_sock_owner so = {};
	struct ct_owner h = {};
	struct ct_flow_key k = {};
	struct ct_counters *c;
	struct ct_flow *f;
	int known, lep;

	if (!sk || BPF_CORE_READ(sk, sk_protocol) != CT_IPPROTO_TCP ||
	    ct_foreign(ct_sk_netns((const void *)sk)))
		return 0;
	/* (an accepted socket starts as a copy of its listener: LISTEN to SYN_RECV) */
	if (new == CT_TCP_LISTEN || (old == CT_TCP_LISTEN && new == CT_TCP_CLOSE)) {
		ct_listen(sk, new == CT_TCP_LISTEN);
		return 0;
	}
	if (new == CT_TCP_SYN_RECV) {
		/* an accepted socket, made in softirq: its listener's owner, by port (unless
		 * the socket table knows it already: ct_sk_owner() then replaces this) */
		__u32 port = BPF_CORE_READ(&sk->__sk_common, skc_num);
		struct ct_listener *l = bpf_map_lookup_elem(&listeners, &port);

		if (l && (l->flags & CT_OWN_PID)) {
			so.own.pid = l->own.pid;
			__builtin_memcpy(so.own.comm, l->own.comm, sizeof(so.own.comm));
			so.flags = CT_OWN_PID | CT_OWN_ACCEPTED;
		}
	}
	known = ct_sk_owner(sk, &so);
	/*
	 * close and shutdown run in the process that ends the socket, which may be another
	 * than the one that connected or listened (a child after fork). So does an abort
	 * (close with unread data, SO_LINGER 0), but a RST that came while the process held
	 * the socket is taken in its context too: that one is only "a process that held it".
	 */
	if ((new == CT_TCP_FIN_WAIT1 || new == CT_TCP_LAST_ACK || new == CT_TCP_CLOSE) &&
	    ct_sk_holder(sk, &h) && (h.pid != so.own.pid || !(so.flags & CT_OWN_PID))) {
		so.own.pid = h.pid;
		__builtin_memcpy(so.own.comm, h.comm, sizeof(h.comm));
		so.flags = (so.flags & CT_OWN_PID) && new != CT_TCP_CLOSE ?
			   CT_OWN_PID | CT_OWN_CLOSER : CT_OWN_PID;
	}
	if (new == CT_TCP_CLOSE) {
		if (known)
			bpf_map_delete_elem(&socks, &key);
	} else if (bpf_map_update_elem(&socks, &key, &so, BPF_ANY) == -CT_E2BIG) {
		ct_own_count_full();
	}
	if (new == CT_TCP_SYN_SENT || new == CT_TCP_SYN_RECV ||
	    ct_key_from_sk((const void *)sk, (__u8)new, &k))
		return 0;
	f = ct_rr_flow(&k, &c, &lep);
	if (f)
		ct_own_merge(f, &so, lep);
	return 0;
}

/*
 * A SYN sent again: a connecting socket's flow, unanswered so far, gets its owner (its
 * local port was not known when it connected).
 */
SEC("raw_tp/tcp_retransmit_skb")
int ct_retransmit(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock___own *sk = (const void *)ctx->args[0];
	struct ct_sock_owner so = {};
	struct ct_flow_key k = {};
	struct ct_counters *c;
	struct ct_flow *f;
	int lep;

	if (!sk || BPF_CORE_READ(&sk->__sk_common, skc_state) != CT_TCP_SYN_SENT ||
	    ct_foreign(ct_sk_netns((const void *)sk)) ||
	    ct_key_from_sk((const void *)sk, CT_TCP_SYN_SENT, &k))
		return 0;
	f = ct_rr_flow(&k, &c, &lep);
	if (!f || (f->own_flags & CT_OWN_PID))
		return 0;
	ct_sk_owner(sk, &so);
	ct_own_merge(f, &so, lep);
	return 0;
}

/*
 * This host answers with no socket (a SYN to a port nobody listens on, a segment for no
 * connection): the port's listener, if one was seen, goes into the flow instead.
 */
static __always_inline void ct_own_nosock(struct ct_flow *f, __u32 port)
{
	struct ct_listener *l = bpf_map_lookup_elem(&listeners, &port);
	__u8 fl = CT_OWN_NOSOCK;

	/* a local client's socket, seen as its SYN left, is not who refused */
	__builtin_memset(&f->own, 0, sizeof(f->own));
	if (l) {
		f->own = l->own;
		f->own.cookie = 0;
		f->own.closed_ms = 0;
		fl |= CT_OWN_LISTENER | (l->flags & CT_OWN_PID);
		if (l->open > 0 || !l->closed_ns) {
			fl |= CT_OWN_LISTENING;
		} else {
			__u64 ms = (ct_now() - l->closed_ns) / 1000000;

			f->own.closed_ms = ms ? (ms < 0xffffffffull ? (__u32)ms : 0xffffffffu) : 1;
		}
	}
	f->own_flags = fl;
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
	__u32 reason = 0, lport;
	__u8 state = 0;
	int ret = -1, lep;

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
	lport = k.port[0];
	f = ct_rr_flow(&k, &c, &lep);
	if (!f)
		return 0;
	if (cfg_owners && !sk && !(f->own_flags & CT_OWN_NOSOCK))
		ct_own_nosock(f, lport);
	else if (cfg_owners && sk && state != CT_TCP_TIME_WAIT && state != CT_TCP_NEW_SYN_RECV &&
		 !(f->own_flags & CT_OWN_PID)) {
		struct ct_sock_owner so = {};

		ct_sk_owner((const void *)sk, &so);
		ct_own_merge(f, &so, lep);
	}
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
	int lep;

	if (!sk || ct_foreign(ct_sk_netns(sk)) ||
	    ct_key_from_sk(sk, BPF_CORE_READ(sk, __sk_common.skc_state), &k))
		return 0;
	f = ct_rr_flow(&k, &c, &lep);
	if (!f || f->rst_accepted)
		return 0;
	if (cfg_owners) {
		struct ct_sock_owner so = {};

		ct_sk_owner((const void *)sk, &so);
		ct_own_merge(f, &so, lep);
	}
	f->rst_accepted = 1;
	ct_amend(f, &k, c);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
