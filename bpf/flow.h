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
	return cfg_user_clock ? user_clock_ns : bpf_ktime_get_ns();
}

/*
 * last-seen is read on every packet and needs tick precision at most: jiffies are the
 * cheapest clock there is (a load, where the coarse clock is a helper doing seqlock work).
 */
static __always_inline __u32 ct_now_last(void)
{
	return cfg_user_clock ? user_clock_tick : (__u32)bpf_jiffies64();
}

static __always_inline void ct_count(__u64 *cnt, __u32 idx)
{
	if (idx < CT_C_MAX)
		cnt[idx]++;
}

/* Create (or, with @replace, restart) the entry of a flow; NULL when the map refuses. */
static __always_inline struct ct_flow *ct_flow_new(struct ct_pkt *p, int ep, __u64 *cnt,
						   int replace)
{
	struct ct_flow nf = {};
	__u64 now = ct_now();
	long err;

	nf.first_ns = now;
	nf.last_seen = ct_now_last();
	nf.state = ct_initial_state(ep, p->flags);
	err = bpf_map_update_elem(&flows, &p->key, &nf, replace ? BPF_ANY : BPF_NOEXIST);
	if (err == 0)
		ct_count(cnt, CT_C_FLOWS);
	else if (err != -17 /* EEXIST: another CPU created it first */) {
		ct_count(cnt, CT_C_FLOW_FAIL);
		return NULL;
	}
	return bpf_map_lookup_elem(&flows, &p->key);
}

/*
 * Record a letter. The atomic OR hands each (letter, endpoint) to exactly one packet, and
 * its return value, the letters before it, is that letter's position in the history.
 * Returns the state before the OR.
 */
static __always_inline __u32 ct_letter(struct ct_flow *f, int ep, int l, __u32 *added)
{
	__u32 bit = CT_ST_LETTER(ep, l);
	__u32 old = __sync_fetch_and_or(&f->state, bit);
	int pos;

	if (!(old & bit)) {
		*added |= bit;
		pos = ct_letter_count(old);
		if (pos < 16)
			__sync_fetch_and_or(&f->history, ct_hist_code(ep, l) << (pos * 4));
	}
	return old;
}

static __always_inline void ct_set_role(struct ct_flow *f, int client)
{
	if (!(f->state & CT_ST_ROLE))
		__sync_fetch_and_or(&f->state,
				    CT_ST_ROLE | (client == CT_EP_HI ? CT_ST_CLIENT_HI : 0));
}

static __always_inline __u64 ct_wakeup_flags(void)
{
	if (!cfg_wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Mark the flow ended with @kind; the one packet that does so counts and reports it. */
static __always_inline void ct_end(struct ct_flow *f, struct ct_pkt *p, int ep, __u8 kind,
				   __u64 now, __u64 *cnt)
{
	__u32 old = __sync_fetch_and_or(&f->state, CT_ST_ENDED);
	struct ct_event *e;

	if (old & CT_ST_ENDED)
		return;
	f->close = kind;
	f->end_ns = now;
	ct_count(cnt, CT_C_CLOSE_BASE + kind);
	if (kind == CT_CLOSE_GRACEFUL && !cfg_emit_graceful)
		return;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ct_count(cnt, CT_C_RB_FAIL);
		return;
	}
	e->ts_ns = now;
	e->key = p->key;
	e->close = kind;
	e->rst_by = ct_rst_by(old, kind, ep);
	e->client_ep = ct_client_ep(old);
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	e->flow = *f;
	e->flow.state |= CT_ST_ENDED;
	bpf_ringbuf_submit(e, ct_wakeup_flags());
}

/* The full path: SYN, SYN-ACK, FIN, RST, and the first ACK / data of each side. */
static __always_inline void ct_control(struct ct_flow *f, struct ct_pkt *p, int ep, __u64 *cnt)
{
	__u8 fl = p->flags;
	__u64 now = ct_now();
	__u32 st0 = f->state, added = 0, old;
	int clt;

	if ((fl & (CT_TH_SYN | CT_TH_ACK)) == CT_TH_SYN && (st0 & CT_ST_ENDED)) {
		/* a SYN on a 5-tuple whose flow has ended starts a new flow */
		f = ct_flow_new(p, ep, cnt, 1);
		if (!f)
			return;
		st0 = f->state;
	}

	f->pkts[ep]++;
	f->bytes[ep] += p->payload;
	f->last_seen = ct_now_last();

	if (fl & CT_TH_SYN) {
		if (fl & CT_TH_ACK) {
			__sync_fetch_and_add(&f->synack[ep], 1);
			ct_count(cnt, CT_C_SYNACK);
			ct_set_role(f, !ep);
			ct_letter(f, ep, CT_L_SYNACK, &added);
		} else {
			__sync_fetch_and_add(&f->syn[ep], 1);
			ct_count(cnt, CT_C_SYN);
			ct_set_role(f, ep);
			ct_letter(f, ep, CT_L_SYN, &added);
		}
	}

	if (p->payload)
		ct_letter(f, ep, CT_L_DATA, &added);
	else if ((fl & (CT_TH_ACK | CT_TH_SYN | CT_TH_FIN | CT_TH_RST)) == CT_TH_ACK)
		ct_letter(f, ep, CT_L_ACK, &added);

	if (!(st0 & CT_ST_HS_DONE) && (fl & (CT_TH_ACK | CT_TH_SYN)) == CT_TH_ACK) {
		old = f->state;
		clt = ct_client_ep(old);
		if (ep == clt && ct_has(old, !clt, CT_L_SYNACK)) {
			old = __sync_fetch_and_or(&f->state, CT_ST_CT | CT_ST_HS_DONE);
			if (!(old & CT_ST_CT))
				ct_count(cnt, CT_C_HANDSHAKES);
		}
	}

	if (fl & CT_TH_FIN) {
		__sync_fetch_and_add(&f->fin[ep], 1);
		clt = ct_client_ep(f->state);
		ct_count(cnt, ep == clt ? CT_C_FIN_CLT : CT_C_FIN_SRV);
		old = ct_letter(f, ep, CT_L_FIN, &added);
		if (!(fl & CT_TH_RST) && ct_fin_closes(old, ep))
			ct_end(f, p, ep, CT_CLOSE_GRACEFUL, now, cnt);
	}

	if (fl & CT_TH_RST) {
		__sync_fetch_and_add(&f->rst[ep], 1);
		clt = ct_client_ep(f->state);
		ct_count(cnt, ep == clt ? CT_C_RST_CLT : CT_C_RST_SRV);
		old = ct_letter(f, ep, CT_L_RST, &added);
		/* the first RST decides; later ones are only counted */
		if (!ct_has_any(old, CT_L_RST))
			ct_end(f, p, ep, ct_rst_close(old & ~added, ep), now, cnt);
	}
}

/* Account one parsed TCP segment to its flow. */
static __always_inline void ct_segment(struct ct_pkt *p, __u64 *cnt)
{
	struct ct_flow *f;
	__u32 need, st;
	int ep;

	ep = ct_key_canon(&p->key) & 1;
	f = bpf_map_lookup_elem(&flows, &p->key);
	if (!f) {
		f = ct_flow_new(p, ep, cnt, 0);
		if (!f)
			return;
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
			return;
		}
	}
	ct_control(f, p, ep, cnt);
}

/* Entry shared by the XDP and tc programs. @p may carry a VLAN id from metadata. */
static __always_inline void ct_handle(void *data, void *data_end, __u32 ifindex,
				      struct ct_pkt *p)
{
	__u32 zero = 0;
	struct ct_counters *c = bpf_map_lookup_elem(&counters, &zero);
	enum ct_parse_res res;

	if (!c)
		return;
	c->c[CT_C_PACKETS]++;
	res = ct_parse(data, data_end, p);
	if (p->vlan_tagged)
		c->c[CT_C_VLAN]++;
	switch (res) {
	case CT_P_TCP:
		c->c[CT_C_TCP]++;
		p->key.ifvlan = CT_IFVLAN(ifindex, p->vlan);
		ct_segment(p, c->c);
		break;
	case CT_P_FRAGMENT:
		c->c[CT_C_FRAGMENT]++;
		c->c[CT_C_OTHER]++;
		break;
	case CT_P_OTHER:
		c->c[CT_C_OTHER]++;
		break;
	default:
		c->c[CT_C_MALFORMED]++;
		break;
	}
}

#endif /* CT_FLOW_H */
