/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow.h - what one parsed TCP segment does to its flow: find or create the entry, count
 * it, record Zeek letters, learn the roles, decide the close and emit the event exactly
 * once. Plain data packets take a short path (counts and a jiffies last-seen); control
 * packets and the few packets the classification needs take the full one.
 */
#ifndef CT_FLOW_H
#define CT_FLOW_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "closetrace.h"
#include "ct_logic.h"
#include "maps.h"
#include "parse.h"

#ifndef BPF_NOEXIST
#define BPF_NOEXIST 1
#endif

static __always_inline __u64 ct_now(void)
{
	return cfg.user_clock ? user_clock_ns : bpf_ktime_get_ns();
}

/*
 * last-seen is read on every packet and needs tick precision at most: jiffies are the
 * cheapest clock there is (a load, where the coarse clock is a helper doing seqlock work).
 */
static __always_inline __u32 ct_now_last(void)
{
	return cfg.user_clock ? user_clock_tick : (__u32)bpf_jiffies64();
}

static __always_inline void ct_count(__u64 *cnt, __u32 idx)
{
	if (idx < CT_C_MAX)
		cnt[idx]++;
}

/*
 * How many candidates one eviction looks at: embryonic ring slots (most are stale, flows
 * established or gone since: each is passed over once, ever), established samples.
 */
#define CT_EVICT_EMB_TRIES 4096
#define CT_EVICT_EST_SAMPLES 8

struct ct_evict {
	struct ct_flow_key key;	/* the flow removed, or the idlest established one so far */
	__u32 now;		/* last_seen ticks */
	__u32 idle;		/* the idlest one's quiet ticks */
	int found;
	int none_left;		/* the embryonic ring has no candidate left */
};

/* Note @k in ring @ring (at position head++). */
static __always_inline void ct_ring_push(void *ring, struct ct_ring_pos *pos,
					 const struct ct_flow_key *k)
{
	__u32 slot = (__u32)__sync_fetch_and_add(&pos->head, 1) & cfg.ring_mask;
	struct ct_flow_key *dst = bpf_map_lookup_elem(ring, &slot);

	if (dst)
		*dst = *k;
}

/*
 * One step of an embryonic eviction: take the oldest candidate off the ring and remove
 * its flow if it is still there and still embryonic (flows established since, or gone,
 * are passed over). Stops the loop once a flow went, or no candidate is left.
 */
static long ct_evict_emb_step(__u32 i, void *data)
{
	struct ct_evict *x = data;
	__u64 head = emb_pos.head, tail = emb_pos.tail, size = (__u64)cfg.ring_mask + 1;
	struct ct_flow_key *slot_key;
	struct ct_flow *f;
	__u32 slot;

	if (tail >= head) {
		x->none_left = 1;
		return 1;
	}
	if (head - tail > size) {	/* overwritten since: from the oldest still there */
		__sync_val_compare_and_swap(&emb_pos.tail, tail, head - size);
		return 0;
	}
	if (__sync_val_compare_and_swap(&emb_pos.tail, tail, tail + 1) != tail)
		return 0;	/* another CPU took this one */
	slot = (__u32)tail & cfg.ring_mask;
	slot_key = bpf_map_lookup_elem(&emb_ring, &slot);
	if (!slot_key)
		return 0;
	x->key = *slot_key;
	f = bpf_map_lookup_elem(&flows, &x->key);
	if (!f || (f->state & CT_ST_ASSURED) || bpf_map_delete_elem(&flows, &x->key))
		return 0;
	x->found = 1;
	return 1;
}

/* One sample of an established eviction: the clock hand's next slot, if it is idler. */
static long ct_evict_est_step(__u32 i, void *data)
{
	struct ct_evict *x = data;
	__u64 head = est_pos.head, n;
	struct ct_flow_key *slot_key;
	struct ct_flow *f;
	__u32 slot, idle;

	if (!head)
		return 1;
	n = __sync_fetch_and_add(&est_pos.tail, 1);
	/* until the ring has gone round once, only [0, head) holds keys */
	slot = (__u32)(head <= cfg.ring_mask ? n % head : n) & cfg.ring_mask;
	slot_key = bpf_map_lookup_elem(&est_ring, &slot);
	if (!slot_key)
		return 0;
	f = bpf_map_lookup_elem(&flows, slot_key);
	if (!f || !(f->state & CT_ST_ASSURED))
		return 0;
	idle = x->now - f->last_seen;
	if (!x->found || idle > x->idle) {
		x->key = *slot_key;
		x->idle = idle;
		x->found = 1;
	}
	return 0;
}

/* Count a removal in the counters of the removed flow's interface. */
static __always_inline void ct_count_evicted(const struct ct_flow_key *k, __u32 idx);

/*
 * The table is full: remove one flow. The oldest embryonic flow goes; only when none is
 * left, the idlest of a few established ones. 0 when one went (counted), else -1: the
 * candidates looked at were all stale, or the table holds nothing to evict.
 */
static __always_inline int ct_make_room(void)
{
	struct ct_evict x = {};

	bpf_loop(CT_EVICT_EMB_TRIES, ct_evict_emb_step, &x, 0);
	if (x.found) {
		ct_count_evicted(&x.key, CT_C_EVICT_EMB);
		return 0;
	}
	if (!x.none_left)
		return -1;
	x.now = ct_now_last();
	bpf_loop(CT_EVICT_EST_SAMPLES, ct_evict_est_step, &x, 0);
	if (!x.found || bpf_map_delete_elem(&flows, &x.key))
		return -1;
	ct_count_evicted(&x.key, CT_C_EVICT_EST);
	return 0;
}

/*
 * Create (or, with @replace, restart) the entry of a flow; NULL when it cannot be. A full
 * table makes room first (ct_make_room); a new entry is embryonic, so its key goes on
 * the embryonic ring.
 */
static __always_inline struct ct_flow *ct_flow_new(struct ct_pkt *p, int ep, __u64 *cnt,
						   int replace)
{
	__u64 flags = replace ? BPF_ANY : BPF_NOEXIST;
	__u32 zero = 0;
	struct ct_flow *nf = bpf_map_lookup_elem(&new_flow, &zero);
	long err;

	if (!nf)
		return NULL;
	__builtin_memset(nf, 0, sizeof(*nf));
	nf->first_ns = ct_now();
	nf->last_seen = ct_now_last();
	nf->state = ct_initial_state(ep, p->flags, p->sport, p->dport);
	if (p->key.tun_type) {
		/* the sender's outer source is its endpoint's (a map value takes a variable
		 * index, where the stack did not) */
		__builtin_memcpy(nf->outer[ep & 1], p->outer[0], 16);
		__builtin_memcpy(nf->outer[!ep], p->outer[1], 16);
		nf->tun_id[ep & 1] = p->tun_id;
	}
	err = bpf_map_update_elem(&flows, &p->key, nf, flags);
	if (err == -CT_E2BIG && !ct_make_room())
		err = bpf_map_update_elem(&flows, &p->key, nf, flags);
	if (err == 0) {
		ct_count(cnt, CT_C_FLOWS);
		ct_ring_push(&emb_ring, &emb_pos, &p->key);
	} else if (err != -CT_EEXIST) {	/* another CPU created it first */
		ct_count(cnt, CT_C_FLOW_FAIL);
		return NULL;
	}
	return bpf_map_lookup_elem(&flows, &p->key);
}

/*
 * Record a letter. The atomic OR hands each (letter, endpoint) to exactly one packet, and
 * its return value, the letters before it, is that letter's position in the history.
 * A letter already set needs no atomic: a plain read says so. Returns the state before.
 * (No per-path bookkeeping here: every distinct value on the stack is a path the
 * verifier cannot merge.)
 */
static __always_inline __u32 ct_letter(struct ct_flow *f, int ep, int l)
{
	__u32 bit = CT_ST_LETTER(ep, l);
	__u32 old = f->state;

	if (old & bit)
		return old;
	old = __sync_fetch_and_or(&f->state, bit);
	if (!(old & bit))
		__sync_fetch_and_or(&f->history,
				    ct_hist_code(ep, l) << ((ct_letter_count(old) & 15) * 4));
	return old;
}

/*
 * The first SYN or SYN-ACK fixes the roles. Compare-and-swap on the whole state word, so
 * that two CPUs disagreeing (simultaneous open) cannot leave a mix; a few retries cover
 * other bits changing under us.
 */
static __always_inline void ct_set_role(struct ct_flow *f, int client)
{
	__u32 old, want;

	for (int i = 0; i < 4; i++) {
		old = f->state;
		if (old & CT_ST_ROLE)
			return;
		want = (old & ~CT_ST_CLIENT_HI) | CT_ST_ROLE |
		       (client == CT_EP_HI ? CT_ST_CLIENT_HI : 0);
		if (__sync_val_compare_and_swap(&f->state, old, want) == old)
			return;
	}
}

/*
 * Wake the reader once cfg.wakeup_bytes wait, and only once: not again before it has read
 * something (it reads all there is before it sleeps again, so a wake at a consumer
 * position it has since left is never the one it needs). A wake is an inter-processor
 * interrupt, which in a VM is an exit: waking on every event past the mark, while the
 * reader had yet to run, cost a busy host 9 % of its CPU in connection churn. Two CPUs at
 * the mark at once may both wake it: harmless.
 */
static __always_inline __u64 ct_wakeup_flags(void)
{
	__u64 cons;

	if (!cfg.wakeup_bytes)
		return 0;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < cfg.wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	cons = bpf_ringbuf_query(&events, BPF_RB_CONS_POS) + 1;
	if (cons == wake_cons)
		return BPF_RB_NO_WAKEUP;
	wake_cons = cons;
	return BPF_RB_FORCE_WAKEUP;
}

/* An event's fields before the flow. */
static __always_inline void ct_event_head(struct ct_event *e, const struct ct_flow_key *key,
					  __u8 type, __u8 kind, __u8 rst_by, int client_ep,
					  __u8 evflags, __u64 now)
{
	e->ts_ns = now;
	e->key = *key;
	e->close = kind;
	e->rst_by = rst_by;
	e->client_ep = client_ep;
	e->type = type;
	e->evflags = evflags;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
}

/*
 * One ring-buffer record about flow @f of key @key; a full ring buffer is counted. Outside
 * tunnels the record stops before the flow's tunnel part (CT_EVENT_PLAIN_SIZE): two
 * reservations of constant size, as the verifier wants them.
 */
static __always_inline void ct_emit_event(struct ct_flow *f, const struct ct_flow_key *key,
					  __u8 type, __u8 kind, __u8 rst_by, int client_ep,
					  __u8 evflags, __u64 now, __u64 *cnt)
{
	struct ct_event *e;

	if (key->tun_type) {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			ct_count(cnt, CT_C_RB_FAIL);
			return;
		}
		ct_event_head(e, key, type, kind, rst_by, client_ep, evflags, now);
		e->flow = *f;
	} else {
		e = bpf_ringbuf_reserve(&events, CT_EVENT_PLAIN_SIZE, 0);
		if (!e) {
			ct_count(cnt, CT_C_RB_FAIL);
			return;
		}
		ct_event_head(e, key, type, kind, rst_by, client_ep, evflags, now);
		__builtin_memcpy(&e->flow, f, __builtin_offsetof(struct ct_flow, outer));
	}
	bpf_ringbuf_submit(e, ct_wakeup_flags());
}

static __always_inline void ct_emit(struct ct_flow *f, struct ct_pkt *p, __u8 type,
				    __u8 kind, __u8 rst_by, int client_ep, __u64 now, __u64 *cnt)
{
	/*
	 * A RST decided it, and a reset tracepoint has more to tell: why this host sent it
	 * (traced after the packet left), or whether a local socket took the peer's (traced
	 * after tc ingress). User space waits for the CT_EV_AMEND that says so.
	 */
	__u8 evflags = !(p->flags & CT_TH_RST) ? 0 :
		       p->local ? (f->rst_reason ? 0 : CT_EVF_LOCAL_RST) :
		       f->rst_accepted ? 0 : CT_EVF_RX_RST;

	ct_emit_event(f, &p->key, type, kind, rst_by, client_ep, evflags, now, cnt);
}

/*
 * Whether one more close of a storm kind may go out as an event: at most cfg.storm_rate
 * in each one-second window (windows by the kernel clock; replay's is the capture's).
 */
static __always_inline int ct_storm_admit(__u64 now)
{
	__u64 win = now / 1000000000ull, seen = storm_win_start;

	if (win != seen && __sync_val_compare_and_swap(&storm_win_start, seen, win) == seen)
		__sync_lock_test_and_set(&storm_win_count, 0);
	return __sync_fetch_and_add(&storm_win_count, 1) < cfg.storm_rate;
}

/* Count the close of @f in the storm summary of its server, port and kind. */
static __always_inline void ct_storm_count(struct ct_flow *f, const struct ct_flow_key *k,
					   __u8 kind, __u8 by, __u64 now, __u64 *cnt)
{
	struct ct_storm_key sk = {};
	struct ct_storm_val nv = { .count = 1, .first_ns = now, .last_ns = now }, *v;
	int srv = !ct_client_ep(f->state);

	__sync_fetch_and_or(&f->state, CT_ST_SUMMARY);
	ct_count(cnt, CT_C_SUMMARISED);
	/* constant indices: the verifier refuses arithmetic on a stack pointer's bits */
	if (srv == CT_EP_HI) {
		__builtin_memcpy(sk.addr, k->addr[CT_EP_HI], sizeof(sk.addr));
		sk.port = k->port[CT_EP_HI];
	} else {
		__builtin_memcpy(sk.addr, k->addr[CT_EP_LO], sizeof(sk.addr));
		sk.port = k->port[CT_EP_LO];
	}
	sk.ifvlan = k->ifvlan;
	sk.tun_id = k->tun_id;
	sk.tun_type = k->tun_type;
	sk.close = kind;
	sk.epoch = (__u8)(storm_epoch % CT_STORM_EPOCHS | by << 4);
	v = bpf_map_lookup_elem(&storm, &sk);
	if (!v) {
		if (!bpf_map_update_elem(&storm, &sk, &nv, BPF_NOEXIST))
			return;
		v = bpf_map_lookup_elem(&storm, &sk);	/* another program made it */
		if (!v) {
			ct_count(cnt, CT_C_STORM_FULL);	/* no room: summarised unkeyed */
			return;
		}
	}
	v->count++;
	v->last_ns = now;
}

/*
 * Mark the flow ended with @kind; the one packet that does so counts and reports it.
 * CT_ST_ENDED becomes visible before close and end_ns are written: the scanner leaves an
 * ended flow whose close is still CT_CLOSE_NONE for its next pass. Orphan RSTs past the
 * storm rate are summarised instead of reported one by one.
 */
static __always_inline void ct_end(struct ct_flow *f, struct ct_pkt *p, int ep, __u8 kind,
				   __u64 *cnt)
{
	__u32 old = __sync_fetch_and_or(&f->state, CT_ST_ENDED);
	__u64 now;

	if (old & CT_ST_ENDED)
		return;
	now = ct_now();
	f->end_ns = now;
	f->close = kind;
	ct_count(cnt, CT_C_CLOSE_BASE + kind);
	if (kind == CT_CLOSE_GRACEFUL && !cfg.emit_graceful)
		return;
	if (kind == CT_CLOSE_ORPHAN_RST && cfg.storm_rate && !ct_storm_admit(now)) {
		ct_storm_count(f, &p->key, kind, ct_rst_by(old, kind, ep), now, cnt);
		return;
	}
	ct_emit(f, p, CT_EV_CLOSE, kind, ct_rst_by(old, kind, ep), ct_client_ep(old), now, cnt);
}

/*
 * The handshake is settled once the client sends something other than a SYN (it either
 * answers a SYN-ACK, completing the handshake, or we missed it), or, when we never saw
 * the client's SYN, once the server sends something other than a SYN-ACK.
 */
static __always_inline void ct_handshake(struct ct_flow *f, int ep, __u8 fl, __u64 *cnt)
{
	__u32 st = f->state, old;
	int clt = ct_client_ep(st);

	if (fl & (CT_TH_SYN | CT_TH_RST))
		return;
	if (ep == clt) {
		if ((fl & CT_TH_ACK) && ct_has(st, !clt, CT_L_SYNACK)) {
			old = __sync_fetch_and_or(&f->state, CT_ST_CT | CT_ST_HS_DONE);
			if (!(old & CT_ST_CT))
				ct_count(cnt, CT_C_HANDSHAKES);
			return;
		}
		__sync_fetch_and_or(&f->state, CT_ST_HS_DONE);
	} else if (!ct_has(st, clt, CT_L_SYN)) {
		__sync_fetch_and_or(&f->state, CT_ST_HS_DONE);
	}
}

/* The full path: SYN, SYN-ACK, FIN, RST, and the first ACK / data of each side. */
static __always_inline void ct_control(struct ct_flow *f, struct ct_pkt *p, int ep, __u64 *cnt)
{
	__u8 fl = p->flags;
	__u32 st0 = f->state, old;
	int clt;

	if ((fl & (CT_TH_SYN | CT_TH_ACK | CT_TH_RST | CT_TH_FIN)) == CT_TH_SYN &&
	    (st0 & CT_ST_ENDED)) {
		/*
		 * A bare SYN on a 5-tuple whose flow has ended starts a new flow. The old
		 * one's final state (later RSTs included) goes to user space first.
		 */
		/* a summarised close has no final state of its own either */
		if (!(st0 & CT_ST_SUMMARY))
			ct_emit(f, p, CT_EV_REPLACED, f->close, CT_BY_NONE, ct_client_ep(st0),
				ct_now(), cnt);
		ct_count(cnt, CT_C_RESTARTS);
		f = ct_flow_new(p, ep, cnt, 1);
		if (!f)
			return;
		st0 = f->state;
	}

	f->pkts[ep]++;
	f->bytes[ep] += p->payload;
	f->last_seen = ct_now_last();
	/* the other side's first packet in a tunnel: its id (a TEID of its own) */
	if (p->key.tun_type && !f->tun_id[ep])
		f->tun_id[ep] = p->tun_id;

	if (fl & CT_TH_SYN) {
		/* how far the endpoint is: a RST from elsewhere on the path differs */
		if (!f->ttl[ep])
			f->ttl[ep] = p->ttl;
		if (fl & CT_TH_ACK) {
			__sync_fetch_and_add(&f->synack[ep], 1);
			ct_set_role(f, !ep);
			clt = ct_client_ep(f->state);
			ct_count(cnt, ep == clt ? CT_C_SYNACK_CLT : CT_C_SYNACK_SRV);
			ct_letter(f, ep, CT_L_SYNACK);
		} else {
			__sync_fetch_and_add(&f->syn[ep], 1);
			ct_set_role(f, ep);
			clt = ct_client_ep(f->state);
			ct_count(cnt, ep == clt ? CT_C_SYN_CLT : CT_C_SYN_SRV);
			ct_letter(f, ep, CT_L_SYN);
		}
	}

	if (p->payload)
		ct_letter(f, ep, CT_L_DATA);
	else if ((fl & (CT_TH_ACK | CT_TH_SYN | CT_TH_FIN | CT_TH_RST)) == CT_TH_ACK)
		ct_letter(f, ep, CT_L_ACK);

	if (!(st0 & CT_ST_HS_DONE))
		ct_handshake(f, ep, fl, cnt);

	/* established now: its key goes on the ring established flows are evicted from */
	old = f->state;
	if (!(old & CT_ST_ASSURED) && ct_assured(old) &&
	    !(__sync_fetch_and_or(&f->state, CT_ST_ASSURED) & CT_ST_ASSURED))
		ct_ring_push(&est_ring, &est_pos, &p->key);

	if (fl & CT_TH_FIN) {
		__sync_fetch_and_add(&f->fin[ep], 1);
		clt = ct_client_ep(f->state);
		ct_count(cnt, ep == clt ? CT_C_FIN_CLT : CT_C_FIN_SRV);
		old = ct_letter(f, ep, CT_L_FIN);
		if (!(fl & CT_TH_RST) && ct_fin_closes(old, ep))
			ct_end(f, p, ep, CT_CLOSE_GRACEFUL, cnt);
	}

	if (fl & CT_TH_RST) {
		__sync_fetch_and_add(&f->rst[ep], 1);
		clt = ct_client_ep(f->state);
		ct_count(cnt, ep == clt ? CT_C_RST_CLT : CT_C_RST_SRV);
		old = ct_letter(f, ep, CT_L_RST);
		/*
		 * The first RST decides, on the flow as it stood before this packet (a flow
		 * the RST itself created has no letters: an orphan); later ones only count.
		 */
		if (!ct_has_any(old, CT_L_RST)) {
			f->rst_ttl = p->ttl;
			ct_end(f, p, ep, ct_rst_close(st0, ep), cnt);
		}
	}
}

/*
 * Account one parsed TCP segment to its flow. Inlined: as a global function the verifier
 * would check it apart, but the call costs about 10 ns a packet; the parser's single L3
 * offset already keeps verification small.
 */
static __always_inline int ct_segment(struct ct_pkt *p, struct ct_counters *c)
{
	__u64 *cnt;
	struct ct_flow *f;
	__u32 need, st;
	int ep;

	if (!p || !c)
		return 0;
	cnt = c->c;
	ep = ct_key_canon(&p->key) & 1;
	f = bpf_map_lookup_elem(&flows, &p->key);
	if (!f) {
		f = ct_flow_new(p, ep, cnt, 0);
		if (!f)
			return 0;
	}

	/*
	 * Fast path: no SYN/FIN/RST, the handshake settled and this side's A or D letter
	 * already recorded. Non-atomic counts: a lost increment needs the same flow on two
	 * CPUs in the same instant, and these counts are informational.
	 */
	if (!(p->flags & (CT_TH_SYN | CT_TH_FIN | CT_TH_RST))) {
		st = f->state;
		need = CT_ST_HS_DONE;
		if (p->payload)
			need |= CT_ST_LETTER(ep, CT_L_DATA);
		else if (p->flags & CT_TH_ACK)
			need |= CT_ST_LETTER(ep, CT_L_ACK);
		if ((st & need) == need) {
			f->pkts[ep]++;
			f->bytes[ep] += p->payload;
			f->last_seen = ct_now_last();
			return 0;
		}
	}
	ct_control(f, p, ep, cnt);
	return 0;
}

/* The counter slot of interface @ifindex: its place among those watched, else 0. */
static __always_inline __u32 ct_slot(__u32 ifindex)
{
	/* from 1: one interface, the usual case, costs no comparison */
	for (__u32 i = 1; i < CT_MAX_IFACES && i < cfg.nifs; i++)
		if (if_index[i] == ifindex)
			return i;
	return 0;
}

static __always_inline struct ct_counters *ct_counters_get(__u32 ifindex)
{
	__u32 slot = ct_slot(ifindex);

	return bpf_map_lookup_elem(&counters, &slot);
}

static __always_inline void ct_count_evicted(const struct ct_flow_key *k, __u32 idx)
{
	struct ct_counters *c = ct_counters_get(CT_IFVLAN_IFINDEX(k->ifvlan));

	if (c)
		ct_count(c->c, idx);
}

/* Count a parsed packet and, if it is TCP, account it to its flow. */
static __always_inline void ct_account(struct ct_counters *c, enum ct_parse_res res,
				       struct ct_pkt *p, __u32 ifindex)
{
	c->c[CT_C_PACKETS]++;
	if (cfg.user_clock)
		last_result = res;
	if (p->vlan_tagged)
		c->c[CT_C_VLAN]++;
	switch (res) {
	case CT_P_TCP:
		c->c[CT_C_TCP]++;
		if (p->key.tun_type)
			ct_count(c->c, CT_C_TUN_BASE + p->key.tun_type - 1);
		p->key.ifvlan = CT_IFVLAN(ifindex, p->vlan);
		ct_segment(p, c);
		break;
	case CT_P_FRAGMENT:
		c->c[CT_C_FRAGMENT]++;
		break;
	case CT_P_OTHER:
		c->c[CT_C_OTHER]++;
		break;
	default:
		c->c[CT_C_MALFORMED]++;
		break;
	}
}

/*
 * What the XDP program does with a frame of [data, data_end) seen on @ifindex: replay's
 * in-process engine (user/kernel/inproc.c) runs the same function on each frame of a capture.
 */
static __always_inline void ct_frame(void *data, void *data_end, __u32 ifindex)
{
	struct ct_counters *c = ct_counters_get(ifindex);
	struct ct_pkt p = {};
	enum ct_parse_res res;

	if (!c)
		return;
	res = ct_parse(data, data_end, (__u32)(data_end - data), &p);
	ct_account(c, res, &p, ifindex);
}

#endif /* CT_FLOW_H */
