// SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause)
/*
 * floor.bpf.c - the baselines of the benchmarks: programs that do nothing but pass, and
 * flow tables with nothing of closetrace's around them (the kernel's hash map, arrays of
 * slots): what the table itself costs a packet and a new flow.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "closetrace.h"

/* the slot array's size less one (a power of two), set by user space */
const volatile __u32 slot_mask = 0;
/* ... and the set array's (a quarter of the slots) */
const volatile __u32 set_mask = 0;

SEC("xdp")
int floor_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int floor_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

/* closetrace's key and value sizes (insert_xdp's map too) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct ct_flow_key);
	__type(value, struct ct_flow);
} table40 SEC(".maps");

/*
 * Insert the frame's first 40 bytes after Ethernet (IPv4 addresses and ports among them)
 * as a key, with a zeroed value: a hash-map insert of a new flow and nothing else.
 */
SEC("xdp")
int insert_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ct_flow_key k;
	struct ct_flow v = {};

	if (data + 14 + sizeof(k) > end)
		return XDP_PASS;
	__builtin_memcpy(&k, data + 14, sizeof(k));
	bpf_map_update_elem(&table40, &k, &v, BPF_NOEXIST);
	return XDP_PASS;
}

/*
 * The kernel hash map's share of the live path: a flow table that does only what any
 * per-flow tracker must, a lookup of the packet's flow (an insert when it is new) and a
 * count in its value, with closetrace's value and, as keys, closetrace's 40 bytes or the
 * 16 an IPv4-only table would need. User space sizes the table it uses and gives the
 * other one a single entry.
 */

/* an IPv4-only table's key (8-byte aligned: compared a word at a time) */
struct key16 {
	__u32 addr[2];
	__u16 port[2];
	__u32 ifvlan;
} __attribute__((aligned(8)));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct key16);
	__type(value, struct ct_flow);
} table16 SEC(".maps");

/*
 * Beside them, the best a table of our own could do: an array of slots (the key and the
 * value, 192 bytes each), the slot chosen by a multiplicative hash of the IPv4 fields,
 * one slot a packet: the key compared, the count made, or the slot taken over. No probing,
 * no locking: a bound, not a design. Mmapable, so that the kernel puts the values on a
 * page boundary (a plain array's begin 312 bytes into a header): every slot is then
 * cache-line aligned, as a table of our own would be.
 */
struct slot {
	struct ct_flow_key key;
	struct ct_flow val;
	__u8 pad[48];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

/*
 * ... and with the hot part of an IPv4 flow alone in a slot (its 16-byte key, the state,
 * the last packet's time, the counts: one cache line), the rest of the value elsewhere,
 * for control packets only.
 */
struct hotslot {
	struct key16 key;
	__u32 state;
	__u32 last_seen;
	__u64 pkts[2];
	__u64 bytes[2];
	__u8 pad[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct hotslot);
} hotslots SEC(".maps");

/*
 * ... and a table of our own as it could be built: sets of four such slots (256 bytes, four
 * lines), the set picked by the hash; a flow is looked for in its set's four slots, and a
 * new one claims the first empty slot with a compare-and-swap of its key's first word (or
 * takes over the set's first slot when all four are in use). Still no removal and no
 * lock beyond that claim: what a real design adds to the single line above.
 */
struct set {
	struct hotslot slot[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct set);
} sets SEC(".maps");

enum table_kind { T_HASH40, T_HASH16, T_SLOT, T_HOTSLOT, T_SET };

/* the frame's IPv4 flow as a 16-byte key; 0 if it is not IPv4 TCP */
static __always_inline int key_of(void *data, void *end, __u32 ifindex, struct key16 *k)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != 6)	/* IPPROTO_TCP */
		return 0;
	k->addr[0] = ip->saddr;
	k->addr[1] = ip->daddr;
	k->port[0] = bpf_ntohs(th->source);
	k->port[1] = bpf_ntohs(th->dest);
	k->ifvlan = CT_IFVLAN(ifindex, 0);
	return 1;
}

static __always_inline int same_words(const void *a, const void *b, int n)
{
	const __u64 *x = a, *y = b;

	for (int i = 0; i < n; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

/* @k as closetrace's 40-byte key: the addresses IPv4-mapped */
static __always_inline void wide_key(const struct key16 *k, struct ct_flow_key *w)
{
	w->addr[0][2] = w->addr[1][2] = bpf_htonl(CT_V4MAPPED);
	w->addr[0][3] = k->addr[0];
	w->addr[1][3] = k->addr[1];
	w->port[0] = k->port[0];
	w->port[1] = k->port[1];
	w->ifvlan = k->ifvlan;
}

/* the count a data packet makes in its flow's value: plain adds, as closetrace's */
static __always_inline void touch(__u32 *last_seen, __u64 *pkts, __u64 *bytes, __u32 len)
{
	*last_seen = (__u32)bpf_jiffies64();
	(*pkts)++;
	*bytes += len;
}

static __always_inline void table_run(void *data, void *end, __u32 ifindex, int kind)
{
	__u32 len = (__u32)(end - data), i;
	struct ct_flow_key w __attribute__((aligned(8))) = {};
	struct ct_flow *v, zero = {};
	struct hotslot *h;
	struct slot *sl;
	struct key16 k;
	void *map = &table16, *key = &k;

	if (!key_of(data, end, ifindex, &k))
		return;
	if (kind == T_HASH40 || kind == T_HASH16) {
		if (kind == T_HASH40) {
			wide_key(&k, &w);
			map = &table40;
			key = &w;
		}
		v = bpf_map_lookup_elem(map, key);
		if (v)
			touch(&v->last_seen, &v->pkts[0], &v->bytes[0], len);
		else
			bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
		return;
	}
	/* a multiplicative hash of the key's words picks the slot, or the set */
	i = (__u32)((((__u64)k.addr[0] * 0x9e3779b97f4a7c15ull) ^
		     ((__u64)k.addr[1] * 0xc2b2ae3d27d4eb4full) ^
		     ((__u64)*(__u32 *)k.port * 0x165667b19e3779f9ull)) >> 32);
	i &= kind == T_SET ? set_mask : slot_mask;
	if (kind == T_SET) {
		struct set *st;
		__u64 first = ((__u64 *)&k)[0];
		int j;

		st = bpf_map_lookup_elem(&sets, &i);
		if (!st)
			return;
#pragma unroll
		for (j = 0; j < 4; j++) {
			h = &st->slot[j];
			if (same_words(&h->key, &k, sizeof(k) / 8)) {
				touch(&h->last_seen, &h->pkts[0], &h->bytes[0], len);
				return;
			}
		}
#pragma unroll
		for (j = 0; j < 4; j++) {
			h = &st->slot[j];
			if (!((__u64 *)&h->key)[0] &&
			    !__sync_val_compare_and_swap((__u64 *)&h->key, 0, first))
				break;
		}
		if (j == 4)
			h = &st->slot[0];
		h->key = k;
		h->pkts[0] = h->bytes[0] = 0;
		touch(&h->last_seen, &h->pkts[0], &h->bytes[0], len);
		return;
	}
	if (kind == T_SLOT) {
		sl = bpf_map_lookup_elem(&slots, &i);
		if (!sl)
			return;
		wide_key(&k, &w);
		if (!same_words(&sl->key, &w, sizeof(w) / 8)) {
			sl->key = w;
			sl->val.pkts[0] = sl->val.bytes[0] = 0;
		}
		touch(&sl->val.last_seen, &sl->val.pkts[0], &sl->val.bytes[0], len);
	} else {
		h = bpf_map_lookup_elem(&hotslots, &i);
		if (!h)
			return;
		if (!same_words(&h->key, &k, sizeof(k) / 8)) {
			h->key = k;
			h->pkts[0] = h->bytes[0] = 0;
		}
		touch(&h->last_seen, &h->pkts[0], &h->bytes[0], len);
	}
}

#define TABLE_PROGS(name, kind)								\
	SEC("xdp") int name##_xdp(struct xdp_md *ctx)					\
	{										\
		table_run((void *)(long)ctx->data, (void *)(long)ctx->data_end,		\
			  ctx->ingress_ifindex, kind);					\
		return XDP_PASS;							\
	}										\
	SEC("tc") int name##_tc(struct __sk_buff *skb)					\
	{										\
		table_run((void *)(long)skb->data, (void *)(long)skb->data_end,		\
			  skb->ifindex, kind);						\
		return TC_ACT_UNSPEC;							\
	}

TABLE_PROGS(table40, T_HASH40)
TABLE_PROGS(table16, T_HASH16)
TABLE_PROGS(slots, T_SLOT)
TABLE_PROGS(hotslots, T_HOTSLOT)
TABLE_PROGS(sets, T_SET)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
